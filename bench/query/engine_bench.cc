// Evaluator throughput, single thread, data in an in-memory head (chunks decoded per query):
//  - range query `sum by (job) (rate(x[5m]))` over 10k series x 6 h at a 15 s scrape, 60 s step;
//  - instant query `topk(10, x)` over 100k series.
// Counters: samples/s = samples decoded from storage per second of query time; steps/s for the
// range query.

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "query/engine.h"
#include "storage/head/head.h"

namespace vigil::query {
namespace {

constexpr int64_t kScrapeMs = 15000;

class HeadQueryable final : public Queryable {
 public:
  explicit HeadQueryable(storage::Head* head) : head_(head) {}
  Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) override {
    return head_->NewQuerier(min_t, max_t);
  }

 private:
  storage::Head* head_;
};

// Counters with a realistic mix of rates; 20 jobs. Deterministic.
std::unique_ptr<storage::Head> BuildHead(int series, int64_t duration_ms) {
  storage::HeadOptions opts;
  opts.out_of_order_window_ms = 0;
  auto head = std::make_unique<storage::Head>(opts);
  std::mt19937_64 rng(42);
  std::vector<storage::Labels> labels;
  std::vector<double> values(series, 0), rates(series);
  for (int i = 0; i < series; ++i) {
    labels.push_back(storage::Labels::FromPairs({{"__name__", "x"},
                                                 {"job", "job" + std::to_string(i % 20)},
                                                 {"instance", "host-" + std::to_string(i)}}));
    rates[i] = 1.0 + static_cast<double>(rng() % 1000) / 10.0;
  }
  std::vector<storage::SeriesRef> refs(series, storage::kNoSeriesRef);
  for (int64_t t = 0; t <= duration_ms; t += kScrapeMs) {
    auto app = head->NewAppender(nullptr);
    for (int i = 0; i < series; ++i) {
      values[i] += rates[i] * static_cast<double>(rng() % 30);
      if (refs[i] == storage::kNoSeriesRef) {
        auto r = app->Append(labels[i], t, values[i]);
        if (r.ok()) refs[i] = *r;
      } else {
        app->AppendByRef(refs[i], t, values[i]).IgnoreError();
      }
    }
    app->Commit().IgnoreError();
  }
  return head;
}

void BM_RangeSumRate(benchmark::State& state) {
  const int64_t six_hours = 6 * 3600 * 1000;
  static std::unique_ptr<storage::Head> head = BuildHead(10000, six_hours);
  HeadQueryable q(head.get());
  Engine engine(EngineOptions{});
  uint64_t samples = 0, steps = 0;
  for (auto _ : state) {
    auto r = engine.RangeQuery(q, "sum by (job) (rate(x[5m]))", 0, six_hours, 60000);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    samples += r->samples_loaded;
    steps += six_hours / 60000 + 1;
    benchmark::DoNotOptimize(r);
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RangeSumRate)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_InstantTopk(benchmark::State& state) {
  const int64_t ten_minutes = 10 * 60 * 1000;
  static std::unique_ptr<storage::Head> head = BuildHead(100000, ten_minutes);
  HeadQueryable q(head.get());
  Engine engine(EngineOptions{});
  uint64_t samples = 0, series = 0;
  for (auto _ : state) {
    auto r = engine.InstantQuery(q, "topk(10, x)", ten_minutes);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    samples += r->samples_loaded;
    series += 100000;
    benchmark::DoNotOptimize(r);
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["series/s"] =
      benchmark::Counter(static_cast<double>(series), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_InstantTopk)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace vigil::query
