#include <catch2/catch.hpp>

#include "tools/vigil/json.h"

using vigil::shell::JsonValue;

TEST_CASE("JSON parses a Prometheus envelope", "[tools][shell][json]") {
  auto doc = JsonValue::Parse(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a\"b"},)"
      R"("value":[1700000000.123,"1.5"]}]},"warnings":["w\u00e9"]})");
  REQUIRE(doc.ok());
  CHECK(doc->StringOr("status") == "success");
  const JsonValue* data = doc->Find("data");
  REQUIRE(data != nullptr);
  const auto& result = data->Find("result")->array();
  REQUIRE(result.size() == 1);
  CHECK(result[0].Find("metric")->StringOr("job") == "a\"b");
  CHECK(result[0].Find("value")->array()[0].number() == Approx(1700000000.123));
  CHECK(doc->Find("warnings")->array()[0].str() == "w\xc3\xa9");
}

TEST_CASE("JSON keeps the spelling of 64-bit integers", "[tools][shell][json]") {
  auto doc = JsonValue::Parse(R"({"minTime":9223372036854775807,"x":-0.5e-3})");
  REQUIRE(doc.ok());
  CHECK(doc->ToString() == R"({"minTime":9223372036854775807,"x":-0.5e-3})");
}

TEST_CASE("JSON surrogate pairs and escapes round-trip", "[tools][shell][json]") {
  auto doc = JsonValue::Parse(R"(["\ud83d\ude00","tab\there","\\/\n"])");
  REQUIRE(doc.ok());
  CHECK(doc->array()[0].str() == "\xf0\x9f\x98\x80");
  CHECK(doc->ToString() == "[\"\xf0\x9f\x98\x80\",\"tab\\there\",\"\\\\/\\n\"]");
}

TEST_CASE("JSON errors name the byte offset", "[tools][shell][json]") {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {R"({"a" 1})", "offset 5: expected ':'"},
      {R"([1,2)", "offset 4: unexpected end of input in an array"},
      {R"("abc)", "unterminated string"},
      {"\"a\x01\"", "offset 2: control character in a string"},
      {R"("\ud800x")", "unpaired surrogate"},
      {R"(01)", "offset 1: unexpected data after the JSON value"},
      {R"(-)", "invalid number"},
      {R"(1.)", "digits expected after '.'"},
      {R"(tru)", "invalid literal"},
      {R"({"a":1}x)", "unexpected data after the JSON value"},
      {"", "unexpected end of input"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = JsonValue::Parse(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(c.error));
  }
}

TEST_CASE("JSON nesting is bounded", "[tools][shell][json]") {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  auto r = JsonValue::Parse(deep);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("nesting deeper than 256"));
  std::string ok(200, '[');
  ok += std::string(200, ']');
  CHECK(JsonValue::Parse(ok).ok());
}

TEST_CASE("JSON pretty printing keeps sample pairs on one line", "[tools][shell][json]") {
  auto doc = JsonValue::Parse(R"({"a":[[1,"2"]],"b":{}})");
  REQUIRE(doc.ok());
  CHECK(doc->ToString(2) == "{\n  \"a\": [\n    [1,\"2\"]\n  ],\n  \"b\": {}\n}");
}
