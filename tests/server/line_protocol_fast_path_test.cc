// The line-protocol fast paths against the plain ones: deferred tags (LineProtocolParser::
// set_defer_tags) against the eager parse, ingest through SeriesRefCache hits against ingest
// without a cache, the decimal and timestamp fast paths against std::from_chars, and the cache's
// two-part line keys against whole keys.

#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "server/ingest/series_cache.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using namespace std::string_literals;
using testing::TestDb;

std::string Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return std::to_string(b);
}

// Every event of a body, spelled out; with `defer`, tags are split by ParseTags() (whose error
// makes the line an error, as IngestLineProtocol treats it).
std::vector<std::string> Events(const std::string& body, bool defer) {
  LineProtocolParser p(body);
  p.set_defer_tags(defer);
  std::vector<std::string> out;
  while (true) {
    const auto ev = p.Next();
    if (ev == LineProtocolParser::Event::kEnd) break;
    if (ev == LineProtocolParser::Event::kLine && defer) {
      CHECK(p.line().tags_deferred);
      CHECK(p.line().tags.empty());
      if (!p.ParseTags()) {
        out.push_back("error " + p.error().ToString());
        continue;
      }
    }
    if (ev == LineProtocolParser::Event::kError) {
      out.push_back("error " + p.error().ToString());
      continue;
    }
    const ParsedLine& l = p.line();
    CHECK_FALSE(l.tags_deferred);
    std::string s = "line " + std::to_string(l.line_number) + " key[" + std::string(l.series_key) +
                    "] m[" + std::string(l.measurement) + "]";
    for (const LineTag& t : l.tags)
      s += " t[" + std::string(t.key) + "=" + std::string(t.value) + "]";
    for (const LineField& f : l.fields) {
      s += " f[" + std::string(f.key) + ":" + std::to_string(static_cast<int>(f.kind)) + ":" +
           std::string(f.text) + ":" + Bits(f.value) + "]";
    }
    if (l.has_timestamp) s += " ts " + std::to_string(l.timestamp);
    out.push_back(s);
  }
  return out;
}

const std::vector<std::string> kTrickyBodies = {
    "cpu,host=a usage=1 5\n",
    R"(my\,meas\ ure=x,t\ k\=1=v\,a\=l\ ue f\ 1\=x=1,f2="s\"q" 7)",
    R"(m\=,a=b f=1)",                      // "\=" is literal in a measurement
    "m,a=b\\\nc f=1\n",                    // backslash before a newline: not an escape
    "m,a=b\\",                             // backslash at the end of the body
    "m,a=b\\ ",                            // escaped space, then the end: no fields
    "m,a=b\\\\ f=1 3\n",                   // escaped backslash, then the key ends
    "m,b=2,a=1 f=1 3\nm,a=1,b=2 f=1 4\n",  // unsorted tags: two keys, one series
    "m,a=1,a=2 f=1\n",                     // duplicate tags (rejected when mapped, parse fine)
    ",a=1 f=1\n",                          // missing measurement
    "m,=1 f=1\n",
    "m,a f=1\n",
    "m,a= f=1\n",
    "m,a=1, f=1\n",
    "m,a=1 \n",
    "m,a=1\n",
    "m,a=1 f=\n",
    "m,a=1 f=x\n",
    "m,a f=x\n",  // tag error and field error: the tag's is first
    ",a f=\"unterminated\n",
    "m,a=1 f=1 12a\n",
    "m,a f=1 12a\n",
    "m,a=1 f=1 1 2\n",
    "m,a=1 f=1i,g=2u,h=t,k=FALSE,s=\"x\ny\" -5\nn f=1\n",
    "  m,a=1   f=1    9  \r\n# comment\n\n\tm2 f=-0.0\n",
    "m,a=1 f=1 9223372036854775807\nm f=1 -9223372036854775808\nm f=1 9223372036854775808\n",
    "m f=1 999999999999999999\nm f=1 1000000000000000000\nm f=1 -\nm f=1 -0\nm f=1 +5\n",
    "m,a=\xff\xfe f=1\n",
    // A bad key and a string over several lines: parsing resumes on the line after the error.
    ",a=1 f=\"x\ny\" 1\nm f=1\n", "m,a f=\"x\ny\nz\" 1\nm f=2\n", ",a=1 f=\"x\ny\" 1",
    "m,a=1 f=1\nm,a=1 f=1 1\n" + std::string(40, 'x') + ",k=" + std::string(40, 'v') + " f=2 3",
};

