// Remote write: bad input of each kind, with the exact error text and earlier data intact.

#include <catch2/catch.hpp>
#include <snappy.h>

#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_encode.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using namespace std::string_literals;
using storage::Label;
using testing::TestDb;
using testing::TestSample;

std::string Compress(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Writes up{job="a"} at t=1000 so every test can check that earlier data survives.
void WriteEarlier(TestDb& t) {
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<Label> ls = {{"__name__", "up"}, {"job", "a"}};
  const std::vector<RemoteWriteSample> s = {{1000, 1}};
  e.AddSeries(ls, s);
  REQUIRE(IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1).ok());
}

void CheckEarlier(TestDb& t) { CHECK(t.Read("up{job=\"a\"}") == std::vector<TestSample>{{1000, 1}}); }

TEST_CASE("remote write: truncated and corrupt snappy write nothing", "[server][remote_write]") {
  TestDb t;
  WriteEarlier(t);
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<Label> ls = {{"__name__", "x"}};
  std::vector<RemoteWriteSample> s;
  for (int i = 0; i < 10; ++i) s.push_back({2000 + i, static_cast<double>(i)});
  e.AddSeries(ls, s);
  const std::string body = e.Snappy();
  size_t announced = 0;
  REQUIRE(snappy::GetUncompressedLength(body.data(), body.size(), &announced));

  SECTION("truncated") {
    const std::string cut = body.substr(0, body.size() / 2);
    IngestOutcome out = IngestRemoteWrite(t.db(), cut, RemoteWriteVersion::k1);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.http_status() == 400);
    CHECK(out.message == "nothing was written: snappy: corrupt or truncated block-format data (" +
                             std::to_string(cut.size()) + " bytes, announcing " +
                             std::to_string(announced) + " decoded bytes)");
    CHECK(out.samples_written == 0);
  }
  SECTION("no valid length") {
    IngestOutcome out = IngestRemoteWrite(t.db(), std::string(11, '\xff'), RemoteWriteVersion::k1);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.message ==
          "nothing was written: snappy: the body (11 bytes) does not start with a valid "
          "block-format length");
  }
  SECTION("empty body is an empty request") {
    IngestOutcome out = IngestRemoteWrite(t.db(), Compress(""), RemoteWriteVersion::k1);
    CHECK(out.code == IngestCode::kOk);
    CHECK(out.series_seen == 0);
  }
  SECTION("decoded length over the limit") {
    IngestOptions o;
    o.max_decoded_bytes = 16;
    IngestOutcome out = IngestRemoteWrite(t.db(), body, RemoteWriteVersion::k1, o);
    CHECK(out.code == IngestCode::kTooLarge);
    CHECK(out.http_status() == 413);
    CHECK(out.message == "nothing was written: snappy: decoded length " +
                             std::to_string(announced) + " bytes exceeds the limit of 16 bytes");
  }
  CHECK(t.Read("x").empty());
  CheckEarlier(t);
}

