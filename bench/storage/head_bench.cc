// Head benchmarks (storage/head/README.md).
//
//   BM_HeadAppend/by_ref/series:N/wal:W/adaptive:A     AppendByRef, 1000 samples per Commit(),
//                                                      round-robin over N existing series
//   BM_HeadAppend/by_labels/series:N/wal:W/adaptive:A  Append(labels, ...) with pre-built Labels
//                                                      (hash + look-up + compare; series exist)
//   BM_HeadMemory/<values>/series:1000000              bytes per active series of 10 labels
//                                                      after 1, 60 and 120 samples each
//   BM_HeadMemory/highcard/series:1000000              the same with bench/macro's highcard labels
//                                                      (4: name, unique instance and pod, 100 jobs)
//
// wal:0 is wal == nullptr; wal:1 a Wal with SyncPolicy::kNever on a temporary directory under
// $TMPDIR or /tmp (removed afterwards). adaptive:1 re-encodes every cut chunk with the adaptive
// EncodeChunk (the default), adaptive:0 keeps the Gorilla bytes (shows the re-encoding's share). Times are CPU time of the appending thread
// (the machine is shared, so wall time would measure the neighbours). Values are real telemetry (the real-scrape
// dataset, cycled over the series) unless the name says tsbs (float random walks: the worst
// realistic case for chunk size). Counters:
//   items_per_second            samples appended per second (one thread)
//   time_per_sample             CPU seconds per sample (SI prefix: 95n = 95 ns)
//   bytes_per_series_<n>        Stats().memory_bytes / series after n samples per series
//   rss_per_series_<n>          growth of the process' resident set since before the head was
//                               created, / series (malloc's view of the same thing)

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/data/datasets.h"
#include "storage/base/file_system.h"
#include "storage/head/head.h"
#include "storage/labels.h"
#include "storage/wal/wal.h"

namespace vigil::bench {
namespace {

using storage::Appender;
using storage::Head;
using storage::HeadOptions;
using storage::Labels;
using storage::SeriesRef;

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kIntervalMs = 15'000;
constexpr int kBatch = 1000;

// The CPU model, for the run's context (Google Benchmark prints cores and caches, not the model).
const bool kContextAdded = [] {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      benchmark::AddCustomContext("cpu_model", line.substr(line.find(':') + 2));
      break;
    }
  }
  return true;
}();

// Ten labels in the style of a TSBS host: a metric name (100 of them), a hostname shared by the
// host's 100 metrics, and eight tags with a handful of values each.
Labels SeriesLabels(int i, storage::LabelsBuilder* b) {
  const int host = i / 100;
  b->Reset();
  b->Add("__name__", "metric_" + std::to_string(i % 100));
  b->Add("hostname", "host_" + std::to_string(host));
  b->Add("region", "region_" + std::to_string(host % 10));
  b->Add("datacenter", "dc_" + std::to_string(host % 30));
  b->Add("rack", std::to_string(host % 100));
  b->Add("os", host % 3 == 0 ? "Ubuntu16.04LTS" : host % 3 == 1 ? "Ubuntu15.10" : "Ubuntu16.10");
  b->Add("arch", host % 2 ? "x64" : "x86");
  b->Add("team", "team_" + std::to_string(host % 5));
  b->Add("service", std::to_string(host % 20));
  b->Add("env", host % 3 == 0 ? "production" : host % 3 == 1 ? "staging" : "test");
  return b->Build().value();
}

// bench/macro's highcard series (bench/data/telemetry.cc HighCardinality): two labels unique to the
// series, so postings lists of one ref and a symbol per series and label.
Labels HighCardLabels(int k, storage::LabelsBuilder* b) {
  char instance[32];
  std::snprintf(instance, sizeof(instance), "10.%d.%d.%d:8080", (k >> 16) & 255, (k >> 8) & 255,
                k & 255);
  b->Reset();
  b->Add("__name__", "hc_requests_total");
  b->Add("instance", instance);
  b->Add("job", "svc-" + std::to_string(k % 100));
  b->Add("pod", "pod-" + std::to_string(k));
  return b->Build().value();
}

// Value streams cycled over the series: series s uses stream s % count, sample k its value
// k % kLen (every stream is repeated to kLen values at load, so the hot loop needs no division).
struct Values {
  static constexpr size_t kLen = 720;
  std::vector<double> data;  // count * kLen
  size_t count = 0;
  std::string error;
  double At(size_t series, size_t k) const { return data[(series % count) * kLen + k % kLen]; }
  void Add(const std::vector<double>& vs) {
    if (vs.empty()) return;
    for (size_t k = 0; k < kLen; ++k) data.push_back(vs[k % vs.size()]);
    ++count;
  }
};

const Values& RealScrapeValues() {
  static const Values v = [] {
    Values out;
    Dataset ds;
    if (!LoadRealScrape(DatasetsDir(), &ds, &out.error)) return out;
    for (const auto& s : ds.series) out.Add(s.vs);
    return out;
  }();
  return v;
}

const Values& TsbsValues() {
  static const Values v = [] {
    Values out;
    TsbsCpuOptions o;
    o.hosts = 1000;  // 10 000 streams
    o.samples_per_series = 240;
    for (const auto& s : TsbsCpu(o).series) out.Add(s.vs);
    return out;
  }();
  return v;
}

// A Wal with SyncPolicy::kNever in a fresh temporary directory, removed on destruction.
class TempWal {
 public:
  bool Open(std::string* error) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/vigil-head-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      *error = "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
    storage::wal::WalOptions o;
    o.sync_policy = storage::wal::SyncPolicy::kNever;
    auto w = storage::wal::Wal::Open(DefaultFileSystem(), dir_ + "/wal", o);
    if (!w.ok()) {
      *error = w.status().ToString();
      return false;
    }
    wal_ = std::move(w).value();
    return true;
  }
  ~TempWal() {
    wal_.reset();
    if (!dir_.empty()) DefaultFileSystem()->RemoveDirAll(dir_).IgnoreError();
  }
  storage::wal::Wal* get() const { return wal_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<storage::wal::Wal> wal_;
};

