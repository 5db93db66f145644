// The remote-write 1.0 fast path: a series whose label fields' bytes are in the series cache
// (SeriesRefCache::kRemoteWriteRawKey) is appended by ref without decoding or checking its labels.
// These tests hold it to the slow path: the same bodies written with and without the cache give
// the same outcomes and the same stored series, whatever the encoding.

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_decode.h"
#include "server/ingest/remote_write_encode.h"
#include "server/ingest/series_cache.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using storage::Label;
using testing::TestDb;
using testing::TestSample;

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Len(int field, std::string_view payload) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(payload.size()) +
         std::string(payload);
}
// prometheus.Label as a TimeSeries field (tag 0x0a).
std::string LabelField(std::string_view name, std::string_view value) {
  return Len(1, Len(1, name) + Len(2, value));
}
// prometheus.Sample as a TimeSeries field, value then timestamp (the senders' order).
std::string SampleField(double v, int64_t t) {
  std::string s = "\x09";
  char b[8];
  std::memcpy(b, &v, 8);
  s.append(b, 8);
  s += "\x10" + Varint(static_cast<uint64_t>(t));
  return Len(2, s);
}
std::string Series(const std::string& fields) { return Len(1, fields); }

// Every shape of series the two paths must agree on; `t` is the step's timestamp.
std::string Body(int64_t t, bool with_bad_series) {
  std::string b;
  // The usual encoding: labels, then one sample.
  b += Series(LabelField("__name__", "up") + LabelField("job", "a") + SampleField(1, t));
  // Two samples, out of order.
  b += Series(LabelField("__name__", "up") + LabelField("job", "b") + SampleField(2, t + 1) +
              SampleField(3, t));
  // Labels after the sample (still one run).
  b += Series(SampleField(4, t) + LabelField("__name__", "up") + LabelField("job", "c"));
  // Labels split by a sample: not one run, keyed by the decoded labels.
  b += Series(LabelField("__name__", "up") + SampleField(5, t) + LabelField("job", "d"));
  // The same series as the first, spelled differently (value before name inside the Label).
  b += Series(Len(1, Len(2, "up") + Len(1, "__name__")) + Len(1, Len(2, "a") + Len(1, "job")) +
              SampleField(6, t + 2));
  // A Label with an unknown field.
  b += Series(Len(1, Len(1, "__name__") + Len(2, "up") + Len(7, "x")) + LabelField("job", "e") +
              SampleField(7, t));
  // Value 0 omitted from the Sample (not the fast path's encoding).
  b += Series(LabelField("__name__", "up") + LabelField("job", "f") +
              Len(2, "\x10" + Varint(static_cast<uint64_t>(t))));
  // An exemplar (skipped and counted) and a histogram (rejected).
  b += Series(LabelField("__name__", "up") + LabelField("job", "g") + SampleField(8, t) +
              Len(3, "ex"));
  b += Series(LabelField("__name__", "up") + LabelField("job", "h") + SampleField(9, t) +
              Len(4, "hist"));
  // An empty label value (dropped), unsorted labels, a duplicate name, no sample at all.
  b += Series(LabelField("__name__", "up") + LabelField("a", "") + LabelField("job", "i") +
              SampleField(10, t));
  b += Series(LabelField("job", "j") + LabelField("__name__", "up") + SampleField(11, t));
  b += Series(LabelField("__name__", "up") + LabelField("job", "k") + LabelField("job", "k") +
              SampleField(12, t));
  b += Series(LabelField("__name__", "up") + LabelField("job", "l"));
  if (with_bad_series) {
    // A known series whose sample is cut short: the whole request is refused.
    b += Series(LabelField("__name__", "up") + LabelField("job", "a") +
                Len(2, std::string("\x09\x01\x02", 3)));
  }
  return b;
}

void CheckSame(const IngestOutcome& a, const IngestOutcome& b) {
  INFO(a.message);
  INFO(b.message);
  CHECK(a.code == b.code);
  CHECK(a.message == b.message);
  CHECK(a.samples_written == b.samples_written);
  CHECK(a.series_seen == b.series_seen);
  CHECK(a.exemplars_skipped == b.exemplars_skipped);
  CHECK(a.rejected == b.rejected);
}

void CheckSameDb(TestDb& a, TestDb& b) {
  const std::vector<std::string> series = a.AllSeries();
  CHECK(series == b.AllSeries());
  for (const std::string& s : series) {
    INFO(s);
    CHECK(a.Read(s) == b.Read(s));
  }
}