TEST_CASE("remote write: malformed protobuf writes nothing and names the byte",
          "[server][remote_write]") {
  TestDb t;
  WriteEarlier(t);
  // A good series first, so that "nothing" is observable.
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<Label> ls = {{"__name__", "x"}};
  const std::vector<RemoteWriteSample> s = {{5000, 5}};
  e.AddSeries(ls, s);
  const std::string good = e.Proto();
  struct Case {
    std::string bytes;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"\x0a\x64\x00\x00"s, "malformed protobuf at byte 1: length 100 exceeds the 2 bytes left"},
      {"\x0a"s, "malformed protobuf at byte 1: truncated varint"},
      // Field 9 (unknown, varint): its value is read to be skipped.
      {"\x48"s + std::string(9, '\x80') + "\x02",
       "malformed protobuf at byte 1: varint overflows 64 bits"},
      {"\x48"s + std::string(10, '\xff'), "malformed protobuf at byte 1: varint overflows 64 bits"},
      {"\x48"s + std::string(3, '\xff'), "malformed protobuf at byte 1: truncated varint"},
      {"\x0b"s, "malformed protobuf at byte 0: groups (wire type 3) are not supported"},
      {"\x0e"s, "malformed protobuf at byte 0: invalid wire type 6"},
      {"\x00"s, "malformed protobuf at byte 0: invalid field number 0"},
      {"\x08\x01"s, "malformed protobuf at byte 0: WriteRequest field 1 has wire type 0, expected 2"},
      // TimeSeries{Sample{value as varint}}: a known field with the wrong wire type.
      {"\x0a\x04\x12\x02\x08\x01"s,
       "malformed protobuf at byte 4: Sample field 1 has wire type 0, expected 1"},
      // Sample value cut short: fixed64 with 3 bytes.
      {"\x0a\x06\x12\x04\x09\x00\x00\x00"s, "malformed protobuf at byte 5: truncated fixed64"},
      // A 2.0 body (symbols = 4) sent as 1.0.
      {"\x22\x00"s,
       "malformed protobuf at byte 0: field 4 is not part of prometheus.WriteRequest (a 2.0 body? "
       "send Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request)"},
  };
  for (const Case& c : cases) {
    INFO(c.error);
    IngestOutcome out =
        IngestRemoteWrite(t.db(), Compress(good + c.bytes), RemoteWriteVersion::k1);
    CHECK(out.code == IngestCode::kBadInput);
    // Offsets count from the start of the message; the good series shifts them.
    std::string expected = c.error;
    const size_t at = expected.find("byte ") + 5;
    const size_t end = expected.find(':', at);
    const size_t n = std::stoul(expected.substr(at, end - at)) + good.size();
    expected.replace(at, end - at, std::to_string(n));
    CHECK(out.message == "nothing was written: " + expected);
    CHECK(out.samples_written == 0);
  }
  CHECK(t.Read("x").empty());
  CheckEarlier(t);
}

TEST_CASE("remote write 2.0: symbol references are checked", "[server][remote_write]") {
  TestDb t;
  WriteEarlier(t);
  // symbols: "", "__name__", "x"; series with refs (1, 2) good; (1, 9) out of range; (1) odd.
  std::string sym;
  pb::AppendLenField(4, "", &sym);
  pb::AppendLenField(4, "__name__", &sym);
  pb::AppendLenField(4, "x", &sym);
  auto series = [](std::string refs) {
    std::string sample, ts, out;
    pb::AppendFixed64Field(1, 0x3ff0000000000000ull, &sample);  // 1.0
    pb::AppendVarintField(2, 7000, &sample);
    pb::AppendLenField(1, refs, &ts);
    pb::AppendLenField(2, sample, &ts);
    pb::AppendLenField(5, ts, &out);
    return out;
  };
  SECTION("good") {
    IngestOutcome out = IngestRemoteWrite(t.db(), Compress(sym + series("\x01\x02")),
                                          RemoteWriteVersion::k2);
    CHECK(out.code == IngestCode::kOk);
    CHECK(t.Read("x") == std::vector<TestSample>{{7000, 1}});
  }
  SECTION("reference outside the table") {
    const std::string body = sym + series("\x01\x02") + series("\x01\x09");
    IngestOutcome out = IngestRemoteWrite(t.db(), Compress(body), RemoteWriteVersion::k2);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.message == "nothing was written: malformed protobuf at byte " +
                             std::to_string(sym.size() + series("\x01\x02").size() + 5) +
                             ": label reference 9 of series 1 is outside the symbol table of 3 "
                             "entries");
    CHECK(t.Read("x").empty());
  }
  SECTION("odd number of references") {
    IngestOutcome out =
        IngestRemoteWrite(t.db(), Compress(sym + series("\x01")), RemoteWriteVersion::k2);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.message.find("series 0 has an odd number of label references") !=
          std::string::npos);
  }
  SECTION("a 1.0 body sent as 2.0") {
    RemoteWriteEncoder e(RemoteWriteVersion::k1);
    const std::vector<Label> ls = {{"__name__", "x"}};
    const std::vector<RemoteWriteSample> s = {{5000, 5}};
    e.AddSeries(ls, s);
    IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k2);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.message ==
          "nothing was written: malformed protobuf at byte 0: field 1 is reserved in "
          "io.prometheus.write.v2.Request (a 1.0 body? send Content-Type: "
          "application/x-protobuf)");
  }
  CheckEarlier(t);
}

