#include "server/ingest/series_cache.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_encode.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using storage::Label;
using testing::TestDb;
using testing::TestSample;

TEST_CASE("series cache: remote write appends known series by ref", "[server][series_cache]") {
  TestDb t;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  for (RemoteWriteVersion v : {RemoteWriteVersion::k1, RemoteWriteVersion::k2}) {
    for (int step = 0; step < 3; ++step) {
      RemoteWriteEncoder e(v);
      const int64_t ts = 1000 * (step + 1) + (v == RemoteWriteVersion::k2 ? 100 : 0);
      e.AddSeries(std::vector<Label>{{"__name__", "a"}, {"x", "1"}},
                  std::vector<RemoteWriteSample>{{ts, double(step)}});
      // Same labels as separate strings in one value: a naive key would collide with the above.
      e.AddSeries(std::vector<Label>{{"__name__", "a"}, {"x", std::string("1\0x\0" "1", 5)}},
                  std::vector<RemoteWriteSample>{{ts, 10.0 + step}});
      IngestOutcome out = IngestRemoteWrite(t.db(), e.Snappy(), v, o);
      INFO(out.message);
      REQUIRE(out.ok());
      CHECK(out.samples_written == 2);
    }
  }
  CHECK(cache.size() == 2);  // v1 and v2 spell the same labels with the same key
  CHECK(t.Read("a{x=\"1\"}") == std::vector<TestSample>{
                                    {1000, 0}, {1100, 0}, {2000, 1}, {2100, 1}, {3000, 2}, {3100, 2}});
}

TEST_CASE("series cache: a ref the head does not know falls back to labels",
          "[server][series_cache]") {
  TestDb t;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  // Poison the cache with a ref no series has, under the key line protocol uses.
  cache.Put("cpu,host=a\nusage", 987654);
  IngestOutcome out =
      IngestLineProtocol(t.db(), "cpu,host=a usage=1 1000\n", Precision::kMilliseconds, o);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(t.Read("cpu_usage{host=\"a\"}") == std::vector<TestSample>{{1000, 1}});
  CHECK(cache.Get("cpu,host=a\nusage") != 987654);
}

TEST_CASE("series cache: line protocol with and without the cache agree",
          "[server][series_cache]") {
  TestDb with, without;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  for (int step = 0; step < 3; ++step) {
    const std::string ts = std::to_string(1000 * (step + 1));
    const std::string body = "cpu,host=a usage=1,idle=" + std::to_string(step) + " " + ts +
                             "\nbad,__name__=x f=1 " + ts + "\ncpu,host=b value=2 " + ts + "\n";
    IngestOutcome a = IngestLineProtocol(with.db(), body, Precision::kMilliseconds, o);
    IngestOutcome b = IngestLineProtocol(without.db(), body, Precision::kMilliseconds);
    CHECK(a.samples_written == 3);
    CHECK(a.samples_written == b.samples_written);
    CHECK(a.message == b.message);
  }
  CHECK(cache.size() == 3);  // the rejected series is never cached
  CHECK(with.AllSeries() == without.AllSeries());
  CHECK(with.Read("cpu_idle{host=\"a\"}") == without.Read("cpu_idle{host=\"a\"}"));
  CHECK(with.Read("cpu_idle{host=\"a\"}").size() == 3);
}

TEST_CASE("series cache: bounded size", "[server][series_cache]") {
  SeriesRefCache cache(32);
  for (int i = 0; i < 1000; ++i) cache.Put("k" + std::to_string(i), i + 1);
  CHECK(cache.size() <= 16 * 3);
}

}  // namespace
}  // namespace vigil::server::ingest
