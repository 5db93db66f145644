#include "storage/wal/checkpoint.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "tests/storage/wal/wal_test_util.h"

namespace vigil::storage::wal {
namespace {

using testing::ReplayAll;
using testing::SegmentPath;

const std::string kDir = "/db/wal";

std::string Labels(std::string_view name, std::string_view value) {
  std::string out;
  const LabelView pairs[] = {{"__name__", name}, {"i", value}};
  EncodeLabelPairs(pairs, &out);
  return out;
}

// What a replay delivers, decoded.
struct Contents {
  std::map<SeriesRef, std::string> series;  // ref -> labels encoding
  std::vector<RefSample> samples;
  std::vector<RefTombstone> tombstones;
  size_t series_records = 0;
};

Contents Decode(const std::vector<std::string>& records) {
  Contents c;
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefTombstone> stones;
  for (const std::string& rec : records) {
    switch (PeekRecordType(rec).value()) {
      case RecordType::kSeries:
        REQUIRE(DecodeSeries(rec, &series).ok());
        for (const auto& s : series) c.series[s.ref] = std::string(s.labels);
        c.series_records += series.size();
        break;
      case RecordType::kSamples:
        REQUIRE(DecodeSamples(rec, &samples).ok());
        c.samples.insert(c.samples.end(), samples.begin(), samples.end());
        break;
      case RecordType::kTombstones:
        REQUIRE(DecodeTombstones(rec, &stones).ok());
        c.tombstones.insert(c.tombstones.end(), stones.begin(), stones.end());
        break;
    }
  }
  return c;
}

// Series 1..10 are created in segment 0; each segment i then holds samples at t = 100*i + k for
// every series, plus a tombstone for series i+1 over [100*i, 100*i + 50].
std::unique_ptr<Wal> Populate(FileSystem* fs, int segments) {
  auto wal = std::move(Wal::Open(fs, kDir, WalOptions{.sync_policy = SyncPolicy::kNever}).value());
  std::vector<std::string> labels;
  std::vector<RefSeries> series;
  for (SeriesRef ref = 1; ref <= 10; ++ref) labels.push_back(Labels("m", std::to_string(ref)));
  for (SeriesRef ref = 1; ref <= 10; ++ref) series.push_back({ref, labels[ref - 1]});
  std::string rec;
  EncodeSeries(series, &rec);
  REQUIRE(wal->Log(rec).ok());
  for (int seg = 0; seg < segments; ++seg) {
    if (seg > 0) REQUIRE(wal->NextSegment().ok());
    std::vector<RefSample> samples;
    for (SeriesRef ref = 1; ref <= 10; ++ref) {
      for (int k = 0; k < 5; ++k) samples.push_back({ref, 100 * seg + k, double(ref * 1000 + k)});
    }
    rec.clear();
    EncodeSamples(samples, &rec);
    std::string stones;
    EncodeTombstones(std::vector<RefTombstone>{{SeriesRef(seg + 1), 100 * seg, 100 * seg + 50}},
                     &stones);
    const std::string_view batch[] = {rec, stones};
    REQUIRE(wal->Log(batch).ok());
  }
  return wal;
}

TEST_CASE("wal checkpoint: keeps kept series and recent samples, drops the rest",
          "[storage][wal]") {
  auto fs = NewMemFileSystem();
  auto wal = Populate(fs.get(), 5);  // segments 0..4
  REQUIRE(wal->LastSegment() == 4);

  auto keep_even = [](SeriesRef ref) { return ref % 2 == 0; };
  CHECK(Checkpoint(wal.get(), 0, 4, keep_even, 0).status().IsInvalidArgument());  // active
  auto stats = Checkpoint(wal.get(), 0, 2, keep_even, /*min_time=*/100);
  REQUIRE(stats.ok());
  CHECK(stats->index == 2);
  CHECK(stats->series_kept == 5);
  CHECK(stats->series_dropped == 5);
  CHECK(stats->samples_kept == 5 * 5 * 2);  // even series, segments 1 and 2
  CHECK(stats->samples_dropped == 150 - 50);
  CHECK(stats->segments_deleted == 3);

  CHECK(fs->DirExists(JoinPath(kDir, "checkpoint.00000002")));
  CHECK_FALSE(fs->DirExists(JoinPath(kDir, "checkpoint.00000002.tmp")));
  for (uint64_t s = 0; s <= 2; ++s) CHECK_FALSE(fs->FileExists(SegmentPath(kDir, s)));
  CHECK(fs->FileExists(SegmentPath(kDir, 3)));

  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.stats.checkpoint == 2);
  const Contents c = Decode(r.records);
  REQUIRE(c.series.size() == 5);
  for (const auto& [ref, labels] : c.series) {
    CHECK(ref % 2 == 0);
    CHECK(labels == Labels("m", std::to_string(ref)));
  }
  // Checkpointed samples (t in [100, 204], even refs) then segments 3 and 4 (all refs).
  size_t from_checkpoint = 0;
  for (const RefSample& s : c.samples) {
    if (s.t < 300) {
      ++from_checkpoint;
      CHECK(s.ref % 2 == 0);
      CHECK(s.t >= 100);
      CHECK(s.v == double(s.ref * 1000 + s.t % 100));
    }
  }
  CHECK(from_checkpoint == 50);
  CHECK(c.samples.size() == 50 + 100);
  // Tombstones: segment 1's is for ref 2 (kept, max_t 150 >= 100); segment 2's is for ref 3
  // (dropped); segment 0's has max_t 50 < 100. Then the ones from segments 3 and 4.
  REQUIRE(c.tombstones.size() == 3);
  CHECK(c.tombstones[0] == RefTombstone{2, 100, 150});
  CHECK(c.tombstones[1].ref == 4);
}

TEST_CASE("wal checkpoint: a second checkpoint folds the first and deletes it", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  auto wal = Populate(fs.get(), 6);
  auto keep_all = [](SeriesRef) { return true; };
  REQUIRE(Checkpoint(wal.get(), 0, 1, keep_all, 0).ok());
  // Segment 2 is the first one not folded yet: starting at 3 would lose it.
  CHECK(Checkpoint(wal.get(), 3, 4, keep_all, 0).status().IsInvalidArgument());
  std::set<SeriesRef> asked;
  auto stats = Checkpoint(wal.get(), 2, 3, [&](SeriesRef ref) {
    CHECK(asked.insert(ref).second);  // once per ref
    return ref <= 3;
  }, 0);
  REQUIRE(stats.ok());
  CHECK(stats->checkpoints_deleted == 1);
  CHECK(asked.size() == 10);
  CHECK_FALSE(fs->DirExists(JoinPath(kDir, "checkpoint.00000001")));

  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.stats.checkpoint == 3);
  const Contents c = Decode(r.records);
  CHECK(c.series_records == 3);  // each kept series once
  size_t old = 0;
  for (const RefSample& s : c.samples) old += s.t < 400;
  CHECK(old == 3 * 5 * 4);  // refs 1..3, 5 samples, segments 0..3
  CHECK(c.samples.size() == old + 2 * 50);
}