TEST_CASE("remote write: bad series are named, good series are written",
          "[server][remote_write]") {
  TestDb t;
  WriteEarlier(t);
  for (RemoteWriteVersion v : {RemoteWriteVersion::k1, RemoteWriteVersion::k2}) {
    INFO("version " << static_cast<int>(v));
    RemoteWriteEncoder e(v);
    const std::vector<RemoteWriteSample> s = {{20000, 1}, {21000, 2}};
    const std::vector<Label> unsorted = {{"__name__", "m"}, {"b", "1"}, {"a", "2"}};
    const std::vector<Label> dup = {{"__name__", "m"}, {"a", "1"}, {"a", "2"}};
    const std::vector<Label> bad_name = {{"__name__", "m"}, {"a-b", "1"}};
    const std::vector<Label> bad_utf8 = {{"__name__", "m"}, {"a", "\xff"}};
    const std::string version_value(1, static_cast<char>('0' + static_cast<int>(v)));
    const std::vector<Label> good = {{"__name__", "good"}, {"empty", ""}, {"v", version_value}};
    const std::vector<RemoteWriteSample> old = {{1000, 9}};
    e.AddSeries(unsorted, s);
    e.AddSeries(good, s);
    e.AddSeries(dup, s);
    e.AddSeries(bad_name, s);
    e.AddSeries(bad_utf8, s);
    e.AddSeries(std::vector<Label>{{"__name__", "up"}, {"job", "a"}}, std::vector<RemoteWriteSample>{{1000, 2}});
    e.AddSeries(std::vector<Label>{{"__name__", "h"}}, s, {.histograms = 3});
    IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), v);
    CHECK(out.code == IngestCode::kBadInput);
    CHECK(out.samples_written == 4);  // good (2) and h's float samples (2)
    CHECK(out.rejected[static_cast<size_t>(RejectReason::kInvalidLabels)] == 8);
    CHECK(out.rejected[static_cast<size_t>(RejectReason::kDuplicateTimestamp)] == 1);
    CHECK(out.rejected[static_cast<size_t>(RejectReason::kHistogram)] == 3);
    CHECK(out.series_seen == 7);
    CHECK(out.message ==
          R"(series {"__name__"="m", "b"="1", "a"="2"} (#0 in the request): labels are not sorted by name ("a" comes after "b"); )"
          R"(series {"__name__"="m", "a"="1", "a"="2"} (#2 in the request): duplicate label name "a"; )"
          R"(invalid label name "a-b" (label 1 of series m{"a-b"="1"}): names must match [a-zA-Z_][a-zA-Z0-9_]*; )"
          R"(value of label "a" is not valid UTF-8 at byte 0 (label 1 of series m{a="\xff"}); )"
          R"(series up{job="a"} already has a sample at timestamp 1000 with a different value)"
          " (and 1 more errors)");
    CHECK(t.Read(std::string("good{v=\"") + static_cast<char>('0' + static_cast<int>(v)) + "\"}") ==
          std::vector<TestSample>{{20000, 1}, {21000, 2}});
    CHECK(t.Read("h") == std::vector<TestSample>{{20000, 1}, {21000, 2}});
    t.Read("h");
  }
  CheckEarlier(t);
}

