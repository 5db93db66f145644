// Answers from the network are untrusted: malformed envelopes and results are errors, never
// crashes.
#include <catch2/catch.hpp>

#include <random>

#include "tools/vigil/api.h"
#include "tools/vigil/json.h"

using namespace vigil::shell;

TEST_CASE("Query results with the wrong shape are named errors", "[tools][shell][api]") {
  struct Case {
    const char* data;
    const char* error;
  } cases[] = {
      {R"({"resultType":"vector"})", "no \"result\" in data"},
      {R"({"resultType":"vector","result":{}})", "\"result\" is not an array"},
      {R"({"resultType":"vector","result":[{"metric":[],"value":[1,"2"]}]})",
       "\"metric\" is not an object"},
      {R"({"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]})",
       "label value of a is not a string"},
      {R"({"resultType":"vector","result":[{"metric":{},"value":[1,2]}]})",
       "a sample is not [time, \"value\"]"},
      {R"({"resultType":"matrix","result":[{"metric":{},"values":{}}]})",
       "\"values\" is not an array"},
      {R"({"resultType":"scalar","result":"1"})", "a sample is not [time, \"value\"]"},
      {R"({"resultType":"histogram","result":[]})", "unknown resultType \"histogram\""},
  };
  for (const auto& c : cases) {
    INFO(c.data);
    auto data = JsonValue::Parse(c.data);
    REQUIRE(data.ok());
    QueryResult r;
    vigil::Status st = DecodeQueryData(*data, &r);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(c.error));
  }
}

TEST_CASE("Prometheus values: NaN, infinities and decimals", "[tools][shell][api]") {
  CHECK(std::isnan(ParsePromValue("NaN")));
  CHECK(ParsePromValue("+Inf") == INFINITY);
  CHECK(ParsePromValue("-Inf") == -INFINITY);
  CHECK(ParsePromValue("1.5e+06") == 1.5e6);
  CHECK(std::isnan(ParsePromValue("garbage")));
  CHECK(FormatApiTime(1'700'000'000'123) == "1700000000.123");
  CHECK(FormatApiTime(-1) == "-1.999");
}

TEST_CASE("URLs: schemes, ports, IPv6 and path prefixes", "[tools][shell][api]") {
  auto u = Url::Parse("https://vigil.example/prometheus/");
  REQUIRE(u.ok());
  CHECK(u->tls);
  CHECK(u->port == "443");
  CHECK(u->base_path == "/prometheus");
  CHECK(u->ToString() == "https://vigil.example:443/prometheus");
  u = Url::Parse("[::1]:9201");
  REQUIRE(u.ok());
  CHECK_FALSE(u->tls);
  CHECK(u->host == "::1");
  CHECK(u->ToString() == "http://[::1]:9201");
  for (const char* bad : {"http://", "http://h:0", "http://h:99999", "http://h:12a", "ftp://h",
                          "http://u:p@h", "http://h/?q=1", "http://[::1"}) {
    INFO(bad);
    CHECK_FALSE(Url::Parse(bad).ok());
  }
  CHECK(UrlEncode("sum(x{a=\"b c\"})") == "sum%28x%7Ba%3D%22b%20c%22%7D%29");
}

TEST_CASE("Mutated JSON never crashes the parser or the decoder", "[tools][shell][json]") {
  const std::string seed =
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up",)"
      R"("job":"a\u00e9"},"values":[[1700000000.5,"1"],[1700000060,"NaN"]]}]},"warnings":["w"]})";
  std::mt19937 rng(42);
  const char alphabet[] = "{}[]\",:\\u0123456789.eE+-tfn \x01\xff";
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seed;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = alphabet[rng() % (sizeof alphabet - 1)];
          break;
        case 1:
          s = s.substr(0, pos) + s.substr(std::min(s.size(), pos + 1 + rng() % 8));
          break;
        default:
          s = s.substr(0, pos) + alphabet[rng() % (sizeof alphabet - 1)] + s.substr(pos);
          break;
      }
      if (s.empty()) s = "x";
    }
    auto doc = JsonValue::Parse(s);
    if (!doc.ok()) continue;
    ++parsed;
    if (const JsonValue* data = doc->Find("data")) {
      QueryResult r;
      DecodeQueryData(*data, &r).IgnoreError();
    }
    CHECK(JsonValue::Parse(doc->ToString()).ok());  // what we write, we read back
  }
  CHECK(parsed > 100);  // the mutations also produce valid documents
}
