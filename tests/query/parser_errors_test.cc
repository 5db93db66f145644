// Parse and type errors: Prometheus' wording, 1-based line:column of where the problem starts.

#include <catch2/catch.hpp>

#include "query/parser.h"

namespace vigil::query {
namespace {

struct ErrCase {
  const char* input;
  const char* want;  // full Status message
};

void RunErrors(const ErrCase* begin, const ErrCase* end, const ParseOptions& opts) {
  for (const ErrCase* c = begin; c != end; ++c) {
    INFO("input: " << c->input);
    auto r = ParseExpr(c->input, opts);
    REQUIRE(!r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(r.status().message() == c->want);
  }
}

TEST_CASE("syntax errors", "[query][parser][errors]") {
  const ErrCase cases[] = {
      {"", "1:1: parse error: no expression found in input"},
      {"# only a comment", "1:1: parse error: no expression found in input"},
      {"1 +", "1:4: parse error: unexpected end of input"},
      {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
      {"(foo", "1:5: parse error: unclosed left parenthesis"},
      {"foo)", "1:4: parse error: unexpected right parenthesis ')'"},
      {"foo{", "1:5: parse error: unexpected end of input inside braces"},
      {"foo{a}", "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator"},
      {"foo{a=}", "1:7: parse error: unexpected \"}\" in label matching, expected string"},
      {"foo{a=b}", "1:7: parse error: unexpected identifier \"b\" in label matching, expected string"},
      {"foo{=\"b\"}", "1:5: parse error: unexpected \"=\" in label matching, expected identifier or \"}\""},
      {"foo{a=\"b\" c=\"d\"}", "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""},
      {"foo{a==\"b\"}", "1:7: parse error: unexpected \"=\" in label matching, expected string"},
      {"foo[5m", "1:7: parse error: unexpected end of input in duration expression"},
      {"foo[]", "1:5: parse error: unexpected \"]\" in subquery selector, expected duration"},
      {"foo[5m:1m:1m]", "1:10: parse error: unexpected \":\" in subquery selector, expected \"]\""},
      {"foo[5m 1m]", "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""},
      {"foo[5x]", "1:5: parse error: bad number or duration syntax: \"5\""},
      {"foo[5mm]", "1:5: parse error: bad number or duration syntax: \"5mm\""},
      {"foo[1s1h]", "1:5: parse error: not a valid duration string: \"1s1h\""},
      {"foo[1.5m]", "1:5: parse error: not a valid duration string: \"1.5m\""},
      {"foo offset", "1:11: parse error: unexpected end of input in offset, expected number or duration"},
      {"foo offset bar", "1:12: parse error: unexpected identifier \"bar\" in offset, expected number or duration"},
      {"foo @", "1:6: parse error: unexpected end of input in @, expected timestamp"},
      {"foo @ bar", "1:7: parse error: unexpected identifier \"bar\" in @, expected timestamp"},
      {"foo @ start", "1:7: parse error: unexpected \"start\" in @, expected timestamp"},
      {"sum", "1:4: parse error: unexpected end of input in aggregation"},
      {"sum by job (foo)", "1:8: parse error: unexpected identifier \"job\" in grouping opts, expected \"(\""},
      {"sum by (job foo) (x)", "1:13: parse error: unexpected identifier \"foo\" in grouping opts, expected \",\" or \")\""},
      {"sum by (a:b) (x)", "1:9: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label"},
      {"sum by (1) (x)", "1:9: parse error: unexpected number \"1\" in grouping opts, expected label"},
      {"rate(foo[5m],)", "1:13: parse error: trailing commas not allowed in function call args"},
      {"rate(foo[5m] bar)", "1:14: parse error: unexpected identifier \"bar\" in function call, expected \",\" or \")\""},
      {"a + on b", "1:8: parse error: unexpected identifier \"b\" in grouping opts, expected \"(\""},
      {"a =~ b", "1:3: parse error: unexpected character after '=': '~'"},
      {"a = b", "1:3: parse error: unexpected \"=\""},
      {"a !b", "1:3: parse error: unexpected character after '!': 'b'"},
      {"\"abc", "1:1: parse error: unterminated quoted string"},
      {"foo{a=\"\\q\"}", "1:7: parse error: unknown escape sequence U+0071 'q'"},
      {"1 + $", "1:5: parse error: unexpected character: '$'"},
      {"foo\n  + bar baz", "2:9: parse error: unexpected identifier \"baz\""},
      {"sum(\n  rate(x[5m]\n", "3:1: parse error: unclosed left parenthesis"},
      {"foo{a=~\"(\"}", "1:5: parse error: error parsing regexp: missing closing ): `(`"},
      {"foo{a=~\"*\"}", "1:5: parse error: error parsing regexp: missing argument to repetition operator: `*`"},
      {"foo offset 5m offset 1m", "1:1: parse error: offset may not be set multiple times"},
      {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
      {"foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
      {"sum(foo) offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
      {"(foo) @ 10", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
      {"(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"},
      {"foo offset 5m [10m]", "1:15: parse error: no offset modifiers allowed before range"},
      {"foo @ 10 [10m]", "1:10: parse error: no @ modifiers allowed before range"},
      {"foo(bar)", "1:1: parse error: unknown function with name \"foo\""},
      {"Rate(x[5m])", "1:1: parse error: unknown function with name \"Rate\""},
      {"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
      {"topk(foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
      {"sum(a, b)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"},
      {"foo{a=\"b\"} + {\"x\", \"y\"}", "1:14: parse error: metric name must not be set twice: \"x\" or \"y\""},
  };
  RunErrors(std::begin(cases), std::end(cases), ParseOptions::AllEnabled());
}

TEST_CASE("type errors", "[query][parser][errors]") {
  const ErrCase cases[] = {
      {"rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"},
      {"abs(foo[5m])", "1:5: parse error: expected type instant vector in call to function \"abs\", got range vector"},
      {"rate()", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 0"},
      {"time(1)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
      {"round(a, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
      {"label_join(a, \"b\")", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"},
      {"label_join(a, \"b\", \",\", 1)", "1:25: parse error: expected type string in call to function \"label_join\", got scalar"},
      {"histogram_quantile(foo, bar)", "1:20: parse error: expected type scalar in call to function \"histogram_quantile\", got instant vector"},
      {"sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"},
      {"topk(\"a\", foo)", "1:6: parse error: expected type scalar in aggregation parameter, got string"},
      {"count_values(1, foo)", "1:14: parse error: expected type string in aggregation parameter, got scalar"},
      {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
      {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
      {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
      {"foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
      {"foo and on(x) group_left bar", "1:1: parse error: no grouping allowed for \"and\" operation"},
      {"1 + on(x) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
      {"foo + fill(0) 1", "1:1: parse error: filling in missing series only allowed between instant vectors"},
      {"foo or fill(0) bar", "1:1: parse error: filling in missing series not allowed for set operators"},
      {"foo * on(a) group_left(a) bar", "1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once"},
      {"foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
      {"\"a\" + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
      {"-foo[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""},
      {"-\"a\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""},
      {"foo[5m][10m:]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
      {"\"a\"[10m:]", "1:1: parse error: subquery is only allowed on instant vector, got string instead"},
      {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{a=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{a=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{a!~\".+\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
      {"info(foo, bar)", "1:11: parse error: expected label selectors only, got vector selector instead"},
      {"info(foo, 1)", "1:1: parse error: expected type instant vector in call to function \"info\", got scalar"},
      {"deriv(foo[3m] smoothed)", "1:1: parse error: smoothed modifier can only be used with: delta, increase, rate - not with deriv"},
      {"max_over_time(foo[3m] anchored)", "1:1: parse error: anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time"},
      {"foo anchored smoothed", "1:1: parse error: anchored and smoothed modifiers cannot be used together"},
      {"foo[5m:] anchored", "1:1: parse error: anchored modifier is not supported for subqueries"},
      {"sum(foo) smoothed", "1:1: parse error: smoothed modifier not implemented"},
  };
  RunErrors(std::begin(cases), std::end(cases), ParseOptions::AllEnabled());
}

TEST_CASE("experimental features are off by default", "[query][parser][errors]") {
  const ErrCase cases[] = {
      {"limitk(1, foo)", "1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions"},
      {"limit_ratio(0.5, foo)", "1:1: parse error: limit_ratio() is experimental and must be enabled with --enable-feature=promql-experimental-functions"},
      {"mad_over_time(foo[5m])", "1:1: parse error: function \"mad_over_time\" is not enabled"},
      {"sort_by_label(foo, \"a\")", "1:1: parse error: function \"sort_by_label\" is not enabled"},
      {"foo[5m + 1m]", "1:8: parse error: unexpected <op:+> in subquery or range, expected \":\" or \"]\""},
      {"foo[step()]", "1:5: parse error: unexpected \"step\" in subquery or range, expected duration"},
      {"foo offset (5m)", "1:12: parse error: unexpected \"(\" in offset, expected number or duration"},
      {"foo[5m] anchored", "1:1: parse error: anchored modifier is experimental and not enabled"},
      {"foo smoothed", "1:1: parse error: smoothed modifier is experimental and not enabled"},
      {"a + fill(0) b", "1:1: parse error: binop fill modifiers are experimental and not enabled"},
      {"5m", "1:1: parse error: unexpected duration \"5m\""},
  };
  RunErrors(std::begin(cases), std::end(cases), ParseOptions{});
  // And the same queries parse once enabled.
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(ParseExpr(c.input, ParseOptions::AllEnabled()).ok());
  }
}

TEST_CASE("ParseError details for editors", "[query][parser][errors]") {
  ParseError err;
  auto r = ParseExpr("sum(rate(x[5m]))\n  by (job) foo", {}, &err);
  REQUIRE(!r.ok());
  CHECK(err.line == 2);
  CHECK(err.column == 12);
  CHECK(err.span.start == 28);
  CHECK(err.message == "unexpected identifier \"foo\"");
}

TEST_CASE("deep nesting is an error, not a crash", "[query][parser][errors]") {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  auto r = ParseExpr(deep);
  CHECK(r.status().message().find("nested too deeply") != std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  CHECK(ParseExpr(chain).status().message().find("nested too deeply") != std::string::npos);
  std::string unary(5000, '-');
  unary += "foo";
  CHECK(!ParseExpr(unary).ok());
  std::string ok_chain = "1";
  for (int i = 0; i < 500; ++i) ok_chain += " + 1";
  CHECK(ParseExpr(ok_chain).ok());
}

}  // namespace
}  // namespace vigil::query