TEST_CASE("line protocol fast path: deferred tags parse exactly as eager ones",
          "[server][line_protocol]") {
  for (const std::string& body : kTrickyBodies) {
    INFO(body);
    CHECK(Events(body, true) == Events(body, false));
  }
}

TEST_CASE("line protocol fast path: deferred tags on random bodies", "[server][line_protocol]") {
  // Bytes that mean something to the grammar, and a few that do not.
  static constexpr char kAlphabet[] = "ab1.=, \\\"\n\t\r#-itfe9";
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    const size_t len = rng() % 64;
    // Half of the bodies start from a valid line, so that more of them get past the key.
    if (i % 2 == 0) body = "m,k=v f=1 ";
    for (size_t j = 0; j < len; ++j) body.push_back(kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
    INFO(i << ": " << body);
    REQUIRE(Events(body, true) == Events(body, false));
  }
}

TEST_CASE("line protocol fast path: decimals give the double std::from_chars gives",
          "[server][line_protocol]") {
  std::mt19937_64 rng(11);
  std::vector<std::string> tokens = {"0",
                                     "-0",
                                     "+5",
                                     "1.",
                                     ".5",
                                     "00012.500",
                                     "0.1",
                                     "0.3",
                                     "1e5",
                                     "123456789012345",
                                     "1234567890123456",
                                     "9007199254740993",
                                     "0.000000000000001",
                                     "-99.99",
                                     "+0.25",
                                     "7.0"};
  for (int i = 0; i < 5000; ++i) {
    std::string t;
    if (rng() % 3 == 0) t.push_back(rng() % 2 ? '-' : '+');
    const int int_digits = 1 + static_cast<int>(rng() % 17);
    for (int d = 0; d < int_digits; ++d) t.push_back(static_cast<char>('0' + rng() % 10));
    if (rng() % 4 != 0) {
      t.push_back('.');
      const int frac_digits = 1 + static_cast<int>(rng() % 17);
      for (int d = 0; d < frac_digits; ++d) t.push_back(static_cast<char>('0' + rng() % 10));
    }
    tokens.push_back(t);
  }
  for (const std::string& t : tokens) {
    INFO(t);
    const std::string body = "m f=" + t + "\n";
    LineProtocolParser p(body);
    REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
    const char* b = t.data() + (t[0] == '+' ? 1 : 0);
    double want;
    auto [ptr, ec] = std::from_chars(b, t.data() + t.size(), want, std::chars_format::general);
    REQUIRE(ec == std::errc());
    REQUIRE(ptr == t.data() + t.size());
    CHECK(Bits(p.line().fields[0].value) == Bits(want));
  }
}

TEST_CASE("line protocol fast path: timestamps as std::from_chars reads them",
          "[server][line_protocol]") {
  for (const std::string t : {"0", "-0", "1", "-1", "1700000000000", "999999999999999999",
                              "-999999999999999999", "1000000000000000000", "9223372036854775807",
                              "-9223372036854775808", "0000000000000000000000001"}) {
    INFO(t);
    const std::string body = "m f=1 " + t + "\n";
    LineProtocolParser p(body);
    REQUIRE(p.Next() == LineProtocolParser::Event::kLine);
    int64_t want;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), want);
    REQUIRE(ec == std::errc());
    CHECK(p.line().timestamp == want);
  }
  for (const std::string t :
       {"9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
    const std::string body = "m f=1 " + t;
    LineProtocolParser p(body);
    REQUIRE(p.Next() == LineProtocolParser::Event::kError);
    CHECK(p.error().message == "timestamp \"" + t + "\" is out of the int64 range");
  }
  for (const std::string t : {"-", "12a", "1-2", "+5", "0x10"}) {
    const std::string body = "m f=1 " + t;
    LineProtocolParser p(body);
    REQUIRE(p.Next() == LineProtocolParser::Event::kError);
    CHECK(p.error().message == "invalid timestamp \"" + t + "\"");
  }
}

