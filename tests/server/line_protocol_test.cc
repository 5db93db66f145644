// Influx line protocol: syntax, escaping, precision, mapping and errors (exact text).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using namespace std::string_literals;
using testing::TestDb;
using testing::TestSample;

struct Parsed {
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, std::string>> fields;  // key, text
  std::vector<double> values;
  bool has_ts = false;
  int64_t ts = 0;
};

// Parses a one-line body; fails the test on a parse error.
Parsed ParseOne(const std::string& body) {
  LineProtocolParser p(body);
  auto ev = p.Next();
  INFO(body);
  INFO(p.error().ToString());
  REQUIRE(ev == LineProtocolParser::Event::kLine);
  Parsed out;
  out.measurement = std::string(p.line().measurement);
  for (const auto& t : p.line().tags) out.tags.emplace_back(t.key, t.value);
  for (const auto& f : p.line().fields) {
    out.fields.emplace_back(f.key, f.text);
    out.values.push_back(f.value);
  }
  out.has_ts = p.line().has_timestamp;
  out.ts = p.line().timestamp;
  CHECK(p.Next() == LineProtocolParser::Event::kEnd);
  return out;
}

std::string ParseError(const std::string& body) {
  LineProtocolParser p(body);
  auto ev = p.Next();
  INFO(body);
  REQUIRE(ev == LineProtocolParser::Event::kError);
  return p.error().ToString();
}

TEST_CASE("line protocol: escaping rules", "[server][line_protocol]") {
  SECTION("measurement: comma and space; equals is literal") {
    Parsed p = ParseOne(R"(my\,meas\ ure=x f=1)");
    CHECK(p.measurement == "my,meas ure=x");
  }
  SECTION("measurement: backslash escapes itself, other backslashes are literal") {
    CHECK(ParseOne(R"(a\\b f=1)").measurement == R"(a\b)");
    CHECK(ParseOne(R"(a\xb f=1)").measurement == R"(a\xb)");
  }
  SECTION("tag keys and values: comma, equals, space") {
    Parsed p = ParseOne(R"(m,t\,a\=g\ k=v\,a\=l\ ue,b=c f=1)");
    REQUIRE(p.tags.size() == 2);
    CHECK(p.tags[0].first == "t,a=g k");
    CHECK(p.tags[0].second == "v,a=l ue");
    CHECK(p.tags[1] == std::pair<std::string, std::string>{"b", "c"});
  }
  SECTION("field keys: comma, equals, space") {
    Parsed p = ParseOne(R"(m f\,i\=e\ ld=1,g=2)");
    CHECK(p.fields[0].first == "f,i=e ld");
    CHECK(p.fields[1].first == "g");
  }
  SECTION("string field values: quote and backslash; commas and spaces need nothing") {
    Parsed p = ParseOne(R"(m s="a \"q\" b\\c, d=e \n",g=1)");
    CHECK(p.fields[0].second == R"(a "q" b\c, d=e \n)");
    CHECK(p.values[1] == 1);
  }
  SECTION("string values may span lines") {
    LineProtocolParser p("m s=\"a\nb\" 5\nn f=1\n");
    REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
    CHECK(p.line().fields[0].text == "a\nb");
    CHECK(p.line().timestamp == 5);
    REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
    CHECK(p.line().line_number == 3);
  }
}

