// Functions over range vectors: rate / increase / delta with Prometheus' extrapolation, irate,
// idelta, deriv, predict_linear, changes, resets and the *_over_time family. Each series' raw
// samples are loaded once; windows slide over them step by step.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <cmath>
#include <limits>
#include <vector>

#include "query/eval/functions.h"
#include "query/eval/helpers.h"
#include "query/eval/parallel.h"
#include "query/parser/text.h"

namespace vigil::query::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Fewest series worth handing to another thread.
constexpr size_t kMinSeriesPerThread = 16;

// Prometheus' extrapolation of result, the window's last value minus its first plus every
// counter reset's correction, to the window's edges (and per second for rate): one window of
// ExtrapolationBatch below, which holds the arithmetic.
bool Extrapolate(const Window& w, bool counter, bool rate, double result, double* out);

bool ExtrapolatedRate(const Window& w, bool counter, bool rate, double* out) {
  if (w.n < 2) return false;
  const size_t last = w.n - 1;
  double result = w.vs[last] - w.vs[0];
  if (counter) {
    // Every reset adds the value before it, in sample order (as Prometheus sums them). Without a
    // branch: a gauge under rate() resets at half its samples, which a branch mispredicts. Adding
    // -0.0 leaves every value as it is, -0.0 included.
    // The select is done on bits so that the compiler cannot turn it back into a branch.
    constexpr uint64_t kNegZero = uint64_t{1} << 63;
    const double* vs = w.vs;
    // Counters rarely reset: a compare-only pass (vectorised) finds whether any sum is needed.
    size_t resets = 0;
    for (size_t i = 1; i < w.n; ++i) resets += vs[i] < vs[i - 1];
    for (size_t i = 1; resets != 0 && i < w.n; ++i) {
      const uint64_t reset = uint64_t{0} - static_cast<uint64_t>(vs[i] < vs[i - 1]);
      const uint64_t prev = std::bit_cast<uint64_t>(vs[i - 1]);
      result += std::bit_cast<double>((prev & reset) | (kNegZero & ~reset));
    }
  }
  return Extrapolate(w, counter, rate, result, out);
}

// Extrapolate() for many windows at once, in blocks of kLanes computed with vector instructions
// (the divisions of one window wait on each other; those of neighbouring windows need not). Each
// lane does exactly Extrapolate()'s operations in its order (IEEE operations round the same in a
// vector lane; no fused multiply-add on a baseline build), so the bits are the same.
class ExtrapolationBatch {
 public:
  static constexpr size_t kLanes = 8;

  ExtrapolationBatch(bool counter, bool rate, int64_t range_ms)
      : counter_(counter), rate_(rate), range_s_(static_cast<double>(range_ms) / 1000) {}

  // A window of n >= 2 samples from ts[0] to ts[n - 1] ending at `end` of range `range_ms`, whose
  // first value is v0 and whose counter-corrected difference is result; its value goes to *out.
  void Add(const int64_t* ts, size_t n, int64_t end, int64_t range_ms, double v0, double result, double* out) {
    const size_t k = size_;
    to_start_[k] = static_cast<double>(ts[0]) - static_cast<double>(end - range_ms);
    to_end_[k] = static_cast<double>(end - ts[n - 1]);
    sampled_[k] = static_cast<double>(ts[n - 1] - ts[0]);
    intervals_[k] = static_cast<double>(n - 1);
    v0_[k] = v0;
    result_[k] = result;
    out_[k] = out;
    if (++size_ == kLanes) Flush();
  }

