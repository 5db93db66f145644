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
  // v2 keys a series by its labels; v1 by its label fields' protobuf bytes (kRemoteWriteRawKey):
  // two keys per series, one ref.
  CHECK(cache.size() == 4);
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
  const std::string key = std::string(1, SeriesRefCache::kLineProtocolKey) + "cpu,host=a\nusage";
  cache.Put(key, 987654);
  IngestOutcome out =
      IngestLineProtocol(t.db(), "cpu,host=a usage=1 1000\n", Precision::kMilliseconds, o);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(t.Read("cpu_usage{host=\"a\"}") == std::vector<TestSample>{{1000, 1}});
  CHECK(cache.Get(key) != 987654);
  CHECK(cache.stats().stale == 1);
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
  CHECK(cache.stats().clears > 0);
  CHECK(cache.stats().entries == cache.size());
}

TEST_CASE("series cache: hits and misses are counted", "[server][series_cache]") {
  TestDb t;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  for (int i = 1; i <= 3; ++i) {
    const std::string body = "m,h=a value=" + std::to_string(i) + " " + std::to_string(i * 1000);
    REQUIRE(IngestLineProtocol(t.db(), body, Precision::kMilliseconds, o).ok());
  }
  const SeriesRefCache::Stats st = cache.stats();
  CHECK(st.misses == 1);
  CHECK(st.hits == 2);
  CHECK(st.stale == 0);
  CHECK(st.entries == 1);
}

// A line-protocol measurement may hold any bytes but space, comma and newline, so without a
// protocol tag in the key this line's key would be exactly the remote-write key of
// {__name__="q", x="a\nf"}, and that series' samples would be appended to the line-protocol
// series.
TEST_CASE("series cache: a line-protocol key never equals a remote-write key",
          "[server][series_cache]") {
  TestDb t;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  const std::string crafted_measurement =
      std::string("\x08\0\0\0__name__\x01\0\0\0q\x01\0\0\0x\x03\0\0\0a", 27);
  IngestOutcome lp = IngestLineProtocol(t.db(), crafted_measurement + " f=1 1000\n",
                                        Precision::kMilliseconds, o);
  INFO(lp.message);
  REQUIRE(lp.ok());
  for (RemoteWriteVersion v : {RemoteWriteVersion::k1, RemoteWriteVersion::k2}) {
    RemoteWriteEncoder e(v);
    e.AddSeries(std::vector<Label>{{"__name__", "q"}, {"x", "a\nf"}},
                std::vector<RemoteWriteSample>{{v == RemoteWriteVersion::k1 ? 2000 : 3000, 7}});
    IngestOutcome rw = IngestRemoteWrite(t.db(), e.Snappy(), v, o);
    INFO(rw.message);
    REQUIRE(rw.ok());
  }
  auto q = t.db().NewQuerier(INT64_MIN, INT64_MAX);
  REQUIRE(q.ok());
  auto m = storage::Matcher::Make(storage::MatchType::kEqual, "__name__", "q").value();
  std::vector<storage::Matcher> ms{m};
  auto set = (*q)->Select(ms);
  REQUIRE(set->Next());
  auto it = set->Samples();
  int64_t ts[8];
  double vs[8];
  CHECK(it->Next(ts, vs) == 2);  // both remote-write samples, in the remote-write series
  CHECK(ts[0] == 2000);
  CHECK(ts[1] == 3000);
  CHECK_FALSE(set->Next());
  CHECK(t.AllSeries().size() == 2);
  // The line-protocol series kept its one sample only.
  uint64_t total = 0;
  auto all = (*q)->Select(std::vector<storage::Matcher>{
      storage::Matcher::Make(storage::MatchType::kRegexMatch, "__name__", ".+").value()});
  while (all->Next()) {
    auto s = all->Samples();
    while (size_t n = s->Next(ts, vs)) total += n;
  }
  CHECK(total == 3);
}

TEST_CASE("series cache: kSecondPut caches a key at its second Put", "[server][series_cache]") {
  SeriesRefCache cache(1000, ~uint64_t{0}, SeriesRefCache::Admission::kSecondPut);
  const std::string key = std::string(1, SeriesRefCache::kRemoteWriteKey) + "k";
  cache.Put(key, 7);
  CHECK(cache.Get(key) == storage::kNoSeriesRef);
  cache.Put(key, 7);
  CHECK(cache.Get(key) == 7);
  cache.Put(key, 8);  // a known key is updated at once
  CHECK(cache.Get(key) == 8);

  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "raw", 9);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "raw") == storage::kNoSeriesRef);
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "raw", 9);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "raw") == 9);

  // Line protocol: the series key is admitted; its other fields then go in at their first Put.
  const uint64_t h = SeriesRefCache::HashBytes("cpu,host=a");
  cache.PutLine(h, "cpu,host=a", "usage", 10);
  CHECK(cache.GetLine(h, "cpu,host=a", "usage") == storage::kNoSeriesRef);
  cache.PutLine(h, "cpu,host=a", "usage", 10);
  CHECK(cache.GetLine(h, "cpu,host=a", "usage") == 10);
  cache.PutLine(h, "cpu,host=a", "idle", 11);
  CHECK(cache.GetLine(h, "cpu,host=a", "idle") == 11);

  const SeriesRefCache::Stats st = cache.stats();
  CHECK(st.declined == 3);
  CHECK(st.entries == 4);
}

TEST_CASE("series cache: kSecondPut keeps few of many keys put once", "[server][series_cache]") {
  // 100 000 distinct keys put once into a cache of 16 000: the filter (cleared every 1 001 first
  // Puts per shard, 16 bits per entry) lets through only its false positives, at most 1 in 16.
  SeriesRefCache once(16000, ~uint64_t{0}, SeriesRefCache::Admission::kSecondPut);
  SeriesRefCache all(16000);
  constexpr int kKeys = 100000;
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = "pod-" + std::to_string(i);
    once.PutTagged(SeriesRefCache::kRemoteWriteRawKey, k, i + 1);
    all.PutTagged(SeriesRefCache::kRemoteWriteRawKey, k, i + 1);
  }
  const SeriesRefCache::Stats st = once.stats();
  CHECK(st.declined > kKeys * 15 / 16);
  CHECK(st.entries < kKeys / 16);
  CHECK(st.clears == 0);
  CHECK(all.stats().declined == 0);
  CHECK(all.stats().clears >= 16 * 5);  // kAll: every shard filled and cleared, again and again
  // A key put twice in a row is cached, however full the filter is.
  for (int i = 0; i < 500; ++i) {
    const std::string k = "again-" + std::to_string(i);
    once.PutTagged(SeriesRefCache::kRemoteWriteRawKey, k, i + 1);
    once.PutTagged(SeriesRefCache::kRemoteWriteRawKey, k, i + 1);
    REQUIRE(once.GetTagged(SeriesRefCache::kRemoteWriteRawKey, k) == storage::SeriesRef(i + 1));
  }
}

}  // namespace
}  // namespace vigil::server::ingest
