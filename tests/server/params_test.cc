#include <catch2/catch.hpp>

#include "server/api/params.h"

namespace vigil::server {
namespace {

TEST_CASE("API times: float seconds and RFC 3339", "[server][params]") {
  CHECK(*ParseApiTime("4") == 4000);
  CHECK(*ParseApiTime("1435781451.781") == 1435781451781);
  CHECK(*ParseApiTime("1435781451.7815") == 1435781451782);  // rounded to ms
  CHECK(*ParseApiTime("-1.5") == -1500);
  CHECK(*ParseApiTime("1e3") == 1000000);
  CHECK(*ParseApiTime("2015-07-01T20:10:51.781Z") == 1435781451781);
  CHECK(*ParseApiTime("2015-07-01T22:10:51.781+02:00") == 1435781451781);
  CHECK(*ParseApiTime("2015-07-01T20:10:51Z") == 1435781451000);
  CHECK(*ParseApiTime("2015-07-01T20:10:51.123456789Z") == 1435781451123);
  CHECK(*ParseApiTime("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseApiTime("2024-02-29T00:00:00Z") == 1709164800000);
  CHECK(*ParseApiTime("-292273086-05-16T16:47:06Z") == kApiMinTime);
  CHECK(*ParseApiTime("292277025-08-18T07:12:54.999999999Z") == kApiMaxTime);
  CHECK(*ParseApiTime("1e300") == kApiMaxTime);  // clamped: end - start never overflows
  CHECK(*ParseApiTime("-1e300") == kApiMinTime);
  for (const char* bad : {"", "abc", "NaN", "Inf", "2015-07-01", "2015-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2015-07-01T20:10:51", "2015-07-01T20:10:51.Z"}) {
    auto r = ParseApiTime(bad);
    CAPTURE(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "cannot parse \"" + std::string(bad) + "\" to a valid timestamp");
  }
}

TEST_CASE("API durations: float seconds and PromQL durations", "[server][params]") {
  CHECK(*ParseApiDuration("15") == 15000);
  CHECK(*ParseApiDuration("0.5") == 500);
  CHECK(*ParseApiDuration("1m30s") == 90000);
  CHECK(*ParseApiDuration("250ms") == 250);
  CHECK(*ParseApiDuration("0") == 0);
  auto r = ParseApiDuration("1x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "cannot parse \"1x\" to a valid duration");
  CHECK_FALSE(ParseApiDuration("1e300").ok());
}

TEST_CASE("RFC 3339 formatting", "[server][params]") {
  CHECK(FormatRfc3339(1435781451781) == "2015-07-01T20:10:51.781Z");
  CHECK(FormatRfc3339(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("match[] parameters become storage matchers", "[server][params]") {
  HttpRequest req;
  req.params = {{"match[]", "up{job=~\"a|b\"}"}, {"match[]", "{__name__=\"x\", i!=\"1\"}"}};
  auto sets = MatchParams(req);
  REQUIRE(sets.ok());
  REQUIRE(sets->size() == 2);
  CHECK((*sets)[0].size() == 2);
  CHECK((*sets)[1][1].ToString() == "i!=\"1\"");

  req.params = {{"match[]", "up + 1"}};
  auto bad = MatchParams(req);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "invalid parameter \"match[]\": \"up + 1\" is not a series selector");
  req.params = {{"match[]", "{a=\"\"}"}};
  bad = MatchParams(req);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().starts_with("invalid parameter \"match[]\": 1:1: parse error: "));
}

TEST_CASE("Form decoding", "[server][params]") {
  ParamList out;
  std::string err;
  REQUIRE(ParseFormEncoded("query=1%2B1&time=4&&flag&a+b=c+d", &out, &err));
  REQUIRE(out.size() == 4);
  CHECK(out[0] == std::pair<std::string, std::string>("query", "1+1"));
  CHECK(out[2] == std::pair<std::string, std::string>("flag", ""));
  CHECK(out[3] == std::pair<std::string, std::string>("a b", "c d"));
  CHECK_FALSE(ParseFormEncoded("a=%zz", &out, &err));
  CHECK(err == "invalid URL escape in form value \"a=%zz\"");
  CHECK_FALSE(ParseFormEncoded("a=%2", &out, &err));
  CHECK(UrlEncode("a b+c/{}") == "a%20b%2Bc%2F%7B%7D");
}

}  // namespace
}  // namespace vigil::server
