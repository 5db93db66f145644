// histogram_quantile and histogram_fraction over classic histograms (series with an `le`
// label): buckets are sorted and coalesced, forced monotonic (with an info annotation) and
// interpolated linearly within a bucket, as in Prometheus.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "query/eval/functions.h"
#include "query/parser/text.h"

namespace vigil::query::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMinNormal = 2.2250738585072014e-308;

struct Bucket {
  double upper;
  double count;
};

bool AlmostEqual(double a, double b, double eps) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double abs_sum = std::fabs(a) + std::fabs(b);
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < eps * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < eps;
}

// Go's strconv.ParseFloat for bucket bounds.
bool ParseBound(std::string_view s, double* out) {
  if (s.empty() || s.front() == ' ' || s.front() == '\t' || s.front() == '\n') return false;
  std::string str(s);
  for (char& ch : str) {
    if (ch == '_') return false;
  }
  char* end = nullptr;
  *out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

// Sorts by bound and merges equal bounds. Returns false when there is no +Inf bucket.
bool Prepare(std::vector<Bucket>& b) {
  std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (!(std::isinf(b.back().upper) && b.back().upper > 0)) return false;
  size_t i = 0;
  Bucket last = b[0];
  for (size_t k = 1; k < b.size(); ++k) {
    if (b[k].upper == last.upper) {
      last.count += b[k].count;
    } else {
      b[i++] = last;
      last = b[k];
    }
  }
  b[i++] = last;
  b.resize(i);
  return true;
}

double BucketQuantile(double q, std::vector<Bucket>& b, bool* forced) {
  *forced = false;
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  if (!Prepare(b)) return kNaN;
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    const double cur = b[i].count;
    if (cur == prev) continue;
    if (AlmostEqual(prev, cur, 1e-12)) {
      b[i].count = prev;
      continue;
    }
    if (cur < prev) {
      b[i].count = prev;
      *forced = true;
      continue;
    }
    prev = cur;
  }
  if (b.size() < 2) return kNaN;
  const double observations = b.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t idx = 0;
  while (idx < b.size() - 1 && !(b[idx].count >= rank)) ++idx;
  if (idx == b.size() - 1) return b[b.size() - 2].upper;
  if (idx == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0, end = b[idx].upper, count = b[idx].count;
  if (idx > 0) {
    start = b[idx - 1].upper;
    count -= b[idx - 1].count;
    rank -= b[idx - 1].count;
  }
  return start + (end - start) * (rank / count);
}

double BucketFraction(double lower, double upper, std::vector<Bucket>& b) {
  if (!Prepare(b)) return kNaN;
  const double count = b.back().count;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  for (size_t i = 0; i < b.size(); ++i) {
    const double ub = b[i].upper;
    const double lb = i > 0 ? b[i - 1].upper : (ub > 0 ? 0 : -kInf);
    auto interpolate = [&](double v) {
      if (std::isinf(lb)) return b[i].count;
      if (std::isinf(ub)) return rank;
      return rank + (b[i].count - rank) * (v - lb) / (ub - lb);
    };
    if (!lower_set && lb >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lb >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lb < lower && ub > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && lb < upper && ub > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = b[i].count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

// Groups the bucket series of a vector by their labels without `le`.
struct BucketGroups {
  std::vector<int32_t> group_of;  // -1: bad le label
  std::vector<double> bound;
  std::vector<storage::Labels> labels;
  std::vector<std::string> names;
};

Result<BucketGroups> GroupBuckets(Evaluator& ev, const VectorSteps& in, const Expr& arg) {
  BucketGroups g;
  std::unordered_map<std::string, int32_t> index;
  storage::LabelsBuilder lb;
  for (const StepSeries& s : in.series) {
    double bound;
    std::string_view le = s.labels.Get("le");
    if (!ParseBound(le, &bound)) {
      ev.Warn("bucket label \"le\" is missing or has a malformed value of " + detail::Quoted(le) +
                  " for metric name " + detail::Quoted(s.labels.MetricName()),
              arg.span);
      g.group_of.push_back(-1);
      g.bound.push_back(0);
      continue;
    }
    lb.Reset(s.labels);
    lb.Del("le");
    VIGIL_ASSIGN_OR_RETURN(storage::Labels l, lb.Build());
    auto [it, inserted] =
        index.try_emplace(std::string(l.Encoded()), static_cast<int32_t>(g.labels.size()));
    if (inserted) {
      g.names.emplace_back(l.MetricName());
      g.labels.push_back(std::move(l));
    }
    g.group_of.push_back(it->second);
    g.bound.push_back(bound);
  }
  return g;
}

enum class Mode { kQuantile, kQuantiles, kFraction };

// Quantile values as label values: shortest form with at least one decimal ("0.0", "0.25").
std::string QuantileLabel(double q) {
  std::string s = detail::FormatNumber(q);
  if (s.find_first_of(".eIN") == std::string::npos) s += ".0";
  return s;
}

Result<Value> EvalBuckets(Evaluator& ev, const Call& c, Mode mode) {
  const size_t n = ev.range().n;
  // The quantiles (or the fraction's bounds) per step.
  std::vector<ScalarSteps> params;
  std::vector<std::string> qlabels;
  const Expr* arg = nullptr;
  std::string label_name;
  switch (mode) {
    case Mode::kQuantile: {
      VIGIL_ASSIGN_OR_RETURN(ScalarSteps q, ev.EvalScalar(*c.args[0]));
      params.push_back(std::move(q));
      arg = c.args[1].get();
      break;
    }
    case Mode::kQuantiles: {
      arg = c.args[0].get();
      label_name = StringArg(*c.args[1]);
      for (size_t i = 2; i < c.args.size(); ++i) {
        VIGIL_ASSIGN_OR_RETURN(ScalarSteps q, ev.EvalScalar(*c.args[i]));
        qlabels.push_back(QuantileLabel(q.v.empty() ? 0 : q.v[0]));
        params.push_back(std::move(q));
      }
      break;
    }
    case Mode::kFraction: {
      VIGIL_ASSIGN_OR_RETURN(ScalarSteps lo, ev.EvalScalar(*c.args[0]));
      VIGIL_ASSIGN_OR_RETURN(ScalarSteps hi, ev.EvalScalar(*c.args[1]));
      params.push_back(std::move(lo));
      params.push_back(std::move(hi));
      arg = c.args[2].get();
      break;
    }
  }
  if (mode != Mode::kFraction) {
    for (const ScalarSteps& q : params) {
      for (size_t i = 0; i < n; ++i) {
        if (!(q.v[i] >= 0 && q.v[i] <= 1)) {
          ev.Warn("quantile value should be between 0 and 1, got " + detail::FormatNumber(q.v[i]),
                  mode == Mode::kQuantile ? c.args[0]->span : c.args[2]->span);
        }
      }
    }
  }
  VIGIL_ASSIGN_OR_RETURN(VectorSteps in, ev.EvalVector(*arg));
  VIGIL_ASSIGN_OR_RETURN(BucketGroups g, GroupBuckets(ev, in, *arg));
  const size_t ng = g.labels.size();
  const size_t per_group = mode == Mode::kQuantiles ? params.size() : 1;
  VectorSteps out;
  out.series.resize(ng * per_group);
  storage::LabelsBuilder lb;
  for (size_t k = 0; k < ng; ++k) {
    for (size_t j = 0; j < per_group; ++j) {
      StepSeries& s = out.series[k * per_group + j];
      if (mode == Mode::kQuantiles) {
        lb.Reset(g.labels[k]);
        lb.Set(label_name, qlabels[j]);
        VIGIL_ASSIGN_OR_RETURN(s.labels, lb.Build());
      } else {
        s.labels = g.labels[k];
      }
      s.drop_name = true;
      s.Init(n);
    }
  }
  std::vector<std::vector<Bucket>> buckets(ng);
  std::vector<Bucket> scratch;
  for (size_t i = 0; i < n; ++i) {
    for (auto& b : buckets) b.clear();
    for (size_t s = 0; s < in.series.size(); ++s) {
      if (!in.series[s].ok[i] || g.group_of[s] < 0) continue;
      buckets[g.group_of[s]].push_back({g.bound[s], in.series[s].v[i]});
    }
    for (size_t k = 0; k < ng; ++k) {
      if (buckets[k].empty()) continue;
      for (size_t j = 0; j < per_group; ++j) {
        scratch = buckets[k];
        double v;
        if (mode == Mode::kFraction) {
          v = BucketFraction(params[0].v[i], params[1].v[i], scratch);
        } else {
          bool forced;
          v = BucketQuantile(params[j].v[i], scratch, &forced);
          if (forced) {
            ev.Info(
                "input to histogram_quantile needed to be fixed for monotonicity (see "
                "https://prometheus.io/docs/prometheus/latest/querying/functions/"
                "#histogram_quantile) for metric name " +
                    detail::Quoted(g.names[k]),
                arg->span);
          }
        }
        StepSeries& s = out.series[k * per_group + j];
        s.ok[i] = 1;
        s.v[i] = v;
      }
    }
  }
  VectorSteps kept;
  for (StepSeries& s : out.series) {
    if (!s.Empty()) kept.series.push_back(std::move(s));
  }
  return Value(std::move(kept));
}

}  // namespace

Result<Value> EvalHistogramQuantile(Evaluator& ev, const Call& c) {
  return EvalBuckets(ev, c,
                     c.func->name == "histogram_quantiles" ? Mode::kQuantiles : Mode::kQuantile);
}

Result<Value> EvalHistogramFraction(Evaluator& ev, const Call& c) {
  return EvalBuckets(ev, c, Mode::kFraction);
}

}  // namespace vigil::query::eval
