// Db-level benchmarks: replaying the WAL into the head on open (the restart path).
//   storage_bench --benchmark_filter=Db
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/base/logging.h"
#include "storage/db.h"
#include "storage/head/replay_workers.h"
#include "storage/labels.h"

namespace vigil::storage {
namespace {

// WAL written by a Db, then Db::Open timed: read, decode and apply every record to a fresh head.
// Data: state.range(0) series of 10 labels, 120 samples each at a 15 s interval, values a counter
// with a fractional step, committed in batches of one sample per series (as a scrape would).
// state.range(2): DbOptions::wal_replay_threads (0 = one per core, 1 = the opening thread only).
void BM_DbReplay(benchmark::State& state) {
  SetMinLogLevel(LogLevel::kWarn);
  const int series = static_cast<int>(state.range(0));
  const int samples_per_series = 120;
  char tmpl[] = "/var/tmp/vigil-db-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string dir = std::string(tmpl) + "/data";
  {
    DbOptions o;
    o.wal_sync = WalSyncPolicy::kNever;
    auto db = Db::Open(o, dir);
    if (!db.ok()) {
      state.SkipWithError(db.status().ToString().c_str());
      return;
    }
    std::vector<Labels> labels;
    for (int s = 0; s < series; ++s) {
      labels.push_back(Labels::FromPairs(
          {{"__name__", "node_cpu_seconds_total"}, {"cpu", std::to_string(s % 64)},
           {"mode", "user"}, {"instance", "host-" + std::to_string(s / 64) + ":9100"},
           {"job", "node"}, {"region", "eu-west-1"}, {"az", "eu-west-1a"},
           {"env", "prod"}, {"team", "storage"}, {"series", std::to_string(s)}}));
    }
    auto app = (*db)->NewAppender();
    std::vector<SeriesRef> refs(series, kNoSeriesRef);
    for (int i = 0; i < samples_per_series; ++i) {
      for (int s = 0; s < series; ++s) {
        const int64_t t = 1'700'000'000'000 + int64_t(i) * 15'000;
        const double v = double(s) + i * 0.25;
        if (refs[s] == kNoSeriesRef) {
          refs[s] = app->Append(labels[s], t, v).value();
        } else if (!app->AppendByRef(refs[s], t, v).ok()) {
          state.SkipWithError("append failed");
          return;
        }
      }
      if (!app->Commit().ok()) {
        state.SkipWithError("commit failed");
        return;
      }
    }
    if (!(*db)->Close().ok()) {
      state.SkipWithError("close failed");
      return;
    }
  }
  uint64_t replayed = 0;
  for (auto _ : state) {
    DbOptions o;
    o.wal_sync = WalSyncPolicy::kNever;
    o.head_adaptive_chunks = state.range(1) != 0;
    o.wal_replay_threads = static_cast<int>(state.range(2));
    auto db = Db::Open(o, dir);
    if (!db.ok()) {
      state.SkipWithError(db.status().ToString().c_str());
      break;
    }
    replayed = (*db)->Stats().wal_replayed_samples;
    state.PauseTiming();
    db->reset();  // the close (and the next run's empty new segment) is not replay work
    state.ResumeTiming();
  }
  state.counters["samples"] = double(replayed);
  state.counters["threads"] = double(ReplayWorkers::ThreadsFor(static_cast<int>(state.range(2))));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(replayed));
  std::filesystem::remove_all(tmpl);
}
BENCHMARK(BM_DbReplay)
    ->ArgNames({"series", "adaptive", "threads"})
    ->Args({10'000, 1, 1})
    ->Args({10'000, 1, 0})
    ->Args({10'000, 0, 1})
    ->Args({10'000, 0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace vigil::storage
