// Metric metadata: the store, the file format (golden file and damaged copies), the persister, and
// how remote write 1.0 and 2.0 (and not line protocol) feed it.

#include "server/ingest/metadata.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_encode.h"
#include "storage/base/fault_injection_file_system.h"
#include "storage/base/mem_file_system.h"
#include "storage/block/coding.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using Families = std::map<std::string, MetricMetadata, std::less<>>;
using testing::TestDb;
using testing::TestSample;

std::string ToHex(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned char>(bytes[i]));
    out += buf;
    out += (i % 16 == 15 || i + 1 == bytes.size()) ? '\n' : ' ';
  }
  return out;
}

std::string FromHex(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) out.push_back(static_cast<char>(std::stoi(tok, nullptr, 16)));
  return out;
}

// metadata.md's worked example.
Families Example() {
  Families f;
  f["http_requests_total"] = {MetricType::kCounter, "Requests served.", ""};
  f["process_start_time"] = {MetricType::kGauge, "Start time.", "seconds"};
  return f;
}

TEST_CASE("metadata: family names of 2.0 series by type", "[server][metadata]") {
  CHECK(MetricFamilyOf("http_request_duration_seconds_bucket", MetricType::kHistogram) ==
        "http_request_duration_seconds");
  CHECK(MetricFamilyOf("rpc_duration_seconds_sum", MetricType::kSummary) == "rpc_duration_seconds");
  CHECK(MetricFamilyOf("rpc_duration_seconds_count", MetricType::kGaugeHistogram) ==
        "rpc_duration_seconds");
  CHECK(MetricFamilyOf("rpc_duration_seconds", MetricType::kSummary) == "rpc_duration_seconds");
  CHECK(MetricFamilyOf("x_bucket", MetricType::kSummary) == "x_bucket");
  CHECK(MetricFamilyOf("http_requests_total", MetricType::kCounter) == "http_requests_total");
  CHECK(MetricFamilyOf("_bucket", MetricType::kHistogram) == "_bucket");  // never empty
  CHECK(MetricTypeName(MetricTypeFromWire(4)) == "gaugehistogram");
  CHECK(MetricTypeName(MetricTypeFromWire(99)) == "unknown");
}

TEST_CASE("metadata: the store keeps the latest per family, within bounds", "[server][metadata]") {
  MetadataStore store(3);
  const uint64_t v0 = store.version();
  std::vector<MetadataUpdate> u = {
      {"b", MetricType::kGauge, "B help", ""},
      {"a", MetricType::kCounter, "A help", ""},
      {"a", MetricType::kCounter, "A newer help", "bytes"},  // later entry wins
      {"", MetricType::kGauge, "no family", ""},             // dropped
      {"c", MetricType::kUnknown, "", ""},                   // "no metadata": skipped
      {"d", MetricType::kGauge, "bad \xff utf-8", ""},       // dropped
  };
  CHECK(store.Update(u) == 3);
  CHECK(store.version() > v0);
  CHECK(store.dropped() == 2);
  auto all = store.List();
  REQUIRE(all.size() == 2);
  CHECK(all[0].first == "a");
  CHECK(all[0].second == MetricMetadata{MetricType::kCounter, "A newer help", "bytes"});
  CHECK(all[1].first == "b");
  // The same again changes nothing (and does not move the version: no save).
  const uint64_t v1 = store.version();
  CHECK(store.Update(std::span(u).subspan(2, 1)) == 0);
  CHECK(store.version() == v1);
  // Bound of 3 families: a fourth new one is dropped, known ones still update.
  std::vector<MetadataUpdate> more = {{"c", MetricType::kGauge, "C", ""},
                                      {"e", MetricType::kGauge, "E", ""},
                                      {"b", MetricType::kSummary, "B2", ""}};
  CHECK(store.Update(more) == 2);
  CHECK(store.size() == 3);
  CHECK(store.dropped() == 3);
  CHECK(store.List("b")[0].second.type == MetricType::kSummary);
  CHECK(store.List("e").empty());
  CHECK(store.List({}, 2).size() == 2);
  const std::string long_help(MetadataStore::kMaxHelpBytes + 1, 'h');
  std::vector<MetadataUpdate> huge = {{"a", MetricType::kGauge, long_help, ""}};
  CHECK(store.Update(huge) == 0);
  CHECK(store.List("a")[0].second.help == "A newer help");
}

