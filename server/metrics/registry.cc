#include "server/metrics/registry.h"

#include <charconv>
#include <cmath>

namespace vigil::server {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (std::isfinite(v)) {
    sum_micro_.fetch_add(static_cast<int64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
  }
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double b = start;
  for (int i = 0; i < count; ++i) {
    out.push_back(b);
    b *= factor;
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

namespace {

void AppendEscaped(std::string* out, std::string_view s, bool quote_too) {
  for (char c : s) {
    if (c == '\\') out->append("\\\\");
    else if (c == '\n') out->append("\\n");
    else if (c == '"' && quote_too) out->append("\\\"");
    else out->push_back(c);
  }
}

void AppendLabels(std::string* out, const std::vector<std::pair<std::string, std::string>>& labels) {
  if (labels.empty()) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out->push_back(',');
    first = false;
    out->append(k);
    out->append("=\"");
    AppendEscaped(out, v, true);
    out->push_back('"');
  }
  out->push_back('}');
}

std::vector<std::pair<std::string, std::string>> Zip(const std::vector<std::string>& names,
                                                     const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

void RenderHistogram(MetricsWriter* w, const std::string& name,
                     std::vector<std::pair<std::string, std::string>> labels, const Histogram& h) {
  uint64_t cum = 0;
  auto with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i <= h.bounds().size(); ++i) {
    cum += h.bucket(i);
    with_le.back().second = i < h.bounds().size() ? FormatMetricValue(h.bounds()[i]) : "+Inf";
    w->Sample(name + "_bucket", with_le, static_cast<double>(cum));
  }
  w->Sample(name + "_sum", labels, h.sum());
  w->Sample(name + "_count", labels, static_cast<double>(cum));
}

}  // namespace

void MetricsWriter::Header(std::string_view name, std::string_view type, std::string_view help) {
  out_->append("# HELP ");
  out_->append(name);
  out_->push_back(' ');
  AppendEscaped(out_, help, false);
  out_->append("\n# TYPE ");
  out_->append(name);
  out_->push_back(' ');
  out_->append(type);
  out_->push_back('\n');
}

void MetricsWriter::Sample(std::string_view name,
                           const std::vector<std::pair<std::string, std::string>>& labels,
                           double value) {
  out_->append(name);
  AppendLabels(out_, labels);
  out_->push_back(' ');
  out_->append(FormatMetricValue(value));
  out_->push_back('\n');
}

Counter* Registry::AddCounter(std::string name, std::string help) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = "counter";
  e->counter = std::make_unique<Counter>();
  Counter* c = e->counter.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return c;
}

Family<Counter>* Registry::AddCounterFamily(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = "counter";
  e->counters = std::make_unique<Family<Counter>>(std::move(label_names),
                                                  [] { return std::make_unique<Counter>(); });
  auto* f = e->counters.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return f;
}

Histogram* Registry::AddHistogram(std::string name, std::string help, std::vector<double> bounds) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = "histogram";
  e->histogram = std::make_unique<Histogram>(std::move(bounds));
  Histogram* h = e->histogram.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return h;
}

Family<Histogram>* Registry::AddHistogramFamily(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> bounds) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = "histogram";
  e->histograms = std::make_unique<Family<Histogram>>(
      std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); });
  auto* f = e->histograms.get();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
  return f;
}

void Registry::AddCollector(Collector c) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(c));
}

std::string Registry::Render() const {
  std::string out;
  MetricsWriter w(&out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : entries_) {
    w.Header(e->name, e->type, e->help);
    if (e->counter) w.Sample(e->name, static_cast<double>(e->counter->value()));
    if (e->histogram) RenderHistogram(&w, e->name, {}, *e->histogram);
    if (e->counters) {
      e->counters->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        w.Sample(e->name, Zip(e->counters->label_names(), values), static_cast<double>(c.value()));
      });
    }
    if (e->histograms) {
      e->histograms->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        RenderHistogram(&w, e->name, Zip(e->histograms->label_names(), values), h);
      });
    }
  }
  for (const auto& c : collectors_) c(&w);
  return out;
}

}  // namespace vigil::server