  void Flush() {
    if (size_ == 0) return;
    for (size_t k = size_; k < kLanes; ++k) {  // harmless padding
      to_start_[k] = to_end_[k] = 0;
      sampled_[k] = intervals_[k] = v0_[k] = result_[k] = 1;
    }
    alignas(64) double values[kLanes];
    for (size_t k = 0; k < kLanes; k += kWidth) {
      const V raw_start = Load(to_start_ + k), raw_end = Load(to_end_ + k);
      const V sampled = Load(sampled_ + k) / 1000;
      const V result = Load(result_ + k);
      V to_start = raw_start / 1000;
      V to_end = raw_end / 1000;
      const V avg_between = sampled / Load(intervals_ + k);
      const V threshold = avg_between * 1.1;
      to_start = to_start >= threshold ? avg_between / 2 : to_start;
      if (counter_) {
        const V v0 = Load(v0_ + k);
        const V to_zero = ((result > 0) & (v0 >= 0)) ? sampled * (v0 / result) : to_start;
        to_start = to_zero < to_start ? to_zero : to_start;
      }
      to_end = to_end >= threshold ? avg_between / 2 : to_end;
      V factor = (sampled + to_start + to_end) / sampled;
      if (rate_) factor = factor / range_s_;
      const V value = result * factor;
      std::memcpy(values + k, &value, sizeof(value));
    }
    for (size_t k = 0; k < size_; ++k) *out_[k] = values[k];
    size_ = 0;
  }

 private:
  // Two doubles (GCC/Clang vector extension): one SSE2 register on a baseline x86-64 build.
  using V = double __attribute__((vector_size(16)));
  static constexpr size_t kWidth = 2;
  static V Load(const double* p) {
    V v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }

  const bool counter_, rate_;
  const double range_s_;
  size_t size_ = 0;
  alignas(64) double to_start_[kLanes], to_end_[kLanes], sampled_[kLanes], intervals_[kLanes], v0_[kLanes],
      result_[kLanes];
  double* out_[kLanes];
};

// The samples [lo, hi) of a series in the window (end - range, end], for ends that only grow.
//
// Regular series (a scrape interval, windows a fixed step apart) move both edges by the same
// count at nearly every step. Each edge first tries the count it moved by last time, checked
// with the two samples around the guess, a branch that is almost always taken the same way;
// only when the guess is wrong does it walk sample by sample, whose loop exit the CPU cannot
// predict (two mispredictions per step were about a third of rate()'s window arithmetic).
struct WindowCursor {
  const int64_t* ts;
  size_t total;
  size_t lo = 0, hi = 0;
  size_t lo_step = 0, hi_step = 0;  // what each edge moved by last time
  // Moves to the window ending at `end`; false when it holds no sample.
  bool Advance(int64_t end, int64_t range) {
    hi_step = Move(hi, hi_step, total, end);
    lo_step = Move(lo, lo_step, hi, end - range);
    return lo < hi;
  }

 private:
  // Moves `pos` (not past `limit`) to the first sample after `bound`; returns how far it went.
  size_t Move(size_t& pos, size_t guess, size_t limit, int64_t bound) const {
    const size_t from = pos;
    const size_t g = from + guess;
    if (g <= limit && (g == from || ts[g - 1] <= bound) && (g == limit || ts[g] > bound)) {
      pos = g;
      return guess;
    }
    size_t p = from;
    while (p < limit && ts[p] <= bound) ++p;
    pos = p;
    return p - from;
  }
};

// Whether some v[i] < v[i - 1]: a counter reset (NaN compares false, as in the window sums). Two
// lanes at a time without a branch per sample.
bool AnyDecrease(const double* v, size_t n) {
  using V = double __attribute__((vector_size(16)));
  using M = int64_t __attribute__((vector_size(16)));
  M any = {0, 0};
  size_t i = 1;
  for (; i + 2 <= n; i += 2) {
    V cur, prev;
    std::memcpy(&cur, v + i, sizeof(cur));
    std::memcpy(&prev, v + i - 1, sizeof(prev));
    any |= cur < prev;
  }
  bool found = any[0] != 0 || any[1] != 0;
  for (; i < n; ++i) found |= v[i] < v[i - 1];
  return found;
}

bool Extrapolate(const Window& w, bool counter, bool rate, double result, double* out) {
  ExtrapolationBatch one(counter, rate, w.range_ms);
  one.Add(w.ts, w.n, w.end, w.range_ms, w.vs[0], result, out);
  one.Flush();
  return true;
}