bool Check(benchmark::State& state, const Status& st) {
  if (st.ok()) return true;
  state.SkipWithError(st.ToString().c_str());
  return false;
}

// Appends the first sample of every series by labels, committing every kBatch; returns refs.
bool CreateSeries(benchmark::State& state, Appender* app, int n, const Values& values,
                  std::vector<SeriesRef>* refs, std::vector<Labels>* keep_labels,
                  bool highcard = false) {
  storage::LabelsBuilder b;
  refs->resize(n);
  for (int i = 0; i < n; ++i) {
    Labels ls = highcard ? HighCardLabels(i, &b) : SeriesLabels(i, &b);
    auto r = app->Append(ls, kStartMs, values.At(i, 0));
    if (!Check(state, r.status())) return false;
    (*refs)[i] = *r;
    if (keep_labels != nullptr) keep_labels->push_back(std::move(ls));
    if ((i + 1) % kBatch == 0 && !Check(state, app->Commit())) return false;
  }
  return Check(state, app->Commit());
}

void BM_HeadAppend(benchmark::State& state, bool by_labels) {
  const int series = static_cast<int>(state.range(0));
  const bool with_wal = state.range(1) != 0;
  const Values& values = RealScrapeValues();
  if (!values.error.empty()) {
    state.SkipWithError(("real-scrape dataset unavailable: " + values.error).c_str());
    return;
  }
  TempWal wal;
  std::string error;
  if (with_wal && !wal.Open(&error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  HeadOptions opts;
  opts.adaptive_closed_chunks = state.range(2) != 0;
  Head head(opts);
  auto app = head.NewAppender(with_wal ? wal.get() : nullptr);
  std::vector<SeriesRef> refs;
  std::vector<Labels> labels;
  if (!CreateSeries(state, app.get(), series, values, &refs, by_labels ? &labels : nullptr)) return;

  // Position: series s (its value stream `stream`), round `round` (its value index `k`).
  size_t s = 0, stream = 0, round = 1, k = 1;
  int64_t t = kStartMs + kIntervalMs;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      const double v = values.data[stream * Values::kLen + k];
      if (by_labels) {
        auto r = app->Append(labels[s], t, v);
        if (!r.ok()) return (void)Check(state, r.status());
      } else if (Status st = app->AppendByRef(refs[s], t, v); !st.ok()) {
        return (void)Check(state, st);
      }
      if (++stream == values.count) stream = 0;
      if (++s == static_cast<size_t>(series)) {
        s = stream = 0;
        ++round;
        t += kIntervalMs;
        if (++k == Values::kLen) k = 0;
      }
    }
    if (!Check(state, app->Commit())) return;
  }
  const int64_t samples = static_cast<int64_t>(state.iterations()) * kBatch;
  state.SetItemsProcessed(samples);
  state.counters["time_per_sample"] = benchmark::Counter(
      static_cast<double>(samples), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["rounds"] = static_cast<double>(round);
}

size_t ResidentBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void BM_HeadMemory(benchmark::State& state, bool tsbs, bool highcard = false) {
  const int series = static_cast<int>(state.range(0));
  const Values& values = tsbs ? TsbsValues() : RealScrapeValues();
  if (!values.error.empty()) {
    state.SkipWithError(("dataset unavailable: " + values.error).c_str());
    return;
  }
  for (auto _ : state) {
    std::vector<SeriesRef> refs;
    refs.reserve(series);
    const size_t rss0 = ResidentBytes();
    {
      Head head(HeadOptions{});
      auto app = head.NewAppender(nullptr);
      if (!CreateSeries(state, app.get(), series, values, &refs, nullptr, highcard)) return;
      auto report = [&](int n) {
        const storage::HeadStats st = head.Stats();
        const double per = static_cast<double>(st.memory_bytes) / static_cast<double>(st.series);
        state.counters["bytes_per_series_" + std::to_string(n)] = per;
        state.counters["rss_per_series_" + std::to_string(n)] =
            static_cast<double>(ResidentBytes() - rss0) / static_cast<double>(series);
      };
      report(1);
      for (int round = 1; round < 120; ++round) {
        const int64_t t = kStartMs + round * kIntervalMs;
        for (int s = 0; s < series; ++s) {
          if (!Check(state, app->AppendByRef(refs[s], t, values.At(s, round)))) return;
          if ((s + 1) % kBatch == 0 && !Check(state, app->Commit())) return;
        }
        if (!Check(state, app->Commit())) return;
        if (round == 59) report(60);
      }
      report(120);
      state.counters["series"] = series;
      state.counters["chunks"] = static_cast<double>(head.Stats().chunks);
    }
  }
}

BENCHMARK_CAPTURE(BM_HeadAppend, by_ref, false)
    ->ArgNames({"series", "wal", "adaptive"})
    ->Args({1000, 0, 1})
    ->Args({1000, 0, 0})
    ->Args({100000, 0, 1})
    ->Args({100000, 1, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HeadAppend, by_labels, true)
    ->ArgNames({"series", "wal", "adaptive"})
    ->Args({1000, 0, 1})
    ->Args({1000, 0, 0})
    ->Args({100000, 0, 1})
    ->Args({100000, 1, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HeadMemory, real_scrape, false)
    ->ArgNames({"series"})
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_HeadMemory, highcard, false, true)
    ->ArgNames({"series"})
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_HeadMemory, tsbs, true)
    ->ArgNames({"series"})
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace vigil::bench