TEST_CASE("remote write: out-of-order samples are rejected by series", "[server][remote_write]") {
  TestDb t;
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<Label> ls = {{"__name__", "m"}, {"job", "a"}};
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{10'000'000, 1}});
  REQUIRE(IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1).ok());
  e.Reset();
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{1000, 2}, {9'000'000, 3}, {10'000'001, 4}});
  IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.samples_written == 2);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kOutOfOrder)] == 1);
  CHECK(out.message ==
        "out-of-order sample for series m{job=\"a\"}: timestamp 1000 is older than the series' "
        "newest sample at 10000000 by more than the out-of-order window of 3600000 ms");
  CHECK(t.Read("m{job=\"a\"}") ==
        std::vector<TestSample>{{9'000'000, 3}, {10'000'000, 1}, {10'000'001, 4}});
}

TEST_CASE("remote write: storage faults are retryable and write nothing",
          "[server][remote_write]") {
  TestDb t;
  WriteEarlier(t);
  t.faults().FailNthAppend(1, /*sticky=*/true);
  RemoteWriteEncoder e(RemoteWriteVersion::k2);
  const std::vector<Label> ls = {{"__name__", "x"}};
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{5000, 5}});
  IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k2);
  CHECK(out.code == IngestCode::kStorageFault);
  CHECK(out.http_status() == 500);
  CHECK(out.samples_written == 0);
  CHECK(out.message.rfind("nothing was written: storage failed: ", 0) == 0);
  CHECK(t.Read("x").empty());
  CheckEarlier(t);
}

TEST_CASE("remote write: the limiter answers 429", "[server][remote_write]") {
  TestDb t;
  IngestLimiter limiter(100);
  REQUIRE(limiter.TryAcquire(90));  // another request in flight
  IngestOptions o;
  o.limiter = &limiter;
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<Label> ls = {{"__name__", "x"}};
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{5000, 5}, {6000, 6}});
  IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1, o);
  CHECK(out.code == IngestCode::kOverloaded);
  CHECK(out.http_status() == 429);
  CHECK(out.message ==
        "too many writes in flight (90 bytes being decoded, limit 100); retry later");
  limiter.Release(90);
  out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1, o);
  CHECK(out.code == IngestCode::kOk);
  CHECK(limiter.inflight() == 0);
  // A request larger than the whole limit still passes when it is alone.
  IngestLimiter tiny(1);
  o.limiter = &tiny;
  CHECK(IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1, o).ok());
}

TEST_CASE("remote write: content type negotiation", "[server][remote_write]") {
  CHECK(ParseRemoteWriteContentType("").value() == RemoteWriteVersion::k1);
  CHECK(ParseRemoteWriteContentType("application/x-protobuf").value() == RemoteWriteVersion::k1);
  CHECK(ParseRemoteWriteContentType("application/x-protobuf;proto=prometheus.WriteRequest")
            .value() == RemoteWriteVersion::k1);
  CHECK(ParseRemoteWriteContentType("application/x-protobuf;proto=io.prometheus.write.v2.Request")
            .value() == RemoteWriteVersion::k2);
  CHECK(ParseRemoteWriteContentType(
            "Application/X-Protobuf ; charset=utf-8; proto=\"io.prometheus.write.v2.Request\"")
            .value() == RemoteWriteVersion::k2);
  auto bad = ParseRemoteWriteContentType("application/json");
  CHECK(bad.status().code() == StatusCode::kNotSupported);
  CHECK(bad.status().message() ==
        "unsupported Content-Type \"application/json\": remote write takes "
        "application/x-protobuf with proto=prometheus.WriteRequest or "
        "proto=io.prometheus.write.v2.Request");
  auto bad_proto = ParseRemoteWriteContentType("application/x-protobuf;proto=foo.Bar");
  CHECK(bad_proto.status().message() ==
        "unsupported remote write proto \"foo.Bar\": Vigil takes prometheus.WriteRequest (1.0) "
        "and io.prometheus.write.v2.Request (2.0)");
}