// rate() and increase() over the many overlapping windows of a range query: the counter-reset
// corrections of a series are summed once into running sums, so that a window's correction is a
// difference of two of them instead of a loop over its samples (a gauge under rate() resets at
// half its samples; with a 5m range at a 60s step every sample would be summed five times or more).
//
// The running sums are kept as double-double (an error-free sum of hi and lo), so a window's
// correction is the exact sum of its resets rounded once or twice: a window with one reset gets
// that reset's value exactly, as Prometheus' left-to-right sum does, and a window with no reset adds
// nothing. With several resets in a window the result may differ from Prometheus' left-to-right
// sum in the last bits, being closer to the exact sum. A series whose corrections are not all
// finite (a reset from +Inf, or sums that overflow) is summed window by window instead.
class ResetSums {
 public:
  // False when the series must be summed window by window.
  bool Build(const double* vs, size_t total) {
    count_.resize(total);
    hi_.resize(total);
    lo_.resize(total);
    if (total == 0) return true;
    uint32_t c = 0;
    double hi = 0, lo = 0;
    count_[0] = 0;
    hi_[0] = 0;
    lo_[0] = 0;
    for (size_t i = 1; i < total; ++i) {
      // Without a branch (gauges reset at half their samples): a sample that is no reset adds
      // +0.0, which leaves hi and lo as they are.
      const uint64_t reset = uint64_t{0} - static_cast<uint64_t>(vs[i] < vs[i - 1]);
      c += static_cast<uint32_t>(reset & 1);
      const double x = std::bit_cast<double>(std::bit_cast<uint64_t>(vs[i - 1]) & reset);
      const double s = hi + x;  // TwoSum: s + e == hi + x exactly
      const double bb = s - hi;
      const double e = (hi - (s - bb)) + (x - bb);
      hi = s;
      lo += e;
      count_[i] = c;
      hi_[i] = hi;
      lo_[i] = lo;
    }
    return std::isfinite(hi) && std::isfinite(lo);
  }
  // Frees the sums of a long series (the sums of each thread are kept between series).
  void ReleaseIfLarge(size_t max_samples) {
    if (count_.capacity() > max_samples) {
      count_ = {};
      hi_ = {};
      lo_ = {};
    }
  }
  // The sum of the corrections of the resets at samples a+1 .. b (each adds the value before it);
  // false when there is none.
  bool Sum(size_t a, size_t b, double* sum) const {
    if (count_[b] == count_[a]) return false;
    const double s = hi_[b] - hi_[a];
    const double bb = s - hi_[b];
    const double e = (hi_[b] - (s - bb)) + (-hi_[a] - bb);
    *sum = s + (e + (lo_[b] - lo_[a]));
    return true;
  }

 private:
  std::vector<uint32_t> count_;
  std::vector<double> hi_, lo_;
};

bool Rate(const Window& w, const double*, double* out) {
  return ExtrapolatedRate(w, true, true, out);
}
bool Increase(const Window& w, const double*, double* out) {
  return ExtrapolatedRate(w, true, false, out);
}
bool Delta(const Window& w, const double*, double* out) {
  return ExtrapolatedRate(w, false, false, out);
}

bool InstantValue(const Window& w, bool rate, double* out) {
  if (w.n < 2) return false;
  const double last = w.vs[w.n - 1], prev = w.vs[w.n - 2];
  double r = (rate && last < prev) ? last : last - prev;
  const int64_t interval = w.ts[w.n - 1] - w.ts[w.n - 2];
  if (interval == 0) return false;
  if (rate) r /= static_cast<double>(interval) / 1000;
  *out = r;
  return true;
}
bool Irate(const Window& w, const double*, double* out) { return InstantValue(w, true, out); }
bool Idelta(const Window& w, const double*, double* out) { return InstantValue(w, false, out); }

