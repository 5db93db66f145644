// Head -> blocks, the merged querier, compaction, retention, deletes, quarantine and snapshots of
// the Db (storage/README.md, "Lifecycle").

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "storage/file_names.h"
#include "tests/storage/db_model_util.h"

namespace vigil::storage {
namespace {

using testing::DbContent;
using testing::FirstDifference;
using testing::Model;
using testing::ReadAll;

constexpr int64_t kRange = 1000;  // a small block range keeps the tests fast

DbOptions SmallOptions(FileSystem* fs) {
  DbOptions o;
  o.fs = fs;
  o.wal_sync = WalSyncPolicy::kAlways;
  o.block_range_ms = kRange;
  o.retention_ms = 0;
  o.background_compaction = false;
  o.chunk_target_samples = 16;
  return o;
}

Labels L(int i) { return Labels::FromPairs({{"__name__", "m"}, {"i", std::to_string(i)}}); }

// Appends series 0..n-1 at t = from, from+step, ... < to; value i * 1000 + t / 10.
void Fill(Db& db, Model& model, int n, int64_t from, int64_t to, int64_t step) {
  auto app = db.NewAppender();
  for (int64_t t = from; t < to; t += step) {
    for (int i = 0; i < n; ++i) {
      const double v = i * 1000 + double(t) / 10;
      REQUIRE(app->Append(L(i), t, v).ok());
      model.Add(L(i), t, v);
    }
  }
  REQUIRE(app->Commit().ok());
}

// [min_time, max_time) of every block, sorted.
std::vector<std::pair<int64_t, int64_t>> BlockRanges(const Db& db) {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const auto& b : db.Blocks()) ranges.emplace_back(b.min_time, b.max_time);
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

void ExpectSame(Db& db, const Model& model) {
  const DbContent got = ReadAll(db);
  INFO(FirstDifference(model.all(), got));
  CHECK(got == model.all());
}

TEST_CASE("Db::Compact flushes the head into blocks and serves the same data", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  {
    auto db = Db::Open(SmallOptions(fs.get()), "/db").value();
    Fill(*db, model, 5, 0, 4500, 100);
    REQUIRE(db->Compact().ok());
    const DbStats st = db->Stats();
    CHECK(st.blocks >= 1);
    CHECK(st.head_flushes >= 1);
    CHECK(st.head_series == 0);  // every series was flushed and garbage-collected
    CHECK(st.head_series_removed == 5);
    CHECK(st.block_bytes > 0);
    ExpectSame(*db, model);
    // Appends after the flush go to the head; older ones are refused.
    auto app = db->NewAppender();
    CHECK(app->Append(L(0), 100, 1).status().IsOutOfRange());
    REQUIRE(app->Append(L(0), 5000, 7).ok());
    REQUIRE(app->Commit().ok());
    model.Add(L(0), 5000, 7);
    ExpectSame(*db, model);
  }
  auto db = Db::Open(SmallOptions(fs.get()), "/db").value();
  ExpectSame(*db, model);
  // Compaction merged the level-0 blocks into bigger ranges.
  for (const BlockInfo& b : db->Blocks()) CHECK(b.max_time - b.min_time >= kRange);
}

TEST_CASE("the head flushes its oldest range once it spans 1.5 block ranges", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  DbOptions o = SmallOptions(fs.get());
  o.background_compaction = true;
  o.compaction_interval_ms = 5;
  auto db = Db::Open(o, "/db").value();
  Model model;
  Fill(*db, model, 3, 0, 1400, 50);  // spans 1350 ms: below 1.5 ranges
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(db->Stats().blocks == 0);
  Fill(*db, model, 3, 1400, 1600, 50);  // spans 1550 ms
  for (int i = 0; i < 400 && db->Stats().blocks == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(db->Stats().blocks == 1);
  const std::vector<BlockInfo> blocks = db->Blocks();
  CHECK(blocks[0].min_time == 0);
  CHECK(blocks[0].max_time == kRange);
  CHECK(blocks[0].samples == 3 * 20);
  ExpectSame(*db, model);
}

TEST_CASE("out-of-order samples end up in blocks and one merged stream", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  DbOptions o = SmallOptions(fs.get());
  o.out_of_order_window_ms = 10000;
  Model model;
  {
    auto db = Db::Open(o, "/db").value();
    Fill(*db, model, 2, 0, 3000, 100);
    auto app = db->NewAppender();
    for (int64_t t = 2950; t > 0; t -= 300) {
      REQUIRE(app->Append(L(1), t, -double(t)).ok());
      model.Add(L(1), t, -double(t));
    }
    REQUIRE(app->Commit().ok());
    REQUIRE(db->Compact().ok());
    ExpectSame(*db, model);
  }
  auto db = Db::Open(o, "/db").value();
  ExpectSame(*db, model);
  // Label names and values come from blocks and head alike.
  auto q = db->NewQuerier(INT64_MIN, INT64_MAX).value();
  CHECK(q->LabelValues("i", {}).value() == std::vector<std::string>{"0", "1"});
  CHECK(q->LabelNames({}).value() == std::vector<std::string>{"__name__", "i"});
}

TEST_CASE("deletes are honoured at once in head and blocks, survive restarts and compaction", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  auto db = Db::Open(SmallOptions(fs.get()), "/db").value();
  Fill(*db, model, 4, 0, 2000, 100);
  REQUIRE(db->Compact().ok());
  Fill(*db, model, 4, 2000, 2600, 100);  // head part
  std::vector<Matcher> ms;
  ms.push_back(Matcher::Make(MatchType::kRegexMatch, "i", "1|2").value());
  REQUIRE(db->DeleteSeries(ms, 500, 2300).ok());
  for (int i : {1, 2}) model.Delete(L(i).ToString(), 500, 2300);
  ExpectSame(*db, model);
  CHECK(db->Stats().tombstones > 0);
  CHECK(db->DeleteSeries({}, 0, 1).IsInvalidArgument());
  CHECK(db->DeleteSeries(ms, 5, 1).IsInvalidArgument());

  db.reset();
  db = Db::Open(SmallOptions(fs.get()), "/db").value();
  ExpectSame(*db, model);
  REQUIRE(db->CleanTombstones().ok());
  CHECK(db->Stats().tombstones == 0);
  ExpectSame(*db, model);
  REQUIRE(db->Compact().ok());
  ExpectSame(*db, model);
  db.reset();
  db = Db::Open(SmallOptions(fs.get()), "/db").value();
  ExpectSame(*db, model);
}

TEST_CASE("retention deletes whole blocks by time and by size", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  SECTION("time") {
    DbOptions o = SmallOptions(fs.get());
    o.retention_ms = 3000;  // compacted ranges capped at 300 ms: no merging beyond level 0
    auto db = Db::Open(o, "/db").value();
    Model model;
    Fill(*db, model, 2, 0, 8000, 100);
    REQUIRE(db->Compact().ok());
    CHECK(db->Stats().retention_deleted_blocks > 0);
    for (const BlockInfo& b : db->Blocks()) CHECK(b.max_time > 7900 - 3000);
    const DbContent got = ReadAll(*db);
    CHECK(got == model.Range(db->Blocks().front().min_time, INT64_MAX));
    CHECK(got.at(L(0).ToString()).begin()->first >= 4000);
  }
  SECTION("size") {
    DbOptions o = SmallOptions(fs.get());
    o.retention_ms = 3000;
    auto db = Db::Open(o, "/db").value();
    Model model;
    Fill(*db, model, 2, 0, 8000, 100);
    REQUIRE(db->Compact().ok());
    const std::vector<BlockInfo> before = db->Blocks();
    REQUIRE(before.size() >= 2);
    db.reset();
    o.retention_bytes = before.back().bytes + 1;  // room for about one block
    db = Db::Open(o, "/db").value();
    REQUIRE(db->Compact().ok());
    CHECK(db->Stats().block_bytes <= o.retention_bytes);
    const std::vector<BlockInfo> after = db->Blocks();
    REQUIRE(after.size() == 1);
    CHECK(after[0].id == before.back().id);  // the newest block stays
  }
}

TEST_CASE("a corrupt block is quarantined and the rest is served", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  std::vector<BlockInfo> blocks;
  {
    DbOptions o = SmallOptions(fs.get());
    o.retention_ms = 3000;  // keeps level-0 blocks apart
    auto db = Db::Open(o, "/db").value();
    Fill(*db, model, 3, 0, 3000, 100);
    REQUIRE(db->Compact().ok());
    blocks = db->Blocks();
  }
  REQUIRE(blocks.size() == 3);
  // Flip a byte in the symbols section of the middle block's index.
  const std::string index = JoinPath(BlockDirName("/db", blocks[1].id), "index");
  std::string bytes = ReadFileToString(fs.get(), index).value();
  bytes[12] ^= 0x5a;
  REQUIRE(WriteFileAtomic(fs.get(), index, bytes).ok());

  DbOptions o = SmallOptions(fs.get());
  o.retention_ms = 3000;
  auto db = Db::Open(o, "/db").value();
  const DbStats st = db->Stats();
  CHECK(st.quarantined_blocks == 1);
  REQUIRE(st.block_errors.size() == 1);
  CHECK(st.block_errors[0].find(blocks[1].id) != std::string::npos);
  CHECK(st.block_errors[0].find("orruption") != std::string::npos);
  CHECK(st.blocks == 2);
  CHECK(fs->DirExists(JoinPath(JoinPath("/db", kQuarantineDirName), blocks[1].id)));
  CHECK_FALSE(fs->DirExists(BlockDirName("/db", blocks[1].id)));
  CHECK(ReadAll(*db) == [&] {
    DbContent want = model.Range(0, 999);
    for (auto& [k, d] : model.Range(2000, 2999)) want[k].insert(d.begin(), d.end());
    return want;
  }());
}

TEST_CASE("queriers keep deleted blocks readable until they are gone", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  auto db = Db::Open(SmallOptions(fs.get()), "/db").value();
  Fill(*db, model, 2, 0, 3000, 100);
  REQUIRE(db->Compact().ok());
  Fill(*db, model, 2, 3000, 4000, 100);
  auto q = db->NewQuerier(INT64_MIN, INT64_MAX).value();
  const std::vector<BlockInfo> before = db->Blocks();
  REQUIRE(db->Compact().ok());  // merges the blocks the querier holds
  for (const BlockInfo& b : before) {
    if (fs->DirExists(BlockDirName("/db", b.id))) continue;
    FAIL("block " << b.id << " removed while a querier holds it");
  }
  auto ms = testing::NameMatcher("m");
  auto set = q->Select(ms);
  size_t samples = 0;
  while (set->Next()) {
    auto it = set->Samples();
    int64_t ts[64];
    double vs[64];
    while (size_t n = it->Next(ts, vs)) samples += n;
    CHECK(it->status().ok());
  }
  CHECK(samples == 2 * 40);  // the flushed head part stays until the querier is gone
  set.reset();
  q.reset();
  ExpectSame(*db, model);
}

TEST_CASE("Db::Snapshot writes a directory that opens with every committed sample", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  auto db = Db::Open(SmallOptions(fs.get()), "/db").value();
  Fill(*db, model, 3, 0, 2500, 100);
  REQUIRE(db->Compact().ok());
  Fill(*db, model, 3, 2500, 2900, 50);
  REQUIRE(db->Snapshot("/snap").ok());
  CHECK(db->Snapshot("/snap").code() == StatusCode::kAlreadyExists);
  Fill(*db, model, 1, 2900, 3000, 50);  // after the snapshot: not in it
  auto snap = Db::Open(SmallOptions(fs.get()), "/snap").value();
  CHECK(ReadAll(*snap) == model.Range(INT64_MIN, 2899));
}

TEST_CASE("Db::Snapshot writes the head as blocks of the second compaction range", "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  DbOptions o = SmallOptions(fs.get());
  o.retention_ms = 100 * kRange;  // compaction ranges kRange, 3 kRange, ...
  auto db = Db::Open(o, "/db").value();
  // The head spans kRange .. 5.5 kRange: four block ranges, across the 3 kRange boundary.
  Fill(*db, model, 3, kRange, 5 * kRange + kRange / 2, 50);
  REQUIRE(db->Snapshot("/snap").ok());
  auto snap = Db::Open(o, "/snap").value();
  CHECK(ReadAll(*snap) == model.Range(INT64_MIN, INT64_MAX));
  const auto ranges = BlockRanges(*snap);
  // Cut at 3 kRange only: [kRange, 3 kRange) and [3 kRange, 5.5 kRange - ...].
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0] == std::make_pair(kRange, 3 * kRange));
  CHECK(ranges[1].first == 3 * kRange);
}

TEST_CASE("Db::SnapshotCompacted writes blocks and head as blocks of the largest range",
          "[storage][db][lifecycle]") {
  auto fs = NewMemFileSystem();
  Model model;
  DbOptions o = SmallOptions(fs.get());
  o.retention_ms = 100 * kRange;  // compaction ranges kRange and 3 kRange (12 kRange > the cap)
  auto db = Db::Open(o, "/db").value();
  Fill(*db, model, 3, kRange, 3 * kRange, 50);
  REQUIRE(db->Compact().ok());  // blocks
  Fill(*db, model, 3, 3 * kRange, 5 * kRange + kRange / 2, 50);  // and a head
  const size_t live_blocks = db->Blocks().size();
  REQUIRE(live_blocks >= 1);
  REQUIRE(db->SnapshotCompacted("/snap").ok());
  CHECK(db->SnapshotCompacted("/snap").code() == StatusCode::kAlreadyExists);
  CHECK(db->Blocks().size() == live_blocks);  // the live database is untouched
  CHECK(ReadAll(*db) == model.Range(INT64_MIN, INT64_MAX));
  auto snap = Db::Open(o, "/snap").value();
  CHECK(ReadAll(*snap) == model.Range(INT64_MIN, INT64_MAX));
  // kRange .. 5.5 kRange in blocks of the largest range, 3 kRange: [0, 3 kRange) and
  // [3 kRange, ...).
  const auto ranges = BlockRanges(*snap);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].first == 0);
  CHECK(ranges[0].second == 3 * kRange);
  CHECK(ranges[1].first == 3 * kRange);
  // Empty database: an empty snapshot that opens.
  auto empty = Db::Open(o, "/empty").value();
  REQUIRE(empty->SnapshotCompacted("/snap2").ok());
  CHECK(Db::Open(o, "/snap2").value()->Blocks().empty());
}

}  // namespace
}  // namespace vigil::storage