TEST_CASE("remote write: unknown fields are skipped", "[server][remote_write]") {
  TestDb t;
  std::string sample, series, req;
  pb::AppendFixed64Field(1, 0x4000000000000000ull, &sample);  // 2.0
  pb::AppendVarintField(2, 3000, &sample);
  pb::AppendVarintField(9, 12345, &sample);                   // unknown varint
  std::string label;
  pb::AppendLenField(1, "__name__", &label);
  pb::AppendLenField(2, "u", &label);
  pb::AppendTag(15, 5, &label);                               // unknown fixed32
  label.append("\x01\x02\x03\x04", 4);
  pb::AppendLenField(1, label, &series);
  pb::AppendLenField(2, sample, &series);
  pb::AppendFixed64Field(7, 1, &series);                      // unknown fixed64
  std::string md;
  pb::AppendVarintField(1, 1, &md);
  pb::AppendLenField(2, "u", &md);
  pb::AppendLenField(11, "unknown", &md);                      // unknown in MetricMetadata
  pb::AppendLenField(3, md, &req);                             // WriteRequest.metadata
  pb::AppendLenField(1, series, &req);
  pb::AppendLenField(100, "unknown", &req);
  IngestOutcome out = IngestRemoteWriteProto(t.db(), req, RemoteWriteVersion::k1);
  INFO(out.message);
  CHECK(out.code == IngestCode::kOk);
  CHECK(t.Read("u") == std::vector<TestSample>{{3000, 2}});
}

TEST_CASE("ingest metrics count by protocol and reason", "[server][remote_write]") {
  TestDb t;
  IngestMetrics& m = GlobalIngestMetrics();
  const auto p = static_cast<size_t>(Protocol::kRemoteWrite2);
  const uint64_t written0 = m.samples_written[p].load();
  const uint64_t requests0 = m.requests[p].load();
  const uint64_t ooo0 = m.rejected_by_reason[static_cast<size_t>(RejectReason::kOutOfOrder)].load();
  RemoteWriteEncoder e(RemoteWriteVersion::k2);
  const std::vector<Label> ls = {{"__name__", "x"}};
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{10'000'000, 1}});
  REQUIRE(IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k2).ok());
  e.Reset();
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{1000, 2}});
  IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k2);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(m.samples_written[p].load() - written0 == 1);
  CHECK(m.requests[p].load() - requests0 == 2);
  CHECK(m.rejected_by_reason[static_cast<size_t>(RejectReason::kOutOfOrder)].load() - ooo0 == 1);
  IngestMetrics local;
  out.samples_written = 1;
  local.Record(Protocol::kNative, out);
  std::string text;
  AppendIngestMetricsText(local, &text);
  CHECK(text.find("# TYPE vigil_ingest_samples_total counter\n") != std::string::npos);
  CHECK(text.find("vigil_ingest_samples_total{protocol=\"native\"} 1\n") != std::string::npos);
  CHECK(text.find("vigil_ingest_samples_rejected_total{reason=\"out_of_order\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("vigil_ingest_failed_requests_total{protocol=\"native\"} 1\n") !=
        std::string::npos);
}

}  // namespace
}  // namespace vigil::server::ingest

namespace vigil::server::ingest {
namespace {

TEST_CASE("remote write: a sample older than the window within one request",
          "[server][remote_write]") {
  testing::TestDb t;
  RemoteWriteEncoder e(RemoteWriteVersion::k1);
  const std::vector<storage::Label> ls = {{"__name__", "x"}};
  e.AddSeries(ls, std::vector<RemoteWriteSample>{{10'000'000, 1}, {1000, 2}});
  IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), RemoteWriteVersion::k1);
  INFO(out.message);
  // Every sample the outcome counts as written must be readable (the ingest path appends each
  // series in time order, so the head does not drop the older one at commit).
  CHECK(out.samples_written == 2);
  CHECK(t.Read("x") == std::vector<testing::TestSample>{{1000, 2}, {10'000'000, 1}});
}

}  // namespace
}  // namespace vigil::server::ingest
