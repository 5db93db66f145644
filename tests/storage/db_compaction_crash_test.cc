// A crash at every step of a head flush, a compaction, retention and CleanTombstones: the n-th
// write, sync, directory sync, rename or file creation fails, then the machine loses power
// (MemFileSystem::SimulateCrash). The reopened directory must hold exactly the acknowledged data
// (WAL sync kAlways; retention off so that nothing is meant to go), no leftovers and no block superseded by a compacted one.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "storage/base/fault_injection_file_system.h"
#include "storage/base/logging.h"
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

Labels C(int i) { return Labels::FromPairs({{"__name__", "c"}, {"i", std::to_string(i)}}); }

DbOptions CrashOptions(FileSystem* fs) {
  DbOptions o;
  o.fs = fs;
  o.wal_sync = WalSyncPolicy::kAlways;
  o.block_range_ms = 1000;
  o.retention_ms = 0;
  o.background_compaction = false;
  o.chunk_target_samples = 8;
  return o;
}

void Fill(Db& db, Model& model, int64_t from, int64_t to) {
  auto app = db.NewAppender();
  for (int64_t t = from; t < to; t += 100) {
    for (int i = 0; i < 3; ++i) {
      REQUIRE(app->Append(C(i), t, double(t) + i).ok());
      model.Add(C(i), t, double(t) + i);
    }
  }
  REQUIRE(app->Commit().ok());
}

// Blocks in the head range, on disk and in the WAL, deletes in both, data in several levels.
void Prepare(Db& db, Model& model) {
  Fill(db, model, 0, 3000);
  REQUIRE(db.Compact().ok());
  Fill(db, model, 3000, 9000);
  std::vector<Matcher> ms;
  ms.push_back(Matcher::Make(MatchType::kEqual, "i", "1").value());
  REQUIRE(db.DeleteSeries(ms, 1500, 3500).ok());
  model.Delete(C(1).ToString(), 1500, 3500);
}

void CheckDirectory(MemFileSystem* fs, Db& db) {
  std::set<std::string> ids;
  for (const BlockInfo& b : db.Blocks()) ids.insert(b.id);
  for (const BlockInfo& b : db.Blocks()) {
    for (const std::string& src : b.sources) CHECK_FALSE(ids.contains(src));
  }
  auto names = fs->ListDir("/db");
  REQUIRE(names.ok());
  for (const std::string& name : *names) {
    CHECK_FALSE(IsTmpName(name));
    if (IsBlockDirName(name)) CHECK(ids.contains(name));
  }
}

enum class Action { kCompact, kCleanTombstones };

void CrashEverywhere(Action action, FaultOp op) {
  int crashes = 0;
  for (uint64_t n = 1;; ++n) {
    auto mem = NewMemFileSystem();
    FaultInjectionFileSystem fs(mem.get());
    Model model;
    auto db = Db::Open(CrashOptions(&fs), "/db").value();
    Prepare(*db, model);
    fs.ResetCounters();
    fs.FailNth(op, n);
    Status st = action == Action::kCompact ? db->Compact() : db->CleanTombstones();
    const bool hit = fs.injected_faults() > 0;
    // Power loss: nothing the dying process does afterwards may become durable.
    for (int o = 0; o < kNumFaultOps; ++o) fs.FailNth(static_cast<FaultOp>(o), 1, /*sticky=*/true);
    db.reset();
    mem->SimulateCrash();
    fs.ClearFaults();
    auto reopened = Db::Open(CrashOptions(&fs), "/db");
    INFO("fault " << int(op) << " #" << n << ": " << st.ToString());
    REQUIRE(reopened.ok());
    const DbContent got = ReadAll(**reopened);
    INFO(FirstDifference(model.all(), got));
    CHECK(got == model.all());
    CheckDirectory(mem.get(), **reopened);
    // And the reopened database finishes the work.
    REQUIRE((*reopened)->Compact().ok());
    CHECK(ReadAll(**reopened) == model.all());
    if (!hit) break;
    ++crashes;
  }
  CHECK(crashes > 0);
}

struct QuietLogs {
  QuietLogs() : level(MinLogLevel()) { SetMinLogLevel(LogLevel::kFatal); }
  ~QuietLogs() { SetMinLogLevel(level); }
  LogLevel level;
};

TEST_CASE("a crash at every step of a flush and compaction leaves a consistent directory", "[.][crash][storage][db][compaction]") {
  QuietLogs quiet;
  for (FaultOp op : {FaultOp::kAppend, FaultOp::kSync, FaultOp::kSyncDir, FaultOp::kRename, FaultOp::kOpenWrite}) {
    CrashEverywhere(Action::kCompact, op);
  }
}

TEST_CASE("a crash at every step of CleanTombstones leaves a consistent directory", "[.][crash][storage][db][compaction]") {
  QuietLogs quiet;
  for (FaultOp op : {FaultOp::kAppend, FaultOp::kSync, FaultOp::kSyncDir, FaultOp::kRename, FaultOp::kOpenWrite}) {
    CrashEverywhere(Action::kCleanTombstones, op);
  }
}

}  // namespace
}  // namespace vigil::storage