TEST_CASE("line protocol: field types", "[server][line_protocol]") {
  Parsed p = ParseOne(
      "m a=1,b=-1.5,c=.5,d=1e3,e=+2.5E-1,f=5.,g=-12i,h=9223372036854775807i,i=18446744073709551615u,"
      "j=0u,k=t,l=T,m=true,n=True,o=TRUE,p=f,q=F,r=false,s=False,t=FALSE 1");
  const std::vector<double> want = {1, -1.5, 0.5, 1000, 0.25, 5, -12, 9223372036854775807.0,
                                    18446744073709551615.0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
  CHECK(p.values == want);
  CHECK(p.has_ts);
  CHECK(p.ts == 1);

  CHECK(ParseError("m f=9223372036854775808i") ==
        R"(line 1, column 5: integer "9223372036854775808i" of field "f" is out of the int64 range)");
  CHECK(ParseError("m f=-1u") ==
        R"(line 1, column 5: invalid unsigned integer "-1u" for field "f")");
  CHECK(ParseError("m f=1e999") ==
        R"(line 1, column 5: float "1e999" of field "f" is out of the float64 range)");
  for (const char* bad : {"inf", "nan", "NaN", "0x10", "1.2.3", "tru", "yes", "1_000", "i"}) {
    INFO(bad);
    CHECK(ParseError("m f="s + bad).find("invalid ") != std::string::npos);
  }
  CHECK(ParseError("m f=abc") ==
        R"(line 1, column 5: invalid field value "abc" for field "f" (expected a float, an integer )"
        R"(with suffix i, an unsigned with suffix u, a boolean or a double-quoted string))");
}

TEST_CASE("line protocol: syntax errors name line and column", "[server][line_protocol]") {
  CHECK(ParseError("m") == "line 1, column 2: missing fields");
  CHECK(ParseError("m ") == "line 1, column 3: missing fields");
  CHECK(ParseError(" ,t=1 f=1") == "line 1, column 2: missing measurement");
  CHECK(ParseError("m,t f=1") == R"(line 1, column 4: expected '=' after tag key "t")");
  CHECK(ParseError("m,t= f=1") == R"(line 1, column 5: missing value for tag key "t")");
  CHECK(ParseError("m, f=1") == "line 1, column 3: missing tag key");
  CHECK(ParseError("m f") == R"(line 1, column 4: expected '=' after field key "f")");
  CHECK(ParseError("m f=") == R"(line 1, column 5: missing value for field "f")");
  CHECK(ParseError("m =1") == "line 1, column 3: missing field key");
  CHECK(ParseError("m f=1,") == "line 1, column 7: missing field key");
  CHECK(ParseError("m f=\"abc") == R"(line 1, column 5: unterminated string value for field "f")");
  CHECK(ParseError("m f=1 12x") == R"(line 1, column 7: invalid timestamp "12x")");
  CHECK(ParseError("m f=1 99999999999999999999") ==
        R"(line 1, column 7: timestamp "99999999999999999999" is out of the int64 range)");
  CHECK(ParseError("m f=1 1 2") == R"(line 1, column 9: unexpected "2" after the timestamp)");
  LineProtocolParser small("m f=1\nmmmmmmmmmmmmmmmmmmmm f=1\nn f=2", 10);
  CHECK(small.Next() == LineProtocolParser::Event::kLine);
  CHECK(small.Next() == LineProtocolParser::Event::kError);
  CHECK(small.error().ToString() == "line 2, column 1: line of 24 bytes exceeds the limit of 10 bytes");
  REQUIRE(small.Next() == LineProtocolParser::Event::kLine);
  CHECK(small.line().line_number == 3);
}

TEST_CASE("line protocol: blank lines, comments, CRLF, whitespace", "[server][line_protocol]") {
  LineProtocolParser p("# comment\n\n   \ncpu f=1 10\r\n  \tmem f=2   20  \r\n#x y=1\nz f=3");
  REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
  CHECK(p.line().line_number == 4);
  CHECK(p.line().timestamp == 10);
  REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
  CHECK(p.line().measurement == "mem");
  CHECK(p.line().timestamp == 20);
  CHECK(p.line().line_number == 5);
  REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
  CHECK(p.line().line_number == 7);
  CHECK_FALSE(p.line().has_timestamp);
  CHECK(p.Next() == LineProtocolParser::Event::kEnd);
}

TEST_CASE("line protocol: precision", "[server][line_protocol]") {
  struct Case {
    const char* param;
    int64_t ts;
    int64_t want_ms;
  };
  const std::vector<Case> cases = {
      {"", 1700000000999999999, 1700000000999}, {"ns", -1, -1},
      {"n", 1500000, 1},                         {"us", 1700000000999999, 1700000000999},
      {"u", -1500, -2},                          {"ms", 1700000000123, 1700000000123},
      {"s", 1700000000, 1700000000000},          {"m", 2, 120000},
      {"h", 1, 3600000},                         {"\xc2\xb5", 1000, 1},
  };
  for (const Case& c : cases) {
    INFO(c.param);
    TestDb t;
    auto prec = ParsePrecision(c.param);
    REQUIRE(prec.ok());
    IngestOutcome out =
        IngestLineProtocol(t.db(), "m f=1 " + std::to_string(c.ts) + "\n", *prec);
    INFO(out.message);
    REQUIRE(out.ok());
    CHECK(t.Read("m_f") == std::vector<TestSample>{{c.want_ms, 1}});
  }
  CHECK(ParsePrecision("sec").status().message() ==
        R"(invalid precision "sec": expected one of ns, us, ms, s (or n, u, m, h))");
  TestDb t;
  IngestOutcome out = IngestLineProtocol(t.db(), "m f=1 9223372036854776\n", Precision::kSeconds);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.message == "line 1: timestamp 9223372036854776 does not fit int64 milliseconds");
}