TEST_CASE("wal checkpoint: corruption in the input changes nothing", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  auto wal = Populate(fs.get(), 4);
  const std::string path = SegmentPath(kDir, 1);
  std::string data = testing::ReadAll(fs.get(), path);
  data[kSegmentHeaderSize + kFragmentHeaderSize + 3] ^= 1;
  REQUIRE(testing::WriteAll(fs.get(), path, data).ok());
  auto stats = Checkpoint(wal.get(), 0, 2, [](SeriesRef) { return true; }, 0);
  REQUIRE(stats.status().IsCorruption());
  CHECK_THAT(stats.status().message(), Catch::Contains("00000001"));
  CHECK(fs->FileExists(SegmentPath(kDir, 0)));
  CHECK(ListCheckpoints(fs.get(), kDir).value().empty());
  CHECK_FALSE(fs->DirExists(JoinPath(kDir, "checkpoint.00000002.tmp")));
}

TEST_CASE("wal checkpoint: a crash after publishing replays the same records", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  {
    auto wal = Populate(fs.get(), 4);
    REQUIRE(wal->Sync().ok());
    REQUIRE(Checkpoint(wal.get(), 0, 2, [](SeriesRef) { return true; }, 0).ok());
    const auto before = ReplayAll(fs.get(), kDir);
    REQUIRE(before.status.ok());
    fs->SimulateCrash();
    const auto after = ReplayAll(fs.get(), kDir);
    REQUIRE(after.status.ok());
    CHECK(after.records == before.records);
    CHECK(after.stats.checkpoint == 2);
  }
  // A new writer continues after the checkpoint and the last segment.
  auto wal = std::move(Wal::Open(fs.get(), kDir, WalOptions{}).value());
  CHECK(wal->LastSegment() == 4);
}

}  // namespace
}  // namespace vigil::storage::wal