void LinearRegression(const Window& w, int64_t intercept_t, double* slope, double* intercept) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
  const double init_y = w.vs[0];
  bool const_y = true;
  for (size_t i = 0; i < w.n; ++i) {
    const double y = w.vs[i];
    if (const_y && i > 0 && y != init_y) const_y = false;
    n += 1;
    const double x = static_cast<double>(w.ts[i] - intercept_t) / 1e3;
    KahanInc(x, &sx, &cx);
    KahanInc(y, &sy, &cy);
    KahanInc(x * y, &sxy, &cxy);
    KahanInc(x * x, &sx2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = kNaN;
      *intercept = kNaN;
    } else {
      *slope = 0;
      *intercept = init_y;
    }
    return;
  }
  sx += cx;
  sy += cy;
  sxy += cxy;
  sx2 += cx2;
  const double cov = sxy - sx * sy / n;
  const double var = sx2 - sx * sx / n;
  *slope = cov / var;
  *intercept = sy / n - *slope * sx / n;
}

bool Deriv(const Window& w, const double*, double* out) {
  if (w.n < 2) return false;
  double slope, intercept;
  LinearRegression(w, w.ts[0], &slope, &intercept);
  *out = slope;
  return true;
}

bool PredictLinear(const Window& w, const double* args, double* out) {
  if (w.n < 2) return false;
  double slope, intercept;
  LinearRegression(w, w.eval_t, &slope, &intercept);
  *out = intercept + slope * args[0];
  return true;
}

