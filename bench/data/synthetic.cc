// Synthetic datasets: TSBS-style cpu random walks and random 64-bit values.

#include "bench/data/datasets.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

namespace vigil::bench {

namespace {

// SplitMix64: tiny, fast, and specified by its code, so a seed means the same stream everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Standard normal (Box-Muller; one value per call keeps the stream simple).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  // Uniform integer in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

constexpr const char* kCpuFields[] = {
    "usage_user",   "usage_system", "usage_idle",  "usage_nice",  "usage_iowait",
    "usage_irq",    "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"};

}  // namespace

size_t Dataset::num_samples() const {
  size_t n = 0;
  for (const Series& s : series) n += s.ts.size();
  return n;
}

Dataset TsbsCpu(const TsbsCpuOptions& o) {
  Dataset d;
  d.name = "tsbs-cpu";
  Rng rng(o.seed);
  d.series.reserve(static_cast<size_t>(o.hosts) * std::size(kCpuFields));
  for (int h = 0; h < o.hosts; ++h) {
    for (const char* field : kCpuFields) {
      Series s;
      s.name = std::string("cpu_") + field + "{hostname=\"host_" + std::to_string(h) + "\"}";
      s.ts.resize(static_cast<size_t>(o.samples_per_series));
      s.vs.resize(static_cast<size_t>(o.samples_per_series));
      double v = rng.Uniform() * 100.0;
      for (int i = 0; i < o.samples_per_series; ++i) {
        s.ts[i] = o.start_ms + i * o.interval_ms;
        s.vs[i] = v;
        v = std::clamp(v + rng.Normal(), 0.0, 100.0);
      }
      d.series.push_back(std::move(s));
    }
  }
  return d;
}

Dataset Random64(const Random64Options& o) {
  Dataset d;
  d.name = "random64";
  Rng rng(o.seed);
  d.series.reserve(static_cast<size_t>(o.series));
  for (int k = 0; k < o.series; ++k) {
    Series s;
    s.name = "random64{series=\"" + std::to_string(k) + "\"}";
    s.ts.resize(static_cast<size_t>(o.samples_per_series));
    s.vs.resize(static_cast<size_t>(o.samples_per_series));
    for (int i = 0; i < o.samples_per_series; ++i) {
      int64_t t = o.start_ms + i * o.interval_ms;
      if (o.jitter_ms > 0) t += rng.Between(-o.jitter_ms, o.jitter_ms);
      s.ts[i] = t;
      s.vs[i] = std::bit_cast<double>(rng.Next());
    }
    d.series.push_back(std::move(s));
  }
  return d;
}

}  // namespace vigil::bench