TEST_CASE("line protocol fast path: the line length limit, checked after the parse",
          "[server][line_protocol]") {
  const std::string body =
      "m f=1\n"                  // line 1: 5 bytes
      "m,a=aaaa f=1\n"           // line 2: 12 bytes, the limit
      "m,a=aaaaa f=1\n"          // line 3: 13 bytes, valid but too long
      "m,a=aaaaaa f=\n"          // line 4: 13 bytes, invalid and too long
      "# a comment longer than the limit\n"
      "m s=\"a\nb\" 1\n"          // lines 6-7: a string over two lines, short first line
      "m s=\"aaaaaaaaaaa\nb\" 1\n"  // lines 8-9: a first physical line of 16 bytes
      "\r\n"
      "m,a=aaaaaaaaaaa f=1";      // line 11: too long, at the end of the body
  for (bool defer : {false, true}) {
    LineProtocolParser p(body, 12);
    p.set_defer_tags(defer);
    std::vector<std::string> got;
    while (true) {
      auto ev = p.Next();
      if (ev == LineProtocolParser::Event::kEnd) break;
      if (ev == LineProtocolParser::Event::kLine && !p.ParseTags()) {
        ev = LineProtocolParser::Event::kError;
      }
      got.push_back(ev == LineProtocolParser::Event::kLine
                        ? "line " + std::to_string(p.line().line_number)
                        : p.error().ToString());
    }
    CHECK(got == std::vector<std::string>{
                     "line 1",
                     "line 2",
                     "line 3, column 1: line of 13 bytes exceeds the limit of 12 bytes",
                     "line 4, column 1: line of 13 bytes exceeds the limit of 12 bytes",
                     "line 6",
                     "line 8, column 1: line of 16 bytes exceeds the limit of 12 bytes",
                     R"(line 9, column 5: expected '=' after field key "1")",
                     "line 11, column 1: line of 19 bytes exceeds the limit of 12 bytes",
                 });
  }
}

// Ingests `body` (with {T} replaced by the step's timestamp) at several steps into one Db with a
// cache and one without; every outcome and every series must agree, and later steps must hit.
void CheckCachedIngestAgrees(const std::string& body_template, Precision precision) {
  INFO(body_template);
  TestDb with, without;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  o.max_labels_per_series = 6;
  IngestOptions plain;
  plain.max_labels_per_series = 6;
  for (int step = 1; step <= 3; ++step) {
    std::string body = body_template;
    for (size_t at; (at = body.find("{T}")) != std::string::npos;) {
      body.replace(at, 3, std::to_string(1000 * step));
    }
    const IngestOutcome a = IngestLineProtocol(with.db(), body, precision, o);
    const IngestOutcome b = IngestLineProtocol(without.db(), body, precision, plain);
    CHECK(a.code == b.code);
    CHECK(a.message == b.message);
    CHECK(a.samples_written == b.samples_written);
    CHECK(a.series_seen == b.series_seen);
    CHECK(a.rejected == b.rejected);
  }
  const std::vector<std::string> series = with.AllSeries();
  CHECK(series == without.AllSeries());
  for (const std::string& s : series) CHECK(with.Read(s) == without.Read(s));
  if (!series.empty()) CHECK(cache.stats().hits > 0);
}