bool AvgOverTime(const Window& w, const double*, double* out) {
  double sum = w.vs[0], c = 0, mean = 0, count = 1;
  bool incremental = false;
  for (size_t i = 1; i < w.n; ++i) {
    const double f = w.vs[i];
    count = static_cast<double>(i + 1);
    if (!incremental) {
      double s2 = sum, c2 = c;
      KahanInc(f, &s2, &c2);
      if (!std::isinf(s2)) {
        sum = s2;
        c = c2;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const double q = (count - 1) / count;
    double m = q * mean, cc = q * c;
    KahanInc(f / count, &m, &cc);
    mean = m;
    c = cc;
  }
  *out = incremental ? mean + c : sum / count + c / count;
  return true;
}

bool SumOverTime(const Window& w, const double*, double* out) {
  double sum = 0, c = 0;
  for (size_t i = 0; i < w.n; ++i) KahanInc(w.vs[i], &sum, &c);
  *out = sum + c;
  return true;
}

bool CountOverTime(const Window& w, const double*, double* out) {
  *out = static_cast<double>(w.n);
  return true;
}

bool MinOverTime(const Window& w, const double*, double* out) {
  double m = w.vs[0];
  for (size_t i = 0; i < w.n; ++i) {
    if (w.vs[i] < m || std::isnan(m)) m = w.vs[i];
  }
  *out = m;
  return true;
}

bool MaxOverTime(const Window& w, const double*, double* out) {
  double m = w.vs[0];
  for (size_t i = 0; i < w.n; ++i) {
    if (w.vs[i] > m || std::isnan(m)) m = w.vs[i];
  }
  *out = m;
  return true;
}

double Variance(const Window& w) {
  double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
  for (size_t i = 0; i < w.n; ++i) {
    const double f = w.vs[i];
    count++;
    const double delta = f - (mean + cmean);
    KahanInc(delta / count, &mean, &cmean);
    KahanInc(delta * (f - (mean + cmean)), &aux, &caux);
  }
  return (aux + caux) / count;
}

bool StdvarOverTime(const Window& w, const double*, double* out) {
  *out = Variance(w);
  return true;
}
bool StddevOverTime(const Window& w, const double*, double* out) {
  *out = std::sqrt(Variance(w));
  return true;
}

bool QuantileOverTime(const Window& w, const double* args, double* out) {
  std::vector<double> v(w.vs, w.vs + w.n);
  *out = Quantile(args[0], v);
  return true;
}

bool MadOverTime(const Window& w, const double*, double* out) {
  for (size_t i = 0; i < w.n; ++i) {
    if (std::isnan(w.vs[i])) {
      *out = kNaN;
      return true;
    }
  }
  std::vector<double> v(w.vs, w.vs + w.n);
  const double median = Quantile(0.5, v);
  for (double& x : v) x = std::fabs(x - median);
  *out = Quantile(0.5, v);
  return true;
}

bool LastOverTime(const Window& w, const double*, double* out) {
  *out = w.vs[w.n - 1];
  return true;
}
bool FirstOverTime(const Window& w, const double*, double* out) {
  *out = w.vs[0];
  return true;
}
bool TsOfLastOverTime(const Window& w, const double*, double* out) {
  *out = static_cast<double>(w.ts[w.n - 1]) / 1000;
  return true;
}
bool TsOfFirstOverTime(const Window& w, const double*, double* out) {
  *out = static_cast<double>(w.ts[0]) / 1000;
  return true;
}
bool TsOfMaxOverTime(const Window& w, const double*, double* out) {
  double m = w.vs[0];
  int64_t t = w.ts[0];
  for (size_t i = 0; i < w.n; ++i) {
    if (w.vs[i] >= m || std::isnan(m)) {
      m = w.vs[i];
      t = w.ts[i];
    }
  }
  *out = static_cast<double>(t) / 1000;
  return true;
}
bool TsOfMinOverTime(const Window& w, const double*, double* out) {
  double m = w.vs[0];
  int64_t t = w.ts[0];
  for (size_t i = 0; i < w.n; ++i) {
    if (w.vs[i] <= m || std::isnan(m)) {
      m = w.vs[i];
      t = w.ts[i];
    }
  }
  *out = static_cast<double>(t) / 1000;
  return true;
}
bool PresentOverTime(const Window&, const double*, double* out) {
  *out = 1;
  return true;
}

bool Changes(const Window& w, const double*, double* out) {
  double changes = 0, prev = w.vs[0];
  for (size_t i = 1; i < w.n; ++i) {
    const double cur = w.vs[i];
    if (!(cur == prev || (std::isnan(cur) && std::isnan(prev)))) changes++;
    prev = cur;
  }
  *out = changes;
  return true;
}

bool Resets(const Window& w, const double*, double* out) {
  double resets = 0, prev = w.vs[0];
  for (size_t i = 1; i < w.n; ++i) {
    if (w.vs[i] < prev) resets++;
    prev = w.vs[i];
  }
  *out = resets;
  return true;
}

bool DoubleExponentialSmoothing(const Window& w, const double* args, double* out) {
  if (w.n < 2) return false;
  const double sf = args[0], tf = args[1];
  double s0 = 0, s1 = w.vs[0], b = w.vs[1] - w.vs[0];
  for (size_t i = 1; i < w.n; ++i) {
    const double x = sf * w.vs[i];
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  *out = s1;
  return true;
}

constexpr RangeFunction kRangeFunctions[] = {
    {"avg_over_time", AvgOverTime, 0, false, false},
    {"changes", Changes, 0, false, false},
    {"count_over_time", CountOverTime, 0, false, false},
    {"delta", Delta, 0, false, false},
    {"deriv", Deriv, 0, false, false},
    {"double_exponential_smoothing", DoubleExponentialSmoothing, 0, false, false},
    {"first_over_time", FirstOverTime, 0, true, false},
    {"idelta", Idelta, 0, false, false},
    {"increase", Increase, 0, false, true},
    {"irate", Irate, 0, false, false},
    {"last_over_time", LastOverTime, 0, true, false},
    {"mad_over_time", MadOverTime, 0, false, false},
    {"max_over_time", MaxOverTime, 0, false, false},
    {"min_over_time", MinOverTime, 0, false, false},
    {"predict_linear", PredictLinear, 0, false, false},
    {"present_over_time", PresentOverTime, 0, false, false},
    {"quantile_over_time", QuantileOverTime, 1, false, false},
    {"rate", Rate, 0, false, true},
    {"resets", Resets, 0, false, false},
    {"stddev_over_time", StddevOverTime, 0, false, false},
    {"stdvar_over_time", StdvarOverTime, 0, false, false},
    {"sum_over_time", SumOverTime, 0, false, false},
    {"ts_of_first_over_time", TsOfFirstOverTime, 0, false, false},
    {"ts_of_last_over_time", TsOfLastOverTime, 0, false, false},
    {"ts_of_max_over_time", TsOfMaxOverTime, 0, false, false},
    {"ts_of_min_over_time", TsOfMinOverTime, 0, false, false},
    {"vigil_anomaly_expected", VigilAnomalyExpected, 0, false, false},
    {"vigil_anomaly_lower", VigilAnomalyLower, 0, false, false},
    {"vigil_anomaly_score", VigilAnomalyScore, 0, false, false},
    {"vigil_anomaly_upper", VigilAnomalyUpper, 0, false, false},
    {"vigil_forecast", VigilForecast, 0, false, false},
    {"vigil_forecast_lower", VigilForecastLower, 0, false, false},
    {"vigil_forecast_upper", VigilForecastUpper, 0, false, false},
};

bool CounterName(std::string_view name) {
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return true;
    }
  }
  return false;
}

}  // namespace