TEST_CASE("metadata: the store bounds the bytes of its texts", "[server][metadata]") {
  MetadataStore store(100, 20);  // 20 bytes of names, help and unit
  std::vector<MetadataUpdate> u = {{"abc", MetricType::kGauge, "0123456789", ""},   // 13 bytes
                                   {"def", MetricType::kGauge, "0123456789", ""}};  // +13: dropped
  CHECK(store.Update(u) == 1);
  CHECK(store.dropped() == 1);
  std::vector<MetadataUpdate> grow = {{"abc", MetricType::kGauge, "0123456789012345678", ""}};
  CHECK(store.Update(grow) == 0);  // 3 + 19 > 20
  CHECK(store.dropped() == 2);
  std::vector<MetadataUpdate> shrink = {{"abc", MetricType::kCounter, "x", "s"},
                                        {"def", MetricType::kGauge, "0123456789", ""}};
  CHECK(store.Update(shrink) == 2);  // 5 + 13 bytes fit now
  CHECK(store.size() == 2);
  // Reset keeps what fits, in name order.
  Families big = Example();  // 19+16 and 18+11+7 bytes
  MetadataStore small(100, 40);
  small.Reset(big);
  CHECK(small.size() == 1);
  CHECK(small.List()[0].first == "http_requests_total");
}

TEST_CASE("metadata: golden file, version 1", "[server][metadata][golden]") {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/server/metadata_v1.hex";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string golden = FromHex(ss.str());
  // The encoding is stable...
  CHECK(ToHex(EncodeMetadataFile(Example())) == ToHex(golden));
  // ...and the stored bytes decode to the documented content.
  REQUIRE(golden.size() == 95);
  CHECK(golden.substr(0, 12) == std::string("VGMD\x01\x00\x00\x00\x02\x00\x00\x00", 12));
  auto decoded = DecodeMetadataFile(golden, "golden");
  REQUIRE(decoded.ok());
  CHECK(*decoded == Example());
}

TEST_CASE("metadata: damaged files are refused with what and where", "[server][metadata][golden]") {
  const std::string good = EncodeMetadataFile(Example());
  REQUIRE(DecodeMetadataFile(good, "f").ok());
  // Every single flipped byte is caught (magic, version, checksum or the checksum itself).
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    auto r = DecodeMetadataFile(bad, "f");
    INFO("byte " << i);
    CHECK_FALSE(r.ok());
  }
  // Every truncation is caught.
  for (size_t n = 0; n < good.size(); ++n)
    CHECK_FALSE(DecodeMetadataFile(good.substr(0, n), "f").ok());
  auto r = DecodeMetadataFile("XXXX" + good.substr(4), "/d/metadata");
  CHECK(r.status().IsCorruption());
  CHECK(r.status().message() == "/d/metadata: bad magic at byte 0");
  std::string v2 = good;
  v2[4] = 2;
  r = DecodeMetadataFile(v2, "/d/metadata");
  CHECK(r.status().code() == StatusCode::kNotSupported);
  CHECK(r.status().message() ==
        "/d/metadata: metadata file version 2 (this vigild reads version 1)");
  r = DecodeMetadataFile(good.substr(0, 50), "/d/metadata");
  CHECK(r.status().message() == "/d/metadata: checksum mismatch at byte 46");
  // Structurally damaged content behind a valid checksum (a writer bug) is refused as well.
  Families dup = Example();
  std::string body = EncodeMetadataFile(dup);
  body[8] = 3;  // count 3, only two entries
  body.resize(body.size() - 4);
  storage::block::AppendFixed32(storage::block::Checksum32(body), &body);
  r = DecodeMetadataFile(body, "/d/metadata");
  CHECK(r.status().message() == "/d/metadata: entry 2 of 3 is truncated at byte 91");
}

