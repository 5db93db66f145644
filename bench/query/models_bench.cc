// Continuous-query model cost, single thread: one new point per series per round, over many
// series, so the models' state comes from memory as it would in a CQ evaluation.
//  - band_update/<series>: AnomalyBand::Update (expected value, band, score, learning);
//  - holt_winters_update/<series>: HoltWinters::Update with a daily season at 5-minute steps.
// Before timing, every series is warmed up past its first day (the seasonal profile is live) with
// a deterministic daily pattern plus noise. Counters: items_per_second = updates/s on one core;
// state_bytes = serialised state per series (a lower bound of its memory).

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "query/models/anomaly_band.h"
#include "query/models/holt_winters.h"

namespace vigil::query::models {
namespace {

constexpr int64_t kStep = 300'000;
constexpr int kWarmup = 300;  // just past one day of 5-minute points

// A cheap deterministic generator (the benchmark must not time std::normal_distribution).
struct Lcg {
  uint64_t s;
  double Next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(s >> 40) / 16777216.0 - 0.5;
  }
};

double Value(size_t series, int64_t i, Lcg& rng) {
  return 50 +
         10 * std::sin(2 * M_PI * static_cast<double>(i % 288) / 288.0 +
                       static_cast<double>(series % 7)) +
         rng.Next();
}

template <typename Model, typename Options>
void RunUpdates(benchmark::State& state, const Options& options) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<Model> models(n, Model(options));
  Lcg rng{42};
  for (size_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < kWarmup; ++i) models[s].Update(i * kStep, Value(s, i, rng));
  }
  // Values for the timed rounds are drawn before timing.
  std::vector<double> values(n * 16);
  for (size_t k = 0; k < values.size(); ++k)
    values[k] = Value(k % n, kWarmup + static_cast<int64_t>(k / n), rng);
  int64_t round = kWarmup;
  size_t k = 0;
  double sink = 0;
  for (auto _ : state) {
    const int64_t t = round * kStep;
    for (size_t s = 0; s < n; ++s, ++k) {
      if (k == values.size()) k = 0;
      if constexpr (std::is_same_v<Model, AnomalyBand>) {
        sink += models[s].Update(t, values[k]).score;
      } else {
        models[s].Update(t, values[k]);
      }
    }
    ++round;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["state_bytes"] = static_cast<double>(models[0].Serialize().size());
}

void BM_BandUpdate(benchmark::State& state) {
  BandOptions o;
  o.step_ms = kStep;
  RunUpdates<AnomalyBand>(state, o);
}
BENCHMARK(BM_BandUpdate)
    ->Name("band_update")
    ->Arg(1000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

void BM_HoltWintersUpdate(benchmark::State& state) {
  ForecastOptions o;
  o.step_ms = kStep;
  o.season_ms = 288 * kStep;
  RunUpdates<HoltWinters>(state, o);
}
BENCHMARK(BM_HoltWintersUpdate)
    ->Name("holt_winters_update")
    ->Arg(1000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::query::models