const RangeFunction* LookupRangeFunction(std::string_view name) {
  for (const RangeFunction& f : kRangeFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<Value> EvalRangeFunction(Evaluator& ev, const Call& c, const RangeFunction& f,
                                const StepSeriesSink* sink) {
  const StepRange& r = ev.range();
  const size_t n = r.n;
  const size_t mi = f.matrix_arg;
  std::vector<ScalarSteps> scalars;
  for (size_t a = 0; a < c.args.size(); ++a) {
    if (a == mi) continue;
    VIGIL_ASSIGN_OR_RETURN(ScalarSteps s, ev.EvalScalar(*c.args[a]));
    scalars.push_back(std::move(s));
  }
  if (c.func->name == "quantile_over_time") {
    for (size_t i = 0; i < n; ++i) {
      const double q = scalars[0].v[i];
      if (!(q >= 0 && q <= 1)) {
        ev.Warn("quantile value should be between 0 and 1, got " + detail::FormatNumber(q),
                c.args[0]->span);
      }
    }
  }
  if (c.func->name == "double_exponential_smoothing") {
    for (size_t i = 0; i < n; ++i) {
      const double sf = scalars[0].v[i], tf = scalars[1].v[i];
      if (!(sf > 0 && sf < 1)) {
        return Status::InvalidArgument("invalid smoothing factor. Expected: 0 < sf < 1, got: " +
                                       std::to_string(sf));
      }
      if (!(tf > 0 && tf < 1)) {
        return Status::InvalidArgument("invalid trend factor. Expected: 0 < tf < 1, got: " +
                                       std::to_string(tf));
      }
    }
  }
  if (c.func->name.starts_with("vigil_")) {
    for (size_t i = 0; i < n; ++i) {
      VIGIL_RETURN_IF_ERROR(CheckModelArgs(c.func->name, scalars.empty() ? 0 : scalars[0].v[i],
                                           scalars.size() < 2 ? 0 : scalars[1].v[i]));
    }
  }
  // Slides the windows of one series into s; counts the steps with a value.
  MatrixSteps m;
  // rate(), increase() and delta() slide their windows in batches (delta() sums no resets).
  const bool extrapolated = f.kernel == &Rate || f.kernel == &Increase || f.kernel == &Delta;
  const bool counter = f.kernel != &Delta;
  const auto slide = [&](const RawSeries& rs, StepSeries* s, uint8_t* had_window, uint64_t* produced) {
    double args[2] = {0, 0};
    s->Init(n);
    const size_t total = rs.ts.size();
    WindowCursor cursor{rs.ts.data(), total};
    uint64_t count = 0;
    if (extrapolated && n > 1) {
      thread_local ResetSums sums;
      // Counters seldom reset: without any reset in the series there is nothing to sum.
      const double* v = rs.vs.data();
      const bool resets = counter && AnyDecrease(v, total);
      if (!resets || sums.Build(v, total)) {
        ExtrapolationBatch batch(counter, f.kernel == &Rate, m.range_ms);
        for (size_t i = 0; i < n; ++i) {
          const int64_t end = m.WindowEnd(r.T(i));
          if (!cursor.Advance(end, m.range_ms)) continue;
          *had_window = 1;
          const size_t lo = cursor.lo, hi = cursor.hi;
          if (hi - lo < 2) continue;
          double result = v[hi - 1] - v[lo];
          double corrections;
          if (resets && sums.Sum(lo, hi - 1, &corrections)) result += corrections;
          batch.Add(rs.ts.data() + lo, hi - lo, end, m.range_ms, v[lo], result, &s->v[i]);
          s->ok[i] = 1;
          ++count;
        }
        batch.Flush();
        sums.ReleaseIfLarge(size_t{1} << 18);  // 5 MiB
        *produced = count;
        return;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t end = m.WindowEnd(r.T(i));
      if (!cursor.Advance(end, m.range_ms)) continue;
      *had_window = 1;
      const size_t lo = cursor.lo, hi = cursor.hi;
      Window w{rs.ts.data() + lo, rs.vs.data() + lo, hi - lo, end, m.range_ms, r.T(i)};
      for (size_t a = 0; a < scalars.size() && a < 2; ++a) args[a] = scalars[a].v[i];
      double v;
      if (!f.kernel(w, args, &v)) continue;
      s->ok[i] = 1;
      s->v[i] = v;
      ++count;
    }
    *produced = count;
  };
  VectorSteps out;
  uint64_t produced = 0;
  bool warned_counter = false;
  // In series order: the counter hint for the first series with a window whose name does not
  // look like a counter's, then the series if it has a value.
  const auto keep = [&](RawSeries& rs, StepSeries& s, uint8_t had_window, uint64_t count) -> Status {
    if (f.counter_info && !warned_counter && had_window) {
      std::string_view name = rs.labels.MetricName();
      if (!name.empty() && !CounterName(name)) {
        ev.Info(
            "metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: " +
                detail::Quoted(name),
            c.args[mi]->span);
        warned_counter = true;
      }
    }
    if (count == 0) return Status::OK();
    produced += count;
    s.labels = std::move(rs.labels);
    s.drop_name = f.keeps_name ? rs.drop_name : true;
    if (sink != nullptr) return (*sink)(s);
    out.series.push_back(std::move(s));
    return Status::OK();
  };

  const VectorSelector* selector = nullptr;
  int64_t min_t = 0, max_t = 0;
  VIGIL_ASSIGN_OR_RETURN(bool scan, ev.MatrixScanSpec(*c.args[mi], &m, &selector, &min_t, &max_t));
  if (scan && n > 0) {
    // A matrix selector: series are decoded and slid group by group on the query's threads, so
    // only a group's raw samples are held at once.
    std::vector<StepSeries> results(Evaluator::kScanGroup);
    std::vector<uint8_t> had_window(Evaluator::kScanGroup);
    std::vector<uint64_t> counts(Evaluator::kScanGroup);
    VIGIL_RETURN_IF_ERROR(ev.Scan(
        *selector, min_t, max_t, /*keep_stale=*/false,
        [&](RawSeries& rs, size_t slot) {
          had_window[slot] = 0;
          slide(rs, &results[slot], &had_window[slot], &counts[slot]);
        },
        [&](RawSeries& rs, size_t slot) {
          return keep(rs, results[slot], had_window[slot], counts[slot]);
        }));
  } else {
    // A subquery (or no step): its series are evaluated first, then slid in parallel.
    VIGIL_ASSIGN_OR_RETURN(m, ev.EvalMatrix(*c.args[mi]));
    const size_t num = m.series.size();
    std::vector<StepSeries> results(num);
    std::vector<uint8_t> had_window(num, 0);
    std::vector<uint64_t> counts(num, 0);
    VIGIL_RETURN_IF_ERROR(ev.Check());
    ParallelFor(num, ParallelismFor(ev.state().options->parallelism), kMinSeriesPerThread,
                [&](size_t begin, size_t end_index) {
                  for (size_t k = begin; k < end_index; ++k) slide(m.series[k], &results[k], &had_window[k], &counts[k]);
                });
    VIGIL_RETURN_IF_ERROR(ev.Check());
    for (size_t k = 0; k < num; ++k) {
      VIGIL_RETURN_IF_ERROR(keep(m.series[k], results[k], had_window[k], counts[k]));
    }
  }
  VIGIL_RETURN_IF_ERROR(ev.AddSamples(produced));
  return Value(std::move(out));
}

}  // namespace vigil::query::eval
