#include <catch2/catch.hpp>

#include "query/ast.h"
#include "query/functions.h"
#include "query/parser.h"

namespace vigil::query {
namespace {

TEST_CASE("ParseDuration follows Prometheus' duration syntax", "[query][parser][duration]") {
  struct C {
    const char* in;
    int64_t ms;
  };
  const C ok[] = {{"0", 0},           {"0s", 0},           {"1ms", 1},
                  {"5s", 5000},       {"5m", 300000},      {"1h30m", 5400000},
                  {"2d", 172800000},  {"1w", 604800000},   {"1y", 31536000000},
                  {"1h1m1s1ms", 3661001}, {"90m", 5400000}};
  for (const auto& c : ok) {
    INFO(c.in);
    auto r = ParseDuration(c.in);
    REQUIRE(r.ok());
    CHECK(*r == c.ms);
  }
  for (const char* bad : {"", "5", "1.5m", "1s1h", "5mm", "m", "1h1h", "-5m", "1hs", "5M"}) {
    INFO(bad);
    CHECK(!ParseDuration(bad).ok());
  }
  CHECK(ParseDuration("1s1h").status().message() == "not a valid duration string: \"1s1h\"");
  CHECK(!ParseDuration("999999999999y").ok());
}

TEST_CASE("FormatDuration prints the largest units", "[query][parser][duration]") {
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(1) == "1ms");
  CHECK(FormatDuration(1500) == "1s500ms");
  CHECK(FormatDuration(90000) == "1m30s");
  CHECK(FormatDuration(5400000) == "1h30m");
  CHECK(FormatDuration(86400000) == "1d");
  CHECK(FormatDuration(7 * 86400000LL) == "1w");
  CHECK(FormatDuration(90 * 86400000LL) == "90d");  // not 12w6d
  CHECK(FormatDuration(365 * 86400000LL) == "1y");
  CHECK(FormatDuration(-300000) == "-5m");
  for (int64_t ms : {1LL, 999LL, 61001LL, 3600000LL * 25, 86400000LL * 400}) {
    auto r = ParseDuration(FormatDuration(ms));
    REQUIRE(r.ok());
    CHECK(*r == ms);
  }
}

TEST_CASE("ParseSeriesDescription reads test-script series", "[query][parser][series]") {
  auto r = ParseSeriesDescription("http_requests{job=\"api\", instance=\"0\"}");
  REQUIRE(r.ok());
  CHECK(*r == std::vector<LabelPair>{
                  {"__name__", "http_requests"}, {"instance", "0"}, {"job", "api"}});
  auto q = ParseSeriesDescription("{\"metric.name\", \"label.x\"=\"v\"}");
  REQUIRE(q.ok());
  CHECK(*q == std::vector<LabelPair>{{"__name__", "metric.name"}, {"label.x", "v"}});
  auto bare = ParseSeriesDescription("up");
  REQUIRE(bare.ok());
  CHECK(*bare == std::vector<LabelPair>{{"__name__", "up"}});
  auto no_name = ParseSeriesDescription("{a=\"1\"}");
  REQUIRE(no_name.ok());
  CHECK(*no_name == std::vector<LabelPair>{{"a", "1"}});
  CHECK(!ParseSeriesDescription("foo{a=~\"b\"}").ok());
  CHECK(!ParseSeriesDescription("foo{a=\"b\", a=\"c\"}").ok());
  CHECK(!ParseSeriesDescription("foo bar").ok());
  CHECK(!ParseSeriesDescription("foo{").ok());
  CHECK(!ParseSeriesDescription("1").ok());
}

TEST_CASE("function table", "[query][parser][functions]") {
  auto all = AllFunctions();
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  const FunctionInfo* rate = LookupFunction("rate");
  REQUIRE(rate != nullptr);
  CHECK(rate->return_type == ValueType::kVector);
  CHECK(rate->ArgTypes().size() == 1);
  CHECK(rate->arg_types[0] == ValueType::kMatrix);
  CHECK(!rate->experimental);
  CHECK(LookupFunction("mad_over_time")->experimental);
  CHECK(LookupFunction("nope") == nullptr);
  CHECK(LookupFunction("RATE") == nullptr);
  CHECK(DocumentedType(ValueType::kMatrix) == "range vector");
  // Every function parses with arguments of its declared types.
  for (const FunctionInfo& f : all) {
    std::string q = std::string(f.name) + "(";
    for (size_t i = 0; i < f.num_arg_types; ++i) {
      if (i > 0) q += ", ";
      switch (f.arg_types[i]) {
        case ValueType::kScalar: q += "1"; break;
        case ValueType::kVector: q += "x"; break;
        case ValueType::kMatrix: q += "x[5m]"; break;
        case ValueType::kString: q += "\"s\""; break;
        case ValueType::kNone: break;
      }
    }
    if (f.name == "info") q = "info(x, {a=\"b\"}";
    q += ")";
    INFO(q);
    auto r = ParseExpr(q, ParseOptions::AllEnabled());
    CHECK(r.status().message() == "");
    if (r.ok()) CHECK((*r)->type == f.return_type);
  }
}

}  // namespace
}  // namespace vigil::query
