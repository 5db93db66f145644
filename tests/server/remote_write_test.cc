#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_decode.h"
#include "server/ingest/remote_write_encode.h"
#include "storage/series_ref.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using storage::Label;
using testing::TestDb;
using testing::TestSample;

std::vector<Label> L(std::initializer_list<Label> l) { return l; }

TEST_CASE("remote write 1.0 round trip writes every sample", "[server][remote_write]") {
  TestDb t;
  RemoteWriteEncoder enc(RemoteWriteVersion::k1);
  const std::vector<RemoteWriteSample> a = {{1000, 1.5}, {2000, -2}, {3000, 0}};
  const std::vector<RemoteWriteSample> b = {{1000, 7}};
  enc.AddSeries(L({{"__name__", "up"}, {"job", "node"}}), a);
  enc.AddSeries(L({{"__name__", "cpu"}, {"core", "0"}, {"mode", "idle"}}), b);
  IngestOutcome out = IngestRemoteWrite(t.db(), enc.Snappy(), RemoteWriteVersion::k1);
  INFO(out.message);
  REQUIRE(out.code == IngestCode::kOk);
  CHECK(out.http_status() == 204);
  CHECK(out.samples_written == 4);
  CHECK(out.series_seen == 2);
  CHECK(out.samples_rejected() == 0);
  CHECK(t.Read("up{job=\"node\"}") ==
        std::vector<TestSample>{{1000, 1.5}, {2000, -2}, {3000, 0}});
  CHECK(t.Read("cpu{core=\"0\",mode=\"idle\"}") == std::vector<TestSample>{{1000, 7}});
}

TEST_CASE("remote write 2.0 round trip with the symbol table", "[server][remote_write]") {
  TestDb t;
  RemoteWriteEncoder enc(RemoteWriteVersion::k2);
  const std::vector<RemoteWriteSample> a = {{1000, 1}, {2000, 2}};
  enc.AddSeries(L({{"__name__", "up"}, {"job", "node"}}), a, {.exemplars = 2});
  enc.AddSeries(L({{"__name__", "up"}, {"job", "api"}}), a);
  IngestOutcome out = IngestRemoteWrite(t.db(), enc.Snappy(), RemoteWriteVersion::k2);
  INFO(out.message);
  REQUIRE(out.code == IngestCode::kOk);
  CHECK(out.samples_written == 4);
  CHECK(out.exemplars_written == 0);
  CHECK(out.exemplars_skipped == 2);
  CHECK(t.Read("up{job=\"api\"}") == std::vector<TestSample>{{1000, 1}, {2000, 2}});
}

TEST_CASE("remote write keeps NaN and the stale marker bit-exactly", "[server][remote_write]") {
  TestDb t;
  double stale;
  std::memcpy(&stale, &storage::kStaleNaNBits, 8);
  RemoteWriteEncoder enc(RemoteWriteVersion::k1);
  const std::vector<RemoteWriteSample> s = {{1000, std::nan("")}, {2000, stale}};
  enc.AddSeries(L({{"__name__", "x"}}), s);
  IngestOutcome out = IngestRemoteWrite(t.db(), enc.Snappy(), RemoteWriteVersion::k1);
  REQUIRE(out.code == IngestCode::kOk);
  auto got = t.Read("x");
  REQUIRE(got.size() == 2);
  uint64_t bits;
  std::memcpy(&bits, &got[1].v, 8);
  CHECK(bits == storage::kStaleNaNBits);
  CHECK(std::isnan(got[0].v));
}

TEST_CASE("line protocol writes fields as measurement_field", "[server][line_protocol]") {
  TestDb t;
  IngestOutcome out = IngestLineProtocol(
      t.db(), "cpu,host=a usage=0.5,value=3i 1700000000000000000\n", Precision::kNanoseconds);
  INFO(out.message);
  REQUIRE(out.code == IngestCode::kOk);
  CHECK(out.samples_written == 2);
  CHECK(t.Read("cpu_usage{host=\"a\"}") == std::vector<TestSample>{{1700000000000, 0.5}});
  CHECK(t.Read("cpu{host=\"a\"}") == std::vector<TestSample>{{1700000000000, 3}});
}

}  // namespace
}  // namespace vigil::server::ingest