TEST_CASE("line protocol: missing timestamp is the server's time", "[server][line_protocol]") {
  TestDb t;
  t.clock().SetMillis(1'800'000'000'123);
  IngestOptions o;
  o.clock = &t.clock();
  REQUIRE(IngestLineProtocol(t.db(), "m f=1\nm g=2", Precision::kNanoseconds, o).ok());
  CHECK(t.Read("m_f") == std::vector<TestSample>{{1'800'000'000'123, 1}});
  CHECK(t.Read("m_g") == std::vector<TestSample>{{1'800'000'000'123, 2}});
}

TEST_CASE("line protocol: mapping to series", "[server][line_protocol]") {
  TestDb t;
  IngestOutcome out = IngestLineProtocol(
      t.db(),
      "weather,location=us-mid\\ west,season=summer temperature=82,value=1.5,ok=t 1465839830100\n"
      "cpu-load,host.name=a,9zone=é 5m=1,value=2u 1000\n",
      Precision::kMilliseconds);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(out.samples_written == 5);
  CHECK(t.AllSeries() == std::vector<std::string>{
                             R"(cpu_load__5m{_9zone="é",host_name="a"})",
                             R"(cpu_load{_9zone="é",host_name="a"})",
                             R"(weather_ok{location="us-mid west",season="summer"})",
                             R"(weather_temperature{location="us-mid west",season="summer"})",
                             R"(weather{location="us-mid west",season="summer"})",
                         });
}

TEST_CASE("line protocol: bad lines are named, good lines are written",
          "[server][line_protocol]") {
  TestDb t;
  REQUIRE(IngestLineProtocol(t.db(), "early f=1 1000\n", Precision::kMilliseconds).ok());
  const std::string body =
      "good,h=a f=1 2000\n"
      "bad f 2000\n"
      " ,x=1 f=1\n"
      "log,h=a msg=\"disk full\",level=3i 2000\n"
      "m,__name__=x f=1 2000\n"
      "m,a-b=1,a_b=2 f=1 2000\n"
      "m,b=\xff f=1 2000\n"
      "early f=2 1000\n"
      "good,h=b f=2 2000\n";
  IngestOutcome out = IngestLineProtocol(t.db(), body, Precision::kMilliseconds);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.http_status() == 400);
  CHECK(out.samples_written == 2);
  CHECK(out.series_seen == 9);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kMalformed)] == 2);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kStringField)] == 2);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kInvalidLabels)] == 3);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kDuplicateTimestamp)] == 1);
  CHECK(out.message ==
        R"(line 2, column 6: expected '=' after field key "f"; )"
        R"(line 3, column 2: missing measurement; )"
        R"(line 4: field "msg" of measurement "log" is a string; Vigil stores numbers only, so the line was not written; )"
        R"(line 5: tag key "__name__" is reserved for the metric name; )"
        R"(line 6: duplicate label name "a_b" (values "1" and "2"))"
        " (and 2 more errors)");
  CHECK(t.Read("good_f{h=\"a\"}") == std::vector<TestSample>{{2000, 1}});
  CHECK(t.Read("good_f{h=\"b\"}") == std::vector<TestSample>{{2000, 2}});
  CHECK(t.Read("early_f") == std::vector<TestSample>{{1000, 1}});
  CHECK(t.Read("log_level{h=\"a\"}").empty());
}

TEST_CASE("line protocol: limits", "[server][line_protocol]") {
  TestDb t;
  IngestOptions o;
  o.max_decoded_bytes = 8;
  IngestOutcome out = IngestLineProtocol(t.db(), "m f=1 1000\n", Precision::kMilliseconds, o);
  CHECK(out.code == IngestCode::kTooLarge);
  CHECK(out.http_status() == 413);
  CHECK(out.message == "nothing was written: body of 11 bytes exceeds the limit of 8 bytes");
  o = IngestOptions();
  o.max_labels_per_series = 3;
  out = IngestLineProtocol(t.db(), "m,a=1,b=2,c=3 f=1 1000\nm,a=1 f=1 1000", Precision::kMilliseconds, o);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.samples_written == 1);
  CHECK(out.message == "line 1: 4 labels exceed the limit of 3");
  IngestLimiter limiter(10);
  REQUIRE(limiter.TryAcquire(5));
  o = IngestOptions();
  o.limiter = &limiter;
  out = IngestLineProtocol(t.db(), "m f=1 1000\n", Precision::kMilliseconds, o);
  CHECK(out.code == IngestCode::kOverloaded);
  limiter.Release(5);
  CHECK(IngestLineProtocol(t.db(), "n f=1 1000\n", Precision::kMilliseconds, o).ok());
  CHECK(limiter.inflight() == 0);
}

}  // namespace
}  // namespace vigil::server::ingest