TEST_CASE("remote write fast path: cached and uncached ingest agree on every shape",
          "[server][remote_write][series_cache]") {
  TestDb with, without, colliding;
  SeriesRefCache cache;
  SeriesRefCache all_collide(1u << 20, /*hash_mask=*/0);
  IngestOptions o, oc;
  o.series_cache = &cache;
  oc.series_cache = &all_collide;
  for (int step = 0; step < 4; ++step) {
    const int64_t t = 1000 * (step + 1);
    const std::string body = Body(t, step == 2);
    const IngestOutcome a = IngestRemoteWriteProto(with.db(), body, RemoteWriteVersion::k1, o);
    const IngestOutcome b = IngestRemoteWriteProto(without.db(), body, RemoteWriteVersion::k1, {});
    const IngestOutcome c =
        IngestRemoteWriteProto(colliding.db(), body, RemoteWriteVersion::k1, oc);
    CheckSame(a, b);
    CheckSame(c, b);
    if (step == 2) {
      CHECK(a.code == IngestCode::kBadInput);
      CHECK(a.message.find("nothing was written") != std::string::npos);
    } else {
      // Partly written: the series with unsorted and duplicate labels are refused (400).
      CHECK(a.message.find("nothing was written") == std::string::npos);
      CHECK(a.samples_written == 11);
      CHECK(a.exemplars_skipped == 1);
    }
  }
  CheckSameDb(with, without);
  CheckSameDb(colliding, without);
  CHECK(with.Read("up{job=\"a\"}") ==
        std::vector<TestSample>{{1000, 1}, {1002, 6}, {2000, 1}, {2002, 6}, {4000, 1}, {4002, 6}});
  // Three steps of the fast path: every series in the common shape was a hit after the first.
  CHECK(cache.stats().hits > 0);
  CHECK(all_collide.stats().hits == cache.stats().hits);
  CHECK(all_collide.size() == cache.size());
}

TEST_CASE("remote write fast path: keys that share a hash keep their own refs",
          "[server][series_cache]") {
  SeriesRefCache cache(1u << 20, /*hash_mask=*/0);
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "abc", 1);
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "abd", 2);
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "ab", 3);
  cache.Put(std::string(1, SeriesRefCache::kRemoteWriteKey) + "abc", 4);
  cache.Put(std::string(1, SeriesRefCache::kRemoteWriteRawKey) + "xyz", 5);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "abc") == 1);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "abd") == 2);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "ab") == 3);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteKey, "abc") == 4);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "xyz") == 5);
  CHECK(cache.Get(std::string(1, SeriesRefCache::kRemoteWriteRawKey) + "abd") == 2);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "abe") == storage::kNoSeriesRef);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteKey, "abd") == storage::kNoSeriesRef);
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "abd", 6);
  CHECK(cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, "abd") == 6);
  CHECK(cache.size() == 5);
  // Without the mask the tagged and the built key are one entry too.
  SeriesRefCache normal;
  normal.PutTagged(SeriesRefCache::kRemoteWriteRawKey, "k", 7);
  CHECK(normal.Get(std::string(1, SeriesRefCache::kRemoteWriteRawKey) + "k") == 7);
  CHECK(normal.size() == 1);
}

TEST_CASE("remote write fast path: a stale raw-key ref falls back to the labels",
          "[server][series_cache]") {
  TestDb t;
  SeriesRefCache cache;
  IngestOptions o;
  o.series_cache = &cache;
  const std::string raw = LabelField("__name__", "up") + LabelField("job", "z");
  cache.PutTagged(SeriesRefCache::kRemoteWriteRawKey, raw, 987654);
  const IngestOutcome out = IngestRemoteWriteProto(
      t.db(), Series(raw + SampleField(1, 1000) + SampleField(2, 2000)), RemoteWriteVersion::k1, o);
  INFO(out.message);
  REQUIRE(out.ok());
  CHECK(out.samples_written == 2);
  CHECK(t.Read("up{job=\"z\"}") == std::vector<TestSample>{{1000, 1}, {2000, 2}});
  CHECK(cache.stats().stale == 1);
  const storage::SeriesRef ref = cache.GetTagged(SeriesRefCache::kRemoteWriteRawKey, raw);
  CHECK(ref != 987654);
  CHECK(ref != storage::kNoSeriesRef);
}

TEST_CASE("remote write fast path: raw labels decode to the labels of the slow path",
          "[server][remote_write]") {
  struct Collect final : RemoteWriteHandler {
    void OnSeries(const DecodedSeries& s) override {
      raw.emplace_back(s.raw_labels);
      labels.emplace_back(s.labels.begin(), s.labels.end());
    }
    std::vector<std::string> raw;
    std::vector<std::vector<Label>> labels;
  } h;
  RemoteWriteScratch scratch;
  const std::string body = Body(1000, false);
  REQUIRE(DecodeRemoteWrite(body, RemoteWriteVersion::k1, h, &scratch).ok());
  REQUIRE(h.raw.size() == 13);
  CHECK(h.raw[3].empty());  // labels split by a sample
  for (size_t i = 0; i < h.raw.size(); ++i) {
    if (h.raw[i].empty()) continue;
    INFO(i);
    std::vector<Label> decoded;
    REQUIRE(DecodeLabelsV1(h.raw[i], &decoded).ok());
    CHECK(decoded == h.labels[i]);
  }
  std::vector<Label> bad;
  CHECK(!DecodeLabelsV1(std::string("\x0a\x05\x0a\x01", 4), &bad).ok());
}

}  // namespace
}  // namespace vigil::server::ingest
