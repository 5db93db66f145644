#include "query/parser.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

namespace vigil::query {
namespace {

const ParseOptions kAll = ParseOptions::AllEnabled();

// Parses with every feature enabled and returns the canonical text, or the error.
std::string Canon(std::string_view input, const ParseOptions& opts = kAll) {
  auto r = ParseExpr(input, opts);
  if (!r.ok()) return "ERROR " + r.status().message();
  return Format(**r);
}

struct Case {
  const char* input;
  const char* want;
};

void RunTable(const Case* begin, const Case* end) {
  for (const Case* c = begin; c != end; ++c) {
    INFO("input: " << c->input);
    std::string got = Canon(c->input);
    CHECK(got == c->want);
    if (got.rfind("ERROR", 0) == 0) continue;
    // Round trip: the canonical form parses to an equal tree and prints identically.
    auto a = ParseExpr(c->input, kAll);
    auto b = ParseExpr(got, kAll);
    REQUIRE(b.ok());
    CHECK(Equal(**a, **b));
    CHECK(Format(**b) == got);
  }
}

TEST_CASE("literals", "[query][parser]") {
  const Case cases[] = {
      {"1", "1"},
      {"1.5", "1.5"},
      {".5", "0.5"},
      {"5.", "5"},
      {"12.34e6", "1.234e+07"},
      {"12.34e-6", "1.234e-05"},
      {"123456", "123456"},
      {"1234567", "1.234567e+06"},
      {"0.0001", "0.0001"},
      {"0x1F", "31"},
      {"0XfF", "255"},
      {"010", "8"},  // Go's base-0 integers: a leading zero is octal
      {"09", "9"},
      {"1_000", "1000"},
      {"Inf", "+Inf"},
      {"+inF", "+Inf"},
      {"-inf", "-Inf"},
      {"NaN", "NaN"},
      {"nan", "NaN"},
      {"-1", "-1"},
      {"+1", "1"},
      {"- - 1", "1"},
      {"-0", "-0"},
      {"\"foo\"", "\"foo\""},
      {"'foo'", "\"foo\""},
      {"`a\\b`", "\"a\\\\b\""},
      {"\"a\\tb\\u00e9\\x41\\101\"", "\"a\\tbéAA\""},
      {"'\"'", "\"\\\"\""},
      {"\"\\xff\"", "\"\\xff\""},
      {"(1)", "(1)"},
      {"((\"x\"))", "((\"x\"))"},
  };
  RunTable(std::begin(cases), std::end(cases));
}

TEST_CASE("number literal values", "[query][parser]") {
  auto value = [](std::string_view s) {
    auto r = ParseExpr(s);
    REQUIRE(r.ok());
    REQUIRE((*r)->kind == ExprKind::kNumberLiteral);
    return (*r)->As<NumberLiteral>().value;
  };
  CHECK(value("12.34e+6") == 12340000);
  CHECK(value("0x10") == 16);
  CHECK(std::isinf(value("-Inf")));
  CHECK(value("-Inf") < 0);
  CHECK(std::isnan(value("NaN")));
  CHECK(value("1e400") == HUGE_VAL);
  CHECK(value("1e-400") == 0);
  CHECK((*ParseExpr("-1"))->span.start == 0);
}

TEST_CASE("selectors", "[query][parser]") {
  const Case cases[] = {
      {"foo", "foo"},
      {"foo:bar", "foo:bar"},
      {"foo{}", "foo"},
      {"foo{a=\"b\"}", "foo{a=\"b\"}"},
      {"foo{a=\"b\", c!=\"d\", e=~\"f\", g!~\"h\"}",
       "foo{a=\"b\", c!=\"d\", e=~\"f\", g!~\"h\"}"},
      {"foo{a='b',}", "foo{a=\"b\"}"},
      {"{__name__=\"foo\"}", "{__name__=\"foo\"}"},
      {"{__name__=~\"foo|bar\", job=\"x\"}", "{__name__=~\"foo|bar\", job=\"x\"}"},
      {"{\"foo\"}", "foo"},
      {"{\"metric.name\", \"label.x\"=\"v\"}", "{\"metric.name\", \"label.x\"=\"v\"}"},
      {"{\"label.x\"=\"v\", \"metric.name\"}", "{\"metric.name\", \"label.x\"=\"v\"}"},
      {"{a=\"b\"}", "{a=\"b\"}"},
      {"{a!=\"\"}", "{a!=\"\"}"},
      {"{a=~\".+\"}", "{a=~\".+\"}"},
      {"{a!~\"\"}", "{a!~\"\"}"},
      {"on", "on"},
      {"offset", "offset"},
      {"by{x=\"y\"}", "by{x=\"y\"}"},
      {"foo{offset=\"x\", by=\"y\", sum=\"z\"}", "foo{offset=\"x\", by=\"y\", sum=\"z\"}"},
      {"foo offset 5m", "foo offset 5m"},
      {"foo offset -5m", "foo offset -5m"},
      {"foo offset 90s", "foo offset 1m30s"},
      {"foo offset 1.5", "foo offset 1s500ms"},
      {"foo offset 3600", "foo offset 1h"},
      {"foo offset 1h30m", "foo offset 1h30m"},
      {"foo offset 14d", "foo offset 2w"},
      {"foo offset 13d", "foo offset 13d"},
      {"foo @ 100", "foo @ 100.000"},
      {"foo @ 1.234", "foo @ 1.234"},
      {"foo @ -100", "foo @ -100.000"},
      {"foo @ 1m40s", "foo @ 100.000"},
      {"foo @ start()", "foo @ start()"},
      {"foo @ end()", "foo @ end()"},
      {"foo @ 100 offset 5m", "foo @ 100.000 offset 5m"},
      {"foo offset 5m @ 100", "foo @ 100.000 offset 5m"},
      {"foo[5m]", "foo[5m]"},
      {"foo[300]", "foo[5m]"},
      {"foo[1.5]", "foo[1s500ms]"},
      {"foo[1h30m]", "foo[1h30m]"},
      {"foo{a=\"b\"}[5m] offset 1m @ 10", "foo{a=\"b\"}[5m] @ 10.000 offset 1m"},
      {"foo[5m] @ end() offset -1h", "foo[5m] @ end() offset -1h"},
      {"foo[5m] anchored", "foo[5m] anchored"},
      {"foo smoothed", "foo smoothed"},
      {"foo[1h:5m]", "foo[1h:5m]"},
      {"foo[1h:]", "foo[1h:]"},
      {"foo[1h:] offset 5m @ start()", "foo[1h:] @ start() offset 5m"},
      {"rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]"},
      {"(foo + bar)[5m:]", "(foo + bar)[5m:]"},
      {"foo offset 5m[10m:]", "foo offset 5m[10m:]"},
      {"sum_over_time(foo[5m:1m] @ 100)[10m:]", "sum_over_time(foo[5m:1m] @ 100.000)[10m:]"},
  };
  RunTable(std::begin(cases), std::end(cases));
}

TEST_CASE("selector trees keep matchers as triples", "[query][parser]") {
  auto r = ParseExpr("foo{a=\"b\", c=~\"d.*\"} offset -5m @ 10");
  REQUIRE(r.ok());
  const auto& vs = (*r)->As<VectorSelector>();
  CHECK(vs.name == "foo");
  REQUIRE(vs.matchers.size() == 3);
  CHECK(vs.matchers[0] == LabelMatcher{MatchType::kEqual, "a", "b"});
  CHECK(vs.matchers[1] == LabelMatcher{MatchType::kRegexMatch, "c", "d.*"});
  CHECK(vs.matchers[2] == LabelMatcher{MatchType::kEqual, "__name__", "foo"});
  CHECK(vs.mods.offset_ms == -300000);
  CHECK(vs.mods.at == AtKind::kTimestamp);
  CHECK(vs.mods.at_ms == 10000);
  CHECK(vs.type == ValueType::kVector);
  CHECK(vs.span.start == 0);
  CHECK(vs.span.end == 36);

  auto m = ParseExpr("foo[5m] offset 1m");
  REQUIRE(m.ok());
  CHECK((*m)->type == ValueType::kMatrix);
  const auto& ms = (*m)->As<MatrixSelector>();
  CHECK(ms.range_ms == 300000);
  CHECK(ms.vector_selector->As<VectorSelector>().mods.offset_ms == 60000);

  auto s = ParseExpr("foo[1h:]");
  REQUIRE(s.ok());
  CHECK((*s)->As<Subquery>().step_ms == 0);
  CHECK((*s)->As<Subquery>().range_ms == 3600000);
}

TEST_CASE("operators, precedence and associativity", "[query][parser]") {
  // Parenthesised by hand to show the tree: Format of an explicit-paren version must match
  // the structure, checked through Equal below.
  struct P {
    const char* input;
    const char* same_as;
  };
  const P cases[] = {
      {"a + b * c", "a + (b * c)"},
      {"a * b + c", "(a * b) + c"},
      {"a - b - c", "(a - b) - c"},
      {"a / b / c", "(a / b) / c"},
      {"a ^ b ^ c", "a ^ (b ^ c)"},
      {"a * b ^ c", "a * (b ^ c)"},
      {"-a ^ b", "-(a ^ b)"},
      {"-a * b", "(-a) * b"},
      {"a ^ -b", "a ^ (-b)"},
      {"a ^ -b * c", "(a ^ (-b)) * c"},
      {"a atan2 b * c", "(a atan2 b) * c"},
      {"a + b atan2 c", "a + (b atan2 c)"},
      {"a % b * c", "(a % b) * c"},
      {"a == b + c", "a == (b + c)"},
      {"a > b and c < d", "(a > b) and (c < d)"},
      {"a or b and c", "a or (b and c)"},
      {"a and b or c", "(a and b) or c"},
      {"a unless b and c", "(a unless b) and c"},
      {"a or b unless c", "a or (b unless c)"},
      {"a + b offset 5m", "a + (b offset 5m)"},
      {"-a offset 5m", "-(a offset 5m)"},
      {"-a @ 100", "-(a @ 100)"},
      {"1 - -1", "1 - (-1)"},
      {"2 ^ 3 ^ 2", "2 ^ (3 ^ 2)"},
      {"-2 ^ 2", "-(2 ^ 2)"},
      {"h </ 5 * 2", "(h </ 5) * 2"},
      {"a + h >/ 5", "a + (h >/ 5)"},
  };
  for (const auto& c : cases) {
    INFO(c.input << "  vs  " << c.same_as);
    auto a = ParseExpr(c.input);
    auto b = ParseExpr(c.same_as);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    // Strip the explicit parens of the reference by comparing printed forms without parens.
    std::string fa = Format(**a), fb = Format(**b);
    std::string stripped;
    for (char ch : fb) {
      if (ch != '(' && ch != ')') stripped += ch;
    }
    CHECK(fa == stripped);
  }
  // And the trees themselves, for a few shapes.
  auto t = ParseExpr("a - b - c");
  REQUIRE(t.ok());
  const auto& top = (*t)->As<Binary>();
  CHECK(top.op == BinaryOp::kSub);
  CHECK(top.lhs->kind == ExprKind::kBinary);
  CHECK(top.rhs->kind == ExprKind::kVectorSelector);
  auto p = ParseExpr("a ^ b ^ c");
  REQUIRE(p.ok());
  CHECK((*p)->As<Binary>().lhs->kind == ExprKind::kVectorSelector);
  CHECK((*p)->As<Binary>().rhs->kind == ExprKind::kBinary);
  auto u = ParseExpr("-a ^ b");
  REQUIRE(u.ok());
  CHECK((*u)->kind == ExprKind::kUnary);
}

TEST_CASE("binary operators and vector matching", "[query][parser]") {
  const Case cases[] = {
      {"a+b", "a + b"},
      {"a == bool b", "a == bool b"},
      {"1 == bool 2", "1 == bool 2"},
      {"a AND b", "a and b"},
      {"a Or b", "a or b"},
      {"a unless on(x) b", "a unless on(x) b"},
      {"a + on(x, y) b", "a + on(x, y) b"},
      {"a + on() b", "a + on() b"},
      {"a + ignoring(x) b", "a + ignoring(x) b"},
      {"a + ignoring() b", "a + b"},
      {"a * on(x) group_left b", "a * on(x) group_left b"},
      {"a * on(x) group_left(y, z) b", "a * on(x) group_left(y, z) b"},
      {"a * ignoring(x) group_right(y) b", "a * ignoring(x) group_right(y) b"},
      {"a > bool on(x) group_left b", "a > bool on(x) group_left b"},
      {"a + on(\"x.y\") group_left(\"a b\") b", "a + on(\"x.y\") group_left(\"a b\") b"},
      {"a + on(x,) b", "a + on(x) b"},
      {"a + fill(0) b", "a + fill(0) b"},
      {"a + fill_left(1) fill_right(-Inf) b", "a + fill_left(1) fill_right(-Inf) b"},
      {"a + on(x) group_left fill(NaN) b", "a + on(x) group_left fill(NaN) b"},
      {"fill + fill(0) fill", "fill + fill(0) fill"},
      {"a + fill", "a + fill"},
      {"a atan2 b", "a atan2 b"},
      {"a </ 2", "a </ 2"},
      {"a >/ -1", "a >/ -1"},
      {"1 + 2 * 3", "1 + 2 * 3"},
  };
  RunTable(std::begin(cases), std::end(cases));

  auto r = ParseExpr("a * on(x) group_left(y) b");
  REQUIRE(r.ok());
  const auto& b = (*r)->As<Binary>();
  REQUIRE(b.matching.has_value());
  CHECK(b.matching->card == Cardinality::kManyToOne);
  CHECK(b.matching->on);
  CHECK(b.matching->labels == std::vector<std::string>{"x"});
  CHECK(b.matching->include == std::vector<std::string>{"y"});
  auto s = ParseExpr("a and b");
  REQUIRE(s.ok());
  CHECK((*s)->As<Binary>().matching->card == Cardinality::kManyToMany);
  auto sc = ParseExpr("a + 1");
  REQUIRE(sc.ok());
  CHECK(!(*sc)->As<Binary>().matching.has_value());
  CHECK((*sc)->type == ValueType::kVector);
  CHECK((*ParseExpr("1 + 1"))->type == ValueType::kScalar);
}

TEST_CASE("aggregations and calls", "[query][parser]") {
  const Case cases[] = {
      {"sum(foo)", "sum(foo)"},
      {"SUM(foo) BY (job)", "sum by (job) (foo)"},
      {"sum by (job) (foo)", "sum by (job) (foo)"},
      {"sum without (job, instance) (foo)", "sum without (job, instance) (foo)"},
      {"sum(foo) without ()", "sum without () (foo)"},
      {"sum by () (foo)", "sum(foo)"},
      {"sum by (job,) (foo)", "sum by (job) (foo)"},
      {"sum by (on, offset, by) (foo)", "sum by (on, offset, by) (foo)"},
      {"sum by (\"label.x\") (foo)", "sum by (\"label.x\") (foo)"},
      {"avg(foo)", "avg(foo)"},
      {"count(foo)", "count(foo)"},
      {"min(foo)", "min(foo)"},
      {"max(foo)", "max(foo)"},
      {"group(foo)", "group(foo)"},
      {"stddev(foo)", "stddev(foo)"},
      {"stdvar(foo)", "stdvar(foo)"},
      {"topk(5, foo)", "topk(5, foo)"},
      {"bottomk by (x) (5, foo)", "bottomk by (x) (5, foo)"},
      {"quantile(0.9, foo)", "quantile(0.9, foo)"},
      {"count_values(\"v\", foo)", "count_values(\"v\", foo)"},
      {"limitk(2, foo)", "limitk(2, foo)"},
      {"limit_ratio(-0.5, foo)", "limit_ratio(-0.5, foo)"},
      {"topk(scalar(bar), foo)", "topk(scalar(bar), foo)"},
      {"rate(foo[5m])", "rate(foo[5m])"},
      {"time()", "time()"},
      {"pi()", "pi()"},
      {"round(foo)", "round(foo)"},
      {"round(foo, 0.5)", "round(foo, 0.5)"},
      {"hour()", "hour()"},
      {"label_join(foo, \"a\", \",\", \"b\", \"c\", \"d\")",
       "label_join(foo, \"a\", \",\", \"b\", \"c\", \"d\")"},
      {"label_replace(foo, \"a\", \"$1\", \"b\", \"(.*)\")",
       "label_replace(foo, \"a\", \"$1\", \"b\", \"(.*)\")"},
      {"histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
       "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))"},
      {"sort_by_label(foo, \"a\", \"b\")", "sort_by_label(foo, \"a\", \"b\")"},
      {"info(foo, {k=\"v\"})", "info(foo, {k=\"v\"})"},
      {"info(foo)", "info(foo)"},
      {"step() + range()", "step() + range()"},
      {"min_of(1, 2)", "min_of(1, 2)"},
      {"absent(nonexistent{job=\"x\"})", "absent(nonexistent{job=\"x\"})"},
      {"sum(rate(a[5m])) by (job) / on(job) group_left sum(b) by (job)",
       "sum by (job) (rate(a[5m])) / on(job) group_left sum by (job) (b)"},
  };
  RunTable(std::begin(cases), std::end(cases));
  auto r = ParseExpr("quantile without (a) (0.5, foo)");
  REQUIRE(r.ok());
  const auto& a = (*r)->As<Aggregate>();
  CHECK(a.op == AggregateOp::kQuantile);
  CHECK(a.without);
  CHECK(a.grouping == std::vector<std::string>{"a"});
  CHECK(a.param->kind == ExprKind::kNumberLiteral);
  auto c = ParseExpr("clamp(foo, 0, 1)");
  REQUIRE(c.ok());
  CHECK((*c)->As<Call>().func->name == "clamp");
  CHECK((*c)->As<Call>().args.size() == 3);
  CHECK((*ParseExpr("scalar(foo)"))->type == ValueType::kScalar);
}

TEST_CASE("comments and whitespace", "[query][parser]") {
  const Case cases[] = {
      {"# leading\nfoo # trailing", "foo"},
      {"sum by (job) ( # why\n  rate(x[5m]) # per second\n)", "sum by (job) (rate(x[5m]))"},
      {"\n\tfoo\n\t+\n\tbar\n", "foo + bar"},
  };
  RunTable(std::begin(cases), std::end(cases));
}

TEST_CASE("duration expressions", "[query][parser]") {
  const Case cases[] = {
      {"foo[5m + 1m]", "foo[5m + 1m]"},
      {"foo[2m * 15]", "foo[2m * 15]"},
      {"foo[(9m30s+30s)*3]", "foo[(9m30s + 30s) * 3]"},
      {"foo[-5m+35m]", "foo[-5m + 35m]"},
      {"foo[step()]", "foo[step()]"},
      {"foo[STEP() + 1]", "foo[step() + 1]"},
      {"foo[max_of(min_of(step()+1,1h),1ms)]", "foo[max_of(min_of(step() + 1, 1h), 1ms)]"},
      {"foo[29s+1s:5s+5s]", "foo[29s + 1s:5s + 5s]"},
      {"foo offset (100 + 2)", "foo offset (100 + 2)"},
      {"foo offset -(2 * 1m)", "foo offset -(2 * 1m)"},
      {"foo offset step()", "foo offset step()"},
      {"foo offset -step() * 2", "foo offset -step() * 2"},
      {"foo offset 100 + 2", "foo offset 1m40s + 2"},
      {"foo offset min_of(step(), 1s)", "foo offset min_of(step(), 1s)"},
  };
  RunTable(std::begin(cases), std::end(cases));

  auto v = [](std::string_view q) {
    auto r = ParseExpr(q, kAll);
    REQUIRE(r.ok());
    return (*r)->As<MatrixSelector>().range_ms;
  };
  CHECK(v("x[26m+4m]") == 1800000);
  CHECK(v("x[60*30]") == 1800000);
  CHECK(v("x[1h/2]") == 1800000);
  CHECK(v("x[1h30m % 1h]") == 1800000);
  CHECK(v("x[24m+((1.5*2m)+2m)]") == 1740000);
  auto off = ParseExpr("x offset (-2 ^ 2)", kAll);
  REQUIRE(off.ok());
  CHECK((*off)->As<VectorSelector>().mods.offset_ms == -4000);
  auto dyn = ParseExpr("x[step() * 2]", kAll);
  REQUIRE(dyn.ok());
  const auto& ms = (*dyn)->As<MatrixSelector>();
  REQUIRE(ms.range_expr);
  CHECK(!IsConstant(*ms.range_expr));
  CHECK(*EvalDurationExpr(*ms.range_expr, 15, 0) == 30);
  CHECK(ParseExpr("x[1m / 0]", kAll).status().message() == "1:3: parse error: division by zero");
}

}  // namespace
}  // namespace vigil::query
