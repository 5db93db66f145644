#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "server/http/json.h"

namespace vigil::server {
namespace {

TEST_CASE("JsonWriter nests containers and escapes strings", "[server][json]") {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("a").Int(-3).Key("b").BeginArray().String("x\"\\\n\x01").Bool(true).Null();
  w.EndArray().Key("c").BeginObject().EndObject().Key("d").Double(0.1).EndObject();
  CHECK(out == R"({"a":-3,"b":["x\"\\\n\u0001",true,null],"c":{},"d":0.1})");
}

TEST_CASE("JsonWriter replaces invalid UTF-8 with U+FFFD and keeps valid sequences",
          "[server][json]") {
  std::string out;
  JsonWriter(&out).String("ok \xC3\xA9 bad \xFF end");
  CHECK(out == "\"ok \xC3\xA9 bad \xEF\xBF\xBD end\"");
}

TEST_CASE("Prometheus value and timestamp spellings", "[server][json]") {
  CHECK(FormatPromValue(1.5) == "1.5");
  CHECK(FormatPromValue(2) == "2");
  CHECK(FormatPromValue(-0.001) == "-0.001");
  CHECK(FormatPromValue(1e21) == "1000000000000000000000");
  CHECK(FormatPromValue(std::nan("")) == "NaN");
  CHECK(FormatPromValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatPromValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  auto ts = [](int64_t ms) {
    std::string s;
    AppendPromTimestamp(&s, ms);
    return s;
  };
  CHECK(ts(1435781451781) == "1435781451.781");
  CHECK(ts(1050) == "1.050");
  CHECK(ts(12000) == "12");
  CHECK(ts(0) == "0");
  CHECK(ts(-500) == "-0.500");
  CHECK(ts(-1001) == "-1.001");
}

TEST_CASE("JsonWriter writes Prometheus sample pairs in arrays", "[server][json]") {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.PromPoint(1435781451781, 1.5).PromPoint(12000, -std::numeric_limits<double>::infinity());
  w.PromPoint(-500, std::nan("")).PromPoint(0, std::numeric_limits<double>::max());
  w.EndArray();
  CHECK(out.substr(0, 72) ==
        R"([[1435781451.781,"1.5"],[12,"-Inf"],[-0.500,"NaN"],[0,"17976931348623157)");
  CHECK(out.size() == 72 - 17 + 309 + 3);  // DBL_MAX's 309 digits, then `"]]`
  CHECK(out.substr(out.size() - 3) == R"("]])");
}

TEST_CASE("JsonValue parses documents and reports the byte of an error", "[server][json]") {
  auto v = JsonValue::Parse(R"( {"s":"a\u00e9\ud83d\ude00","n":-1.5e3,"arr":[1,{"x":null}],"t":true} )");
  REQUIRE(v.ok());
  CHECK((*v)["s"].str() == "a\xC3\xA9\xF0\x9F\x98\x80");
  CHECK((*v)["n"].number() == -1500);
  CHECK((*v)["arr"].size() == 2);
  CHECK((*v)["arr"][1]["x"].is_null());
  CHECK((*v)["t"].bool_value());
  CHECK((*v)["missing"].is_null());
  CHECK(v->Dump() == R"({"s":"aé😀","n":-1500,"arr":[1,{"x":null}],"t":true})");

  auto bad = JsonValue::Parse(R"({"a":1,})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "json: expected a key at byte 7");
  CHECK_FALSE(JsonValue::Parse("[1,2").ok());
  CHECK_FALSE(JsonValue::Parse("\"abc").ok());
  CHECK_FALSE(JsonValue::Parse("{} x").ok());
  CHECK_FALSE(JsonValue::Parse(std::string(1000, '[')).ok());  // nesting bound, no stack overflow
}

}  // namespace
}  // namespace vigil::server
