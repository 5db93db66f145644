#pragma once

// Vigil's own metrics, exposed at /metrics in the Prometheus text format 0.0.4:
//
//   # HELP vigil_http_requests_total HTTP requests answered, by route and status code.
//   # TYPE vigil_http_requests_total counter
//   vigil_http_requests_total{handler="/api/v1/query",code="200"} 12
//
// Counters and histograms are lock-free on their hot path (one relaxed atomic add); labelled
// families look their child up under a mutex, so hot callers keep the child pointer. Values that
// live elsewhere (storage statistics, another module's counters) are rendered by collectors at
// scrape time.
//
// Thread safety: everything may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server {

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Cumulative buckets with upper bounds `bounds` (ascending) plus +Inf; the sum is kept in
// microunits so that it stays a plain atomic integer (sub-microsecond precision is not needed
// for latencies in seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_micro_{0};
};

// Exponential bucket bounds: start, start*factor, ... (count of them).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

template <class T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The child for these label values (in label_names order), created on first use. The pointer
  // stays valid for the family's life.
  T* With(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return slot.get();
  }
  const std::vector<std::string>& label_names() const { return label_names_; }
  template <class F>
  void ForEach(F f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, child] : children_) f(values, *child);
  }

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

// Writes exposition text for values owned elsewhere.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string* out) : out_(out) {}
  // `# HELP` and `# TYPE` lines; type is "counter", "gauge", "histogram" or "untyped".
  void Header(std::string_view name, std::string_view type, std::string_view help);
  // One sample line; labels as (name, value) pairs, values escaped.
  void Sample(std::string_view name,
              const std::vector<std::pair<std::string, std::string>>& labels, double value);
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }
  // A metric with one unlabelled sample: its # HELP and # TYPE lines, then the sample.
  void Single(std::string_view name, std::string_view type, std::string_view help, double value) {
    Header(name, type, help);
    Sample(name, value);
  }
  // Exposition text produced elsewhere (whole lines with their # HELP / # TYPE).
  void Raw(std::string_view text) { out_->append(text); }

 private:
  std::string* out_;
};

class Registry {
 public:
  using Collector = std::function<void(MetricsWriter*)>;

  // Families are owned by the registry and live as long as it.
  Counter* AddCounter(std::string name, std::string help);
  Family<Counter>* AddCounterFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names);
  Histogram* AddHistogram(std::string name, std::string help, std::vector<double> bounds);
  Family<Histogram>* AddHistogramFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds);
  void AddCollector(Collector c);

  // The whole exposition, families in registration order, collectors last.
  std::string Render() const;

 private:
  struct Entry {
    std::string name, help, type;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<Collector> collectors_;
};

// Prometheus' float spelling in exposition text: shortest round-trip, "NaN", "+Inf", "-Inf".
std::string FormatMetricValue(double v);

}  // namespace vigil::server
