#pragma once

// Benchmark datasets: deterministic generators and loaders shared by benchmarks and tests
// (STYLE.md §12: best, worst and realistic inputs from the same generators). Each dataset is a list
// of series; a series holds its samples as two parallel arrays (timestamps in ms, float64 values)
// because that is the shape the chunk encoders take (std::span<const int64_t>, std::span<const
// double>).
//
// Generators are pure functions of their options: an own PRNG (SplitMix64) instead of <random>
// distributions, whose output differs between standard libraries, so a seed names the same data on
// every machine (Gaussian steps go through libm's log/cos, which glibc rounds identically).
//
// Thread safety: free functions with no shared state; results are plain values.

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::bench {

struct Series {
  std::string name;           // PromQL notation, e.g. cpu_usage_user{hostname="host_0"}
  std::vector<int64_t> ts;    // milliseconds, non-decreasing
  std::vector<double> vs;     // same length as ts
};

struct Dataset {
  std::string name;
  std::vector<Series> series;
  // Influx line protocol grouping (bench/macro): when non-empty, series named
  // <line_measurement>_<field>{labels} that share their labels and timestamps are written as one
  // line of measurement <line_measurement> with several fields (TSBS style). When empty, every
  // series is its own line with the single field `value`.
  std::string line_measurement;

  size_t num_samples() const;
};

// ---- real-scrape: ../shared/datasets/real-scrape (see its README) --------------------------------

// The datasets root: $VIGIL_DATASETS if set and non-empty, else the compile-time
// VIGIL_DATASETS_DIR (<repo>/../shared/datasets), else "".
std::string DatasetsDir();

// Loads <datasets_dir>/real-scrape/{series.tsv,samples.csv.zst} into *out (replacing it): 999
// series, 752,441 samples of node-exporter and Prometheus self-metrics at a 5 s scrape interval.
// Values keep every bit the CSV spells ("NaN", "+Inf", "-Inf" included). On any failure -- missing
// file, zstd error, malformed line, unsorted input -- returns false with *error naming the file
// and line; callers must report it, not skip silently.
bool LoadRealScrape(const std::string& datasets_dir, Dataset* out, std::string* error);

// ---- tsbs-cpu: TSBS "cpu-only" style random walks -------------------------------------------------

struct TsbsCpuOptions {
  int hosts = 100;
  int samples_per_series = 720;              // 2 h at 10 s
  int64_t start_ms = 1'700'000'000'000;
  int64_t interval_ms = 10'000;
  uint64_t seed = 1;
  // Adds the nine other TSBS devops tags (region, datacenter, rack, os, arch, team, service,
  // service_version, service_environment), drawn per host from the seed, to every series.
  bool tsbs_tags = false;
};

// hosts x 10 series cpu_<field>{hostname="host_<i>"} for the ten TSBS cpu fields (usage_user,
// usage_system, usage_idle, usage_nice, usage_iowait, usage_irq, usage_softirq, usage_steal,
// usage_guest, usage_guest_nice). Each value is a random walk clamped to [0, 100] with Gaussian
// steps (sigma 1), starting uniformly in [0, 100): full float64 values such as 58.83417950173,
// never rounded, as TSBS generates them. Timestamps are exact multiples of interval_ms.
Dataset TsbsCpu(const TsbsCpuOptions& options);

// ---- telemetry: what a Prometheus server scrapes from a fleet ----------------------------------

struct TelemetryOptions {
  int targets = 50;
  int64_t start_ms = 1'700'000'000'000;
  int64_t duration_ms = 6 * 3'600'000;
  int64_t interval_ms = 15'000;
  int64_t jitter_ms = 3;  // each scrape of a target moves by a uniform offset in [-jitter, jitter]
  uint64_t seed = 1;
};

// Per target (labels job="api", instance="host-<i>:9100", service, region) 104 series, all sampled
// at the target's scrape times (interval plus a few ms of jitter, shared by the target's series):
//   - http_requests_total{method,code,handler}: 24 integer counters, rates with a daily swell;
//   - node_cpu_seconds_total{cpu,mode}: 16 counters in steps of 0.01 s;
//   - gauges: node_memory_MemAvailable_bytes (multiples of 4096), node_load1 (2 decimals),
//     node_hwmon_temp_celsius (1 decimal), queue_depth (integer), up (constant 1) and
//     process_open_fds, node_filesystem_avail_bytes, go_goroutines (integers);
//   - http_request_duration_seconds{handler}: a classic histogram per handler, 12 `le` buckets
//     (0.005 .. 10, +Inf) plus _sum (fractional) and _count, cumulative and consistent.
// Values are what exporters print: integers, or decimals with 1-2 digits, never full noise.
Dataset Telemetry(const TelemetryOptions& options);

// ---- highcard: many series, few samples ----------------------------------------------------------

struct HighCardinalityOptions {
  int series = 1'000'000;
  int samples_per_series = 2;
  int64_t start_ms = 1'700'000'000'000;
  int64_t interval_ms = 15'000;
  uint64_t seed = 1;
};

// `series` counters hc_requests_total{job="svc-<k % 100>",instance="10.<a>.<b>.<c>:8080",
// pod="pod-<k>"} with samples_per_series integer samples each: what a fleet of short-lived pods
// leaves in an index (memory per active series).
Dataset HighCardinality(const HighCardinalityOptions& options);

// ---- random64: worst case ------------------------------------------------------------------------

struct Random64Options {
  int series = 1000;
  int samples_per_series = 720;
  int64_t start_ms = 1'700'000'000'000;
  int64_t interval_ms = 1'000;
  int64_t jitter_ms = 0;  // each timestamp moves by a uniform offset in [-jitter_ms, jitter_ms]
  uint64_t seed = 1;
};

// Values are uniformly random 64-bit patterns reinterpreted as doubles (NaNs with payloads,
// subnormals and -0.0 included): nothing to exploit, the worst case for any value encoding.
// With jitter, timestamps stay strictly increasing as long as jitter_ms < interval_ms / 2.
Dataset Random64(const Random64Options& options);

}  // namespace vigil::bench
