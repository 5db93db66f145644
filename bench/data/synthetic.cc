// Synthetic datasets: TSBS-style cpu random walks and random 64-bit values.

#include "bench/data/datasets.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "bench/data/rng.h"

namespace vigil::bench {

namespace {

using detail::Rng;

constexpr const char* kCpuFields[] = {
    "usage_user",   "usage_system", "usage_idle",  "usage_nice",  "usage_iowait",
    "usage_irq",    "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"};

// TSBS devops tag vocabularies.
constexpr const char* kRegions[] = {"us-east-1",      "us-west-1",      "us-west-2",
                                    "eu-west-1",      "eu-central-1",   "ap-southeast-1",
                                    "ap-southeast-2", "ap-northeast-1", "sa-east-1"};
constexpr const char* kOses[] = {"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"};
constexpr const char* kArchs[] = {"x64", "x86"};
constexpr const char* kTeams[] = {"SF", "NYC", "LON", "CHI"};
constexpr const char* kEnvironments[] = {"production", "staging", "test"};

template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&a)[N]) {
  return a[rng.Next() % N];
}

// The labels of host h in PromQL notation (sorted by name), without the braces.
std::string HostLabels(int h, bool tsbs_tags, Rng& rng) {
  const std::string host = "hostname=\"host_" + std::to_string(h) + "\"";
  if (!tsbs_tags) return host;
  const char* region = Pick(rng, kRegions);
  const char dc_letter = static_cast<char>('a' + rng.Next() % 3);
  std::string s;
  s += "arch=\"" + std::string(Pick(rng, kArchs)) + "\",";
  s += "datacenter=\"" + std::string(region) + dc_letter + "\",";
  s += host + ",";
  s += "os=\"" + std::string(Pick(rng, kOses)) + "\",";
  s += "rack=\"" + std::to_string(rng.Next() % 100) + "\",";
  s += "region=\"" + std::string(region) + "\",";
  s += "service=\"" + std::to_string(rng.Next() % 20) + "\",";
  s += "service_environment=\"" + std::string(Pick(rng, kEnvironments)) + "\",";
  s += "service_version=\"" + std::to_string(rng.Next() % 2) + "\",";
  s += "team=\"" + std::string(Pick(rng, kTeams)) + "\"";
  return s;
}

}  // namespace

size_t Dataset::num_samples() const {
  size_t n = 0;
  for (const Series& s : series) n += s.ts.size();
  return n;
}

Dataset TsbsCpu(const TsbsCpuOptions& o) {
  Dataset d;
  d.name = "tsbs-cpu";
  d.line_measurement = "cpu";
  Rng rng(o.seed);
  // Tags come from their own stream so that the values stay those of the tag-less dataset.
  Rng tag_rng(o.seed ^ 0x7a6773ULL);
  d.series.reserve(static_cast<size_t>(o.hosts) * std::size(kCpuFields));
  for (int h = 0; h < o.hosts; ++h) {
    const std::string labels = HostLabels(h, o.tsbs_tags, tag_rng);
    for (const char* field : kCpuFields) {
      Series s;
      s.name = std::string("cpu_") + field + "{" + labels + "}";
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