TEST_CASE("metadata: the persister saves on change and loads it back", "[server][metadata]") {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fs(mem.get());
  REQUIRE(fs.CreateDirs("/data").ok());
  MetadataStore store;
  {
    MetadataPersister p(&fs, "/data/metadata", &store, 10);
    REQUIRE(p.Load().ok());  // no file yet: empty
    CHECK(store.size() == 0);
    REQUIRE(p.SaveIfChanged().ok());
    CHECK(p.saves() == 0);  // nothing changed
    p.Start();
    std::vector<MetadataUpdate> u = {{"up", MetricType::kGauge, "Target up.", ""}};
    store.Update(u);
    for (int i = 0; i < 500 && p.saves() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(p.saves() == 1);
    // A failed save is counted and retried: the change is not lost.
    fs.FailNth(FaultOp::kRename, 1);
    std::vector<MetadataUpdate> u2 = {{"down", MetricType::kCounter, "", "seconds"}};
    store.Update(u2);
    for (int i = 0; i < 500 && p.save_failures() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(p.save_failures() == 1);
    REQUIRE(p.Stop().ok());  // retried by the next tick or by Stop
    CHECK(p.saves() == 2);
    CHECK_FALSE(fs.FileExists("/data/metadata.tmp"));
  }
  MetadataStore reloaded;
  MetadataPersister p2(&fs, "/data/metadata", &reloaded, 10);
  REQUIRE(p2.Load().ok());
  CHECK(reloaded.Snapshot() == store.Snapshot());
  CHECK(reloaded.size() == 2);
  // A damaged file: an error naming it, an empty store, and the next save replaces the file.
  auto bytes = ReadFileToString(&fs, "/data/metadata");
  REQUIRE(bytes.ok());
  std::string bad = *bytes;
  bad[20] ^= 1;
  REQUIRE(WriteFileAtomic(&fs, "/data/metadata", bad).ok());
  MetadataStore third;
  MetadataPersister p3(&fs, "/data/metadata", &third, 10);
  Status st = p3.Load();
  CHECK(st.IsCorruption());
  CHECK(st.message().starts_with("/data/metadata: checksum mismatch"));
  CHECK(third.size() == 0);
}

TEST_CASE("metadata: remote write 1.0 and 2.0 feed the store, line protocol does not",
          "[server][metadata]") {
  TestDb t;
  MetadataStore store;
  IngestOptions o;
  o.metadata = &store;
  // 1.0: metadata entries of their own (Prometheus sends them in separate requests).
  RemoteWriteEncoder e1(RemoteWriteVersion::k1);
  e1.AddMetadata(1, "http_requests_total", "Requests served.", "");
  e1.AddMetadata(0, "no_type", "", "");  // skipped: nothing to say
  IngestOutcome out = IngestRemoteWrite(t.db(), e1.Snappy(), RemoteWriteVersion::k1, o);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(out.metadata_seen == 2);
  // 2.0: per series; the histogram's series name its family without _bucket / _sum.
  RemoteWriteEncoder e2(RemoteWriteVersion::k2);
  const SeriesMetadata hist{3, "Latency.", "seconds"};
  for (const char* le : {"0.1", "+Inf"}) {
    e2.AddSeries(storage::Labels::FromPairs({{"__name__", "lat_seconds_bucket"}, {"le", le}}),
                 std::vector<RemoteWriteSample>{{1000, 1}}, {.metadata = &hist});
  }
  e2.AddSeries(storage::Labels::FromPairs({{"__name__", "lat_seconds_sum"}}),
               std::vector<RemoteWriteSample>{{1000, 0.5}}, {.metadata = &hist});
  const SeriesMetadata none{};
  e2.AddSeries(storage::Labels::FromPairs({{"__name__", "plain"}}),
               std::vector<RemoteWriteSample>{{1000, 2}}, {.metadata = &none});
  out = IngestRemoteWrite(t.db(), e2.Snappy(), RemoteWriteVersion::k2, o);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(out.samples_written == 4);
  CHECK(out.metadata_seen == 4);
  const Families want = {
      {"http_requests_total", {MetricType::kCounter, "Requests served.", ""}},
      {"lat_seconds", {MetricType::kHistogram, "Latency.", "seconds"}},
  };
  CHECK(store.Snapshot() == want);
  // Line protocol leaves it alone, also for a family that has metadata.
  out = IngestLineProtocol(t.db(), "http_requests value=3 2000\nlat seconds_bucket=1 2000\n",
                           Precision::kMilliseconds, o);
  REQUIRE(out.ok());
  CHECK(store.Snapshot() == want);
}

TEST_CASE("metadata: a request whose framing breaks puts no metadata", "[server][metadata]") {
  TestDb t;
  MetadataStore store;
  IngestOptions o;
  o.metadata = &store;
  RemoteWriteEncoder e1(RemoteWriteVersion::k1);
  e1.AddMetadata(2, "g", "A gauge.", "");
  std::string proto = e1.Proto();
  proto += "\x0a\x05";  // a series field announcing 5 bytes that are not there
  IngestOutcome out = IngestRemoteWriteProto(t.db(), proto, RemoteWriteVersion::k1, o);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(store.size() == 0);
  // 2.0: a help reference outside the symbol table is a framing error naming the series.
  using namespace pb;  // NOLINT(build/namespaces)
  std::string md, series, req;
  AppendVarintField(1, 2, &md);
  AppendVarintField(3, 9, &md);  // help_ref 9 of 3 symbols
  std::string refs;
  AppendVarint(1, &refs);
  AppendVarint(2, &refs);
  AppendLenField(1, refs, &series);
  AppendLenField(5, md, &series);
  AppendLenField(4, "", &req);
  AppendLenField(4, "__name__", &req);
  AppendLenField(4, "m", &req);
  AppendLenField(5, series, &req);
  out = IngestRemoteWriteProto(t.db(), req, RemoteWriteVersion::k2, o);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.message.find("help reference 9 in the metadata of series 0 is outside the symbol "
                         "table of 3 entries") != std::string::npos);
  CHECK(store.size() == 0);
}

}  // namespace
}  // namespace vigil::server::ingest
