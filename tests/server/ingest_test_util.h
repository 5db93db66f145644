#pragma once

// Helpers for the ingest tests: a Db over an in-memory file system and reading a series back.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/fault_injection_file_system.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::server::ingest::testing {

struct TestSample {
  int64_t t;
  double v;
  friend bool operator==(const TestSample&, const TestSample&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const TestSample& s) {
  return os << "(" << s.t << ", " << s.v << ")";
}

class TestDb {
 public:
  explicit TestDb(int64_t ooo_window_ms = 60 * 60 * 1000)
      : fs_(NewMemFileSystem()), faults_(std::make_unique<FaultInjectionFileSystem>(fs_.get())) {
    storage::DbOptions opts;
    opts.fs = faults_.get();
    opts.clock = &clock_;
    opts.wal_sync = storage::WalSyncPolicy::kNever;
    opts.out_of_order_window_ms = ooo_window_ms;
    auto db = storage::Db::Open(opts, "/data");
    REQUIRE(db.ok());
    db_ = std::move(*db);
  }

  storage::Db& db() { return *db_; }
  ManualClock& clock() { return clock_; }
  FaultInjectionFileSystem& faults() { return *faults_; }

  // Samples of exactly the series `text` (PromQL notation).
  std::vector<TestSample> Read(const std::string& text) {
    auto ls = storage::ParseLabels(text);
    REQUIRE(ls.ok());
    auto q = db_->NewQuerier(INT64_MIN, INT64_MAX);
    REQUIRE(q.ok());
    std::vector<storage::Matcher> ms;
    for (const storage::Label& l : *ls) {
      ms.push_back(storage::Matcher::Make(storage::MatchType::kEqual, l.name, l.value).value());
    }
    auto set = (*q)->Select(ms);
    std::vector<TestSample> out;
    while (set->Next()) {
      if (set->labels() != *ls) continue;
      auto it = set->Samples();
      int64_t ts[16];
      double vs[16];
      while (size_t n = it->Next(ts, vs)) {
        for (size_t i = 0; i < n; ++i) out.push_back({ts[i], vs[i]});
      }
      REQUIRE(it->status().ok());
    }
    REQUIRE(set->status().ok());
    return out;
  }

  // Every series' labels in PromQL notation, sorted.
  std::vector<std::string> AllSeries() {
    auto q = db_->NewQuerier(INT64_MIN, INT64_MAX);
    REQUIRE(q.ok());
    auto m = storage::Matcher::Make(storage::MatchType::kRegexMatch, "__name__", ".*").value();
    std::vector<storage::Matcher> ms{m};
    auto set = (*q)->Select(ms);
    std::vector<std::string> out;
    while (set->Next()) out.push_back(set->labels().ToString());
    REQUIRE(set->status().ok());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::unique_ptr<MemFileSystem> fs_;
  std::unique_ptr<FaultInjectionFileSystem> faults_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<storage::Db> db_;
};

}  // namespace vigil::server::ingest::testing
