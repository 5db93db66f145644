// Property test of the Db lifecycle: random appends (in order, out of order, duplicates,
// conflicts), random deletes, compactions, CleanTombstones and restarts, compared with a simple
// in-memory model after every step. The default step runs a short sequence; [slow] runs long ones
// with the background thread flushing and compacting concurrently.

#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/logging.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "tests/storage/db_model_util.h"

namespace vigil::storage {
namespace {

using testing::DbContent;
using testing::FirstDifference;
using testing::Model;
using testing::ReadAll;

constexpr int kSeries = 6;
constexpr int64_t kRange = 1000;
constexpr int64_t kOooWindow = 700;

Labels S(int i) {
  return Labels::FromPairs({{"__name__", i % 2 == 0 ? "even" : "odd"}, {"i", std::to_string(i)}});
}

struct Runner {
  Runner(uint64_t seed, bool background) : rng(seed), fs(NewMemFileSystem()) {
    options.fs = fs.get();
    options.wal_sync = WalSyncPolicy::kAlways;
    options.block_range_ms = kRange;
    options.retention_ms = 0;
    options.out_of_order_window_ms = kOooWindow;
    options.chunk_target_samples = 8;
    options.background_compaction = background;
    options.compaction_interval_ms = 1;
    Reopen();
  }

  void Reopen() {
    db.reset();
    auto r = Db::Open(options, "/db");
    REQUIRE(r.ok());
    db = std::move(r).value();
  }

  int64_t Rand(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

  void AppendBatch() {
    auto app = db->NewAppender();
    // One sample per series and batch: the Append-time verdict (against committed samples) is
    // then the final one, so the model can follow it exactly.
    std::set<int> in_batch;
    std::vector<std::pair<Labels, std::pair<int64_t, double>>> pending;
    const int n = static_cast<int>(Rand(1, 40));
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(Rand(0, kSeries - 1));
      int64_t t;
      const int kind = static_cast<int>(Rand(0, 9));
      if (kind < 6) {
        now += Rand(1, 60);
        t = now;
      } else if (kind < 9) {
        t = now - Rand(0, kOooWindow + 300);  // out of order, sometimes beyond the window
      } else {
        t = now - Rand(0, 50);  // likely a duplicate or a conflict
      }
      if (!in_batch.insert(i).second) continue;
      const double v = Rand(0, 3) == 0 ? double(Rand(0, 5)) : double(t) * 0.5 + i;
      auto r = app->Append(S(i), t, v);
      if (r.ok()) {
        pending.push_back({S(i), {t, v}});
      } else {
        const StatusCode c = r.status().code();
        REQUIRE((c == StatusCode::kOutOfRange || c == StatusCode::kAlreadyExists));
      }
    }
    const uint64_t rejected_before = db->Stats().rejected_samples;
    REQUIRE(app->Commit().ok());
    if (db->Stats().rejected_samples == rejected_before) {
      for (const auto& [ls, s] : pending) model.Add(ls, s.first, s.second);
      return;
    }
    // A background flush raised the head's minimum valid time between Append and Commit, so the
    // commit dropped (and counted) some samples: only those the Db holds were accepted.
    REQUIRE(options.background_compaction);
    const DbContent now_in_db = ReadAll(*db);
    for (const auto& [ls, s] : pending) {
      auto it = now_in_db.find(ls.ToString());
      if (it != now_in_db.end() && it->second.contains(s.first)) model.Add(ls, s.first, s.second);
    }
  }

  void Delete() {
    std::vector<Matcher> ms;
    const int i = static_cast<int>(Rand(0, kSeries - 1));
    if (Rand(0, 1) == 0) {
      ms.push_back(Matcher::Make(MatchType::kEqual, "i", std::to_string(i)).value());
    } else {
      ms.push_back(Matcher::Make(MatchType::kEqual, "__name__", i % 2 == 0 ? "even" : "odd").value());
    }
    const int64_t a = Rand(now - 4 * kRange, now);
    const int64_t b = a + Rand(0, kRange);
    REQUIRE(db->DeleteSeries(ms, a, b).ok());
    for (int j = 0; j < kSeries; ++j) {
      const bool selected = ms[0].name() == "i" ? j == i : (j % 2) == (i % 2);
      if (selected) model.Delete(S(j).ToString(), a, b);
    }
  }

  void Check(const std::string& step) {
    const DbContent got = ReadAll(*db);
    INFO("after step " << step << ": " << FirstDifference(model.all(), got));
    REQUIRE(got == model.all());
    const int64_t a = Rand(now - 3 * kRange, now), b = a + Rand(0, 2 * kRange);
    REQUIRE(ReadAll(*db, ".+", a, b) == model.Range(a, b));
  }

  void Run(int steps) {
    for (int step = 0; step < steps; ++step) {
      const int op = static_cast<int>(Rand(0, 99));
      std::string name;
      if (op < 70) {
        AppendBatch();
        name = "append";
      } else if (op < 80) {
        Delete();
        name = "delete";
      } else if (op < 90) {
        REQUIRE(db->Compact().ok());
        name = "compact";
      } else if (op < 93) {
        REQUIRE(db->CleanTombstones().ok());
        name = "clean tombstones";
      } else {
        Reopen();
        name = "restart";
      }
      Check(std::to_string(step) + " (" + name + ")");
    }
  }

  std::mt19937_64 rng;
  std::unique_ptr<MemFileSystem> fs;
  DbOptions options;
  std::unique_ptr<Db> db;
  Model model;
  int64_t now = 0;
};

struct QuietLogs {
  QuietLogs() : level(MinLogLevel()) { SetMinLogLevel(LogLevel::kError); }
  ~QuietLogs() { SetMinLogLevel(level); }
  LogLevel level;
};

TEST_CASE("Db matches a model under random appends, deletes, compactions and restarts", "[storage][db][property]") {
  QuietLogs quiet;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    INFO("seed " << seed);
    Runner r(seed, /*background=*/false);
    r.Run(120);
    CHECK(r.db->Stats().blocks > 0);
  }
}

TEST_CASE("Db matches a model with background flushes and compactions (long)", "[.][slow][storage][db][property]") {
  QuietLogs quiet;
  for (uint64_t seed = 100; seed < 120; ++seed) {
    INFO("seed " << seed);
    Runner r(seed, /*background=*/seed % 2 == 0);
    r.Run(1500);
  }
}

}  // namespace
}  // namespace vigil::storage