TEST_CASE("line protocol fast path: cache hits write the series the slow path writes",
          "[server][line_protocol][series_cache]") {
  for (const std::string& body : {
           "cpu,host=a,dc=x usage_user=1,usage_idle=2.5 {T}\n"s,
           // Escapes in every token; unsorted tags: both spellings are one series.
           R"(my\,m\ x,t\ k\=1=v\,a\=l\ ue,b=2 f\ 1\=x=1,value=3 {T})"
           "\n"
           R"(my\,m\ x,b=2,t\ k\=1=v\,a\=l\ ue value=4 {T})"
           "\n"s,
           // Duplicate and reserved tags, sanitised collisions, too many labels: rejected,
           // never cached, rejected again.
           "m,a=1,a=2 f=1 {T}\nm,__name__=x f=1 {T}\nm,a-b=1,a_b=2 f=1 {T}\nok f=1 {T}\n"s,
           "m,a=1,b=2,c=3,d=4,e=5,f=6 f=1 {T}\nm,a=1 f=1 {T}\n"s,
           // Malformed tags together with other errors: the tag error is the line's error.
           "m,a f=\"s\" {T}\nm,a f=1 99999999999999999\nm,a f=1 {T}\nm,b=1 f=1 {T}\n"s,
           // String fields with good tags, integer / unsigned / boolean fields.
           "log,app=x msg=\"hello\",n=1i {T}\nm,a=1 i=-5i,u=7u,b=true,f=FALSE {T}\n"s,
           // One series line after line (the remembered previous line), then another field set
           // and another series, then the first again.
           "s,a=1 v=1 {T}1\ns,a=1 v=2 {T}2\ns,a=1 v=3 {T}3\ns,a=1 v=4,w=1 {T}4\ns,a=2 v=5 {T}5\n"
           "s,a=1 v=6 {T}6\ns,a=1 v=7 {T}6\ns,a=1 v=\"x\" {T}7\ns,a=1 v=8 {T}8\n"
           "s,a=1 v\\ x=9 {T}9\ns,a=1 v\\ x=10 {T}9\n"s,
           // A series key shared by lines with different fields.
           "m,a=1 x=1 {T}\nm,a=1 y=2 {T}\nm,a=1 x=3,y=4 {T}\n"s,
           // The same fields in another order, a field repeated in one line, one field more.
           "m,a=1 x=1,y=2 {T}1\nm,a=1 y=3,x=4 {T}2\nm,a=1 x=5,x=6 {T}3\nm,a=1 z=7,y=8,x=9 {T}4\n"s,
       }) {
    CheckCachedIngestAgrees(body, Precision::kMilliseconds);
  }
  // Seconds: a timestamp that overflows in milliseconds, with good and bad tags.
  CheckCachedIngestAgrees("m,a=1 f=1 9223372036854775\nm,a f=1 9223372036854775\nm f=1 {T}\n",
                          Precision::kSeconds);
}

TEST_CASE("series cache: line keys in two parts are the whole keys", "[server][series_cache]") {
  SeriesRefCache cache;
  const std::string series_key = "cpu,host=a,dc=some-long-data-centre-name";
  const uint64_t h = SeriesRefCache::HashBytes(series_key);
  cache.PutLine(h, series_key, "usage", 42);
  const std::string whole = "L" + series_key + "\nusage";
  CHECK(cache.Get(whole) == 42);
  CHECK(cache.GetLine(h, series_key, "usage") == 42);
  CHECK(cache.GetLine(h, series_key, "usag") == storage::kNoSeriesRef);
  CHECK(cache.GetLine(SeriesRefCache::HashBytes("cpu,host=a"), "cpu,host=a", "usage") ==
        storage::kNoSeriesRef);
  cache.Put("L" + series_key + "\nidle", 43);
  CHECK(cache.GetLine(h, series_key, "idle") == 43);
  cache.PutLine(h, series_key, "idle", 44);  // replaces
  CHECK(cache.Get("L" + series_key + "\nidle") == 44);
  CHECK(cache.size() == 2);
  storage::SeriesRef refs[3];
  const std::string_view fields[3] = {"usage", "nope", "idle"};
  cache.GetLineFields(h, series_key, 3, [&](size_t i) { return fields[i]; }, refs);
  CHECK(refs[0] == 42);
  CHECK(refs[1] == storage::kNoSeriesRef);
  CHECK(refs[2] == 44);
  // A remote-write key that spells the same bytes after its tag byte is another key.
  CHECK(cache.Get("R" + series_key + "\nusage") == storage::kNoSeriesRef);
  // Hash: every length and byte position counts.
  CHECK(SeriesRefCache::HashBytes("") != SeriesRefCache::HashBytes(std::string(1, '\0')));
  CHECK(SeriesRefCache::HashBytes("abcdefgh1") != SeriesRefCache::HashBytes("abcdefgh2"));
  CHECK(SeriesRefCache::HashBytes("1bcdefgh") != SeriesRefCache::HashBytes("2bcdefgh"));
}

}  // namespace
}  // namespace vigil::server::ingest
