// Realistic telemetry (a fleet scraped every 15 s) and the high-cardinality dataset.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <utility>

#include "bench/data/datasets.h"
#include "bench/data/rng.h"

namespace vigil::bench {

namespace {

using detail::Rng;
using Labels = std::vector<std::pair<std::string, std::string>>;

// PromQL notation with labels sorted by name (values here need no escaping).
std::string Name(const std::string& metric, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string s = metric + "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) s += ",";
    s += labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return s + "}";
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

constexpr const char* kHandlers[] = {"/api/v1/users", "/api/v1/orders", "/health", "/metrics"};
constexpr double kHandlerRate[] = {40.0, 15.0, 2.0, 0.2};        // requests/s at load 1
constexpr double kHandlerMedian[] = {0.040, 0.120, 0.002, 0.008};  // seconds
constexpr const char* kMethods[] = {"GET", "POST"};
constexpr double kMethodShare[] = {0.8, 0.2};
constexpr const char* kCodes[] = {"200", "404", "500"};
constexpr double kCodeShare[] = {0.95, 0.04, 0.01};
constexpr const char* kModes[] = {"idle", "iowait", "system", "user"};
constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr const char* kBucketNames[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                        "0.5",   "1",    "2.5",   "5",    "10"};
constexpr int kCpus = 4;

// One target's series, filled scrape by scrape.
class Target {
 public:
  Target(int index, int scrapes, Rng* rng) : rng_(rng) {
    base_ = {{"instance", "host-" + std::to_string(index) + ":9100"},
             {"job", "api"},
             {"region", index % 3 == 0 ? "eu-west-1" : "us-east-1"},
             {"service", "svc-" + std::to_string(index % 8)}};
    for (int h = 0; h < 4; ++h) {
      for (int m = 0; m < 2; ++m) {
        for (int c = 0; c < 3; ++c) {
          Add("http_requests_total",
              {{"handler", kHandlers[h]}, {"method", kMethods[m]}, {"code", kCodes[c]}});
        }
      }
    }
    for (int cpu = 0; cpu < kCpus; ++cpu) {
      for (const char* mode : kModes) {
        Add("node_cpu_seconds_total", {{"cpu", std::to_string(cpu)}, {"mode", mode}});
      }
    }
    for (const char* g : {"node_memory_MemAvailable_bytes", "node_load1", "node_hwmon_temp_celsius",
                          "queue_depth", "up", "process_open_fds", "node_filesystem_avail_bytes",
                          "go_goroutines"}) {
      Add(g, {});
    }
    for (int h = 0; h < 4; ++h) {
      for (const char* le : kBucketNames) {
        Add("http_request_duration_seconds_bucket", {{"handler", kHandlers[h]}, {"le", le}});
      }
      Add("http_request_duration_seconds_bucket", {{"handler", kHandlers[h]}, {"le", "+Inf"}});
      Add("http_request_duration_seconds_sum", {{"handler", kHandlers[h]}});
      Add("http_request_duration_seconds_count", {{"handler", kHandlers[h]}});
    }
    for (Series& s : series_) {
      s.ts.reserve(static_cast<size_t>(scrapes));
      s.vs.reserve(static_cast<size_t>(scrapes));
    }
    counters_.assign(series_.size(), 0.0);
    mem_pages_ = 2'000'000 + rng_->Between(0, 1'000'000);
    load_ = 1.0 + rng_->Uniform();
    temp_ = 45.0 + 10.0 * rng_->Uniform();
    queue_ = rng_->Between(0, 20);
    fds_ = 200 + rng_->Between(0, 100);
    fs_pages_ = 20'000'000 + rng_->Between(0, 5'000'000);
    goroutines_ = 300 + rng_->Between(0, 200);
  }

  // One scrape at time t (ms); `swell` is the fleet's load factor at t.
  void Scrape(int64_t t, double interval_s, double swell) {
    size_t k = 0;
    double handler_requests[4] = {0, 0, 0, 0};
    for (int h = 0; h < 4; ++h) {
      for (int m = 0; m < 2; ++m) {
        for (int c = 0; c < 3; ++c) {
          const double rate = kHandlerRate[h] * kMethodShare[m] * kCodeShare[c] * swell;
          const double n =
              std::max(0.0, std::round(rate * interval_s * (1.0 + 0.1 * rng_->Normal())));
          handler_requests[h] += n;
          Count(k++, t, n, 1.0);
        }
      }
    }
    const double busy = std::clamp(0.3 * swell + 0.05 * rng_->Normal(), 0.02, 0.9);
    const double shares[4] = {1.0 - busy - 0.12, 0.02, 0.1, busy};
    for (int cpu = 0; cpu < kCpus; ++cpu) {
      for (double share : shares) {
        // Counted in 1/100 s, as the kernel's USER_HZ ticks are.
        const double ticks = std::max(0.0, std::round(share * interval_s * 100.0 *
                                                      (1.0 + 0.05 * rng_->Normal())));
        Count(k++, t, ticks, 100.0);
      }
    }
    mem_pages_ = std::max<int64_t>(100'000, mem_pages_ + rng_->Between(-2000, 2000));
    Put(k++, t, static_cast<double>(mem_pages_) * 4096.0);
    load_ = std::clamp(load_ + 0.05 * rng_->Normal() + 0.02 * (swell - load_ / 2), 0.0, 16.0);
    Put(k++, t, Round(load_, 100));
    temp_ = std::clamp(temp_ + 0.2 * rng_->Normal(), 30.0, 90.0);
    Put(k++, t, Round(temp_, 10));
    queue_ = std::max<int64_t>(0, queue_ + rng_->Between(-3, 3));
    Put(k++, t, static_cast<double>(queue_));
    Put(k++, t, 1.0);
    fds_ = std::max<int64_t>(10, fds_ + rng_->Between(-2, 2));
    Put(k++, t, static_cast<double>(fds_));
    fs_pages_ -= rng_->Between(0, 50);
    Put(k++, t, static_cast<double>(fs_pages_) * 4096.0);
    goroutines_ = std::max<int64_t>(20, goroutines_ + rng_->Between(-5, 5));
    Put(k++, t, static_cast<double>(goroutines_));
    for (int h = 0; h < 4; ++h) {
      // Log-normal latencies: bucket counts follow its CDF, so they stay cumulative.
      const double n = handler_requests[h];
      const double mu = std::log(kHandlerMedian[h] * (0.8 + 0.4 * swell));
      const double sigma = 0.6;
      double below_prev = 0;
      for (double le : kBuckets) {
        const double cdf = 0.5 * std::erfc(-(std::log(le) - mu) / (sigma * std::numbers::sqrt2));
        const double below = std::max(below_prev, std::round(n * cdf));
        below_prev = below;
        Count(k++, t, below, 1.0);
      }
      Count(k++, t, n, 1.0);  // +Inf
      const double mean = std::exp(mu + sigma * sigma / 2);
      // _sum in whole microseconds, _count.
      Count(k++, t, std::round(n * mean * (1.0 + 0.05 * rng_->Normal()) * 1e6), 1e6);
      Count(k++, t, n, 1.0);
    }
  }

  std::vector<Series>& series() { return series_; }

 private:
  void Add(const std::string& metric, Labels extra) {
    Labels l = base_;
    l.insert(l.end(), extra.begin(), extra.end());
    series_.push_back(Series{Name(metric, std::move(l)), {}, {}});
  }
  // Counter k grows by `increment` units and reads as units / divisor (integers count exactly).
  void Count(size_t k, int64_t t, double increment, double divisor) {
    counters_[k] += increment;
    Put(k, t, counters_[k] / divisor);
  }
  void Put(size_t k, int64_t t, double v) {
    series_[k].ts.push_back(t);
    series_[k].vs.push_back(v);
  }

  Rng* rng_;
  Labels base_;
  std::vector<Series> series_;
  std::vector<double> counters_;
  int64_t mem_pages_, queue_, fds_, fs_pages_, goroutines_;
  double load_, temp_;
};

}  // namespace

Dataset Telemetry(const TelemetryOptions& o) {
  Dataset d;
  d.name = "telemetry";
  Rng rng(o.seed);
  const int scrapes = static_cast<int>(o.duration_ms / o.interval_ms);
  const double interval_s = static_cast<double>(o.interval_ms) / 1000.0;
  for (int i = 0; i < o.targets; ++i) {
    Target target(i, scrapes, &rng);
    // Targets are spread over the interval, as Prometheus spreads its scrapes.
    const int64_t offset = rng.Between(0, o.interval_ms - 1);
    for (int k = 0; k < scrapes; ++k) {
      const int64_t nominal = o.start_ms + offset + k * o.interval_ms;
      const int64_t t = nominal + (o.jitter_ms > 0 ? rng.Between(-o.jitter_ms, o.jitter_ms) : 0);
      const double day = 2.0 * std::numbers::pi * static_cast<double>(nominal % 86'400'000) /
                         86'400'000.0;
      target.Scrape(t, interval_s, 1.0 + 0.5 * std::sin(day));
    }
    for (Series& s : target.series()) d.series.push_back(std::move(s));
  }
  return d;
}

Dataset HighCardinality(const HighCardinalityOptions& o) {
  Dataset d;
  d.name = "highcard";
  Rng rng(o.seed);
  d.series.reserve(static_cast<size_t>(o.series));
  for (int k = 0; k < o.series; ++k) {
    char instance[32];
    std::snprintf(instance, sizeof(instance), "10.%d.%d.%d:8080", (k >> 16) & 255, (k >> 8) & 255,
                  k & 255);
    Series s;
    s.name = "hc_requests_total{instance=\"" + std::string(instance) + "\",job=\"svc-" +
             std::to_string(k % 100) + "\",pod=\"pod-" + std::to_string(k) + "\"}";
    double v = static_cast<double>(rng.Between(0, 1000));
    for (int i = 0; i < o.samples_per_series; ++i) {
      s.ts.push_back(o.start_ms + i * o.interval_ms);
      s.vs.push_back(v);
      v += static_cast<double>(rng.Between(0, 50));
    }
    d.series.push_back(std::move(s));
  }
  return d;
}

}  // namespace vigil::bench
