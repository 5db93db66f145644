// Function calls: dispatch, element-wise math, clamp / round, time and date functions,
// timestamp, vector / scalar, absent, sort*.

#include "query/eval/functions.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "query/eval/helpers.h"

namespace vigil::query::eval {
namespace {

using MathFn = double (*)(double);

double Sgn(double v) { return v < 0 ? -1 : (v > 0 ? 1 : v); }
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Rad(double v) { return v * std::numbers::pi / 180; }
double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }

struct NamedMath {
  std::string_view name;
  MathFn fn;
};
constexpr NamedMath kMath[] = {
    {"abs", Abs},     {"ceil", Ceil},   {"floor", Floor}, {"exp", Exp},   {"sqrt", Sqrt},
    {"ln", Ln},       {"log2", Log2},   {"log10", Log10}, {"sgn", Sgn},   {"deg", Deg},
    {"rad", Rad},     {"sin", Sin},     {"cos", Cos},     {"tan", Tan},   {"asin", Asin},
    {"acos", Acos},   {"atan", Atan},   {"sinh", Sinh},   {"cosh", Cosh}, {"tanh", Tanh},
    {"asinh", Asinh}, {"acosh", Acosh}, {"atanh", Atanh},
};

// Civil date of a Unix time in seconds (proleptic Gregorian, UTC).
struct Civil {
  int64_t year;
  int month, day, hour, minute, wday, yday;
};

Civil ToCivil(int64_t secs) {
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  Civil c{};
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem % 3600 / 60);
  c.wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  static constexpr int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
  c.yday = kCum[c.month - 1] + c.day + (leap && c.month > 2 ? 1 : 0);
  return c;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

double DatePart(std::string_view fn, double secs) {
  const Civil c = ToCivil(static_cast<int64_t>(secs));
  if (fn == "day_of_month") return c.day;
  if (fn == "day_of_week") return c.wday;
  if (fn == "day_of_year") return c.yday;
  if (fn == "days_in_month") return DaysInMonth(c.year, c.month);
  if (fn == "hour") return c.hour;
  if (fn == "minute") return c.minute;
  if (fn == "month") return c.month;
  return static_cast<double>(c.year);
}

bool IsDateFunction(std::string_view n) {
  return n == "day_of_month" || n == "day_of_week" || n == "day_of_year" || n == "days_in_month" ||
         n == "hour" || n == "minute" || n == "month" || n == "year";
}

// A series without labels, present at every step.
VectorSteps Constant(const std::vector<double>& v) {
  VectorSteps out;
  StepSeries s;
  s.v = v;
  s.ok.assign(v.size(), 1);
  out.series.push_back(std::move(s));
  return out;
}

storage::Labels AbsentLabels(const Expr& e) {
  const VectorSelector* vs = nullptr;
  if (e.kind == ExprKind::kVectorSelector) vs = &e.As<VectorSelector>();
  if (e.kind == ExprKind::kMatrixSelector) {
    vs = &e.As<MatrixSelector>().vector_selector->As<VectorSelector>();
  }
  if (vs == nullptr) return {};
  storage::LabelsBuilder b;
  std::vector<std::string> seen;
  for (const LabelMatcher& m : vs->matchers) {
    if (m.name == storage::kMetricNameLabel) continue;
    const bool has = std::find(seen.begin(), seen.end(), m.name) != seen.end();
    if (m.type == MatchType::kEqual && !has) {
      b.Set(m.name, m.value);
      seen.push_back(m.name);
    } else {
      b.Del(m.name);
    }
  }
  auto r = b.Build();
  return r.ok() ? std::move(r).value() : storage::Labels();
}

const Expr& Unwrap(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == ExprKind::kParen) p = p->As<Paren>().expr.get();
  return *p;
}

}  // namespace

const std::string& StringArg(const Expr& e) { return Unwrap(e).As<StringLiteral>().value; }

Result<Value> Evaluator::EvalCall(const Call& c) {
  const std::string_view name = c.func->name;
  const size_t n = range_.n;
  if (const RangeFunction* rf = LookupRangeFunction(name)) return EvalRangeFunction(*this, c, *rf);
  for (const NamedMath& m : kMath) {
    if (m.name != name) continue;
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    for (StepSeries& s : v.series) {
      for (size_t i = 0; i < n; ++i) s.v[i] = m.fn(s.v[i]);
      s.drop_name = true;
    }
    return Value(std::move(v));
  }
  if (name == "time") {
    ScalarSteps s;
    for (size_t i = 0; i < n; ++i) s.v.push_back(static_cast<double>(range_.T(i)) / 1000);
    return Value(std::move(s));
  }
  if (name == "pi") return Value(ScalarSteps{std::vector<double>(n, std::numbers::pi)});
  if (name == "start" || name == "end" || name == "step" || name == "range") {
    double v = name == "start"  ? static_cast<double>(st_->query_start) / 1000
               : name == "end"  ? static_cast<double>(st_->query_end) / 1000
               : name == "step" ? static_cast<double>(st_->query_step) / 1000
                                : static_cast<double>(st_->query_end - st_->query_start) / 1000;
    return Value(ScalarSteps{std::vector<double>(n, v)});
  }
  if (name == "min_of" || name == "max_of") {
    VIGIL_ASSIGN_OR_RETURN(ScalarSteps a, EvalScalar(*c.args[0]));
    VIGIL_ASSIGN_OR_RETURN(ScalarSteps b, EvalScalar(*c.args[1]));
    for (size_t i = 0; i < n; ++i) {
      a.v[i] = name == "min_of" ? GoMin(a.v[i], b.v[i]) : GoMax(a.v[i], b.v[i]);
    }
    return Value(std::move(a));
  }
  if (name == "vector") {
    VIGIL_ASSIGN_OR_RETURN(ScalarSteps s, EvalScalar(*c.args[0]));
    return Value(Constant(s.v));
  }
  if (name == "scalar") {
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    ScalarSteps out{std::vector<double>(n, std::nan(""))};
    for (size_t i = 0; i < n; ++i) {
      int count = 0;
      for (const StepSeries& s : v.series) {
        if (s.ok[i] && ++count == 1) out.v[i] = s.v[i];
      }
      if (count != 1) out.v[i] = std::nan("");
    }
    return Value(std::move(out));
  }
  if (name == "timestamp") {
    const Expr& arg = Unwrap(*c.args[0]);
    VectorSteps v;
    if (arg.kind == ExprKind::kVectorSelector) {
      VIGIL_ASSIGN_OR_RETURN(v, EvalVectorSelector(arg.As<VectorSelector>(), true));
    } else {
      VIGIL_ASSIGN_OR_RETURN(v, EvalVector(arg));
      for (StepSeries& s : v.series) {
        for (size_t i = 0; i < n; ++i) s.v[i] = static_cast<double>(range_.T(i)) / 1000;
      }
    }
    for (StepSeries& s : v.series) s.drop_name = true;
    return Value(std::move(v));
  }
  if (IsDateFunction(name)) {
    if (c.args.empty()) {
      std::vector<double> vals(n);
      for (size_t i = 0; i < n; ++i) {
        vals[i] = DatePart(name, std::floor(static_cast<double>(range_.T(i)) / 1000));
      }
      return Value(Constant(vals));
    }
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    for (StepSeries& s : v.series) {
      for (size_t i = 0; i < n; ++i) {
        if (!s.ok[i]) continue;
        if (!std::isfinite(s.v[i])) {
          s.ok[i] = 0;
          continue;
        }
        s.v[i] = DatePart(name, s.v[i]);
      }
      s.drop_name = true;
    }
    return Value(std::move(v));
  }
  if (name == "clamp" || name == "clamp_min" || name == "clamp_max" || name == "round") {
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    ScalarSteps a{std::vector<double>(n, 1)}, b;
    if (c.args.size() > 1) {
      VIGIL_ASSIGN_OR_RETURN(a, EvalScalar(*c.args[1]));
    }
    if (c.args.size() > 2) {
      VIGIL_ASSIGN_OR_RETURN(b, EvalScalar(*c.args[2]));
    }
    VectorSteps out;
    for (StepSeries& s : v.series) {
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        if (!s.ok[i]) continue;
        double& x = s.v[i];
        if (name == "clamp") {
          if (b.v[i] < a.v[i]) {
            s.ok[i] = 0;
            continue;
          }
          x = GoMax(a.v[i], GoMin(b.v[i], x));
        } else if (name == "clamp_min") {
          x = GoMax(a.v[i], x);
        } else if (name == "clamp_max") {
          x = GoMin(a.v[i], x);
        } else {
          const double inv = 1.0 / a.v[i];
          x = std::floor(x * inv + 0.5) / inv;
        }
        any = true;
      }
      s.drop_name = true;
      if (any) out.series.push_back(std::move(s));
    }
    return Value(std::move(out));
  }
  if (name == "absent") {
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    StepSeries s;
    s.Init(n);
    s.labels = AbsentLabels(*c.args[0]);
    for (size_t i = 0; i < n; ++i) {
      bool present = false;
      for (const StepSeries& x : v.series) present = present || x.ok[i];
      if (!present) {
        s.ok[i] = 1;
        s.v[i] = 1;
      }
    }
    VectorSteps out;
    if (!s.Empty()) out.series.push_back(std::move(s));
    return Value(std::move(out));
  }
  if (name == "absent_over_time") {
    VIGIL_ASSIGN_OR_RETURN(MatrixSteps m, EvalMatrix(*c.args[0]));
    StepSeries s;
    s.Init(n);
    s.labels = AbsentLabels(*c.args[0]);
    for (size_t i = 0; i < n; ++i) {
      const int64_t end = m.WindowEnd(range_.T(i)), start = end - m.range_ms;
      bool present = false;
      for (const RawSeries& rs : m.series) {
        auto it = std::upper_bound(rs.ts.begin(), rs.ts.end(), start);
        if (it != rs.ts.end() && *it <= end) {
          present = true;
          break;
        }
      }
      if (!present) {
        s.ok[i] = 1;
        s.v[i] = 1;
      }
    }
    VectorSteps out;
    if (!s.Empty()) out.series.push_back(std::move(s));
    return Value(std::move(out));
  }
  if (name == "sort" || name == "sort_desc" || name == "sort_by_label" ||
      name == "sort_by_label_desc") {
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    if (n != 1) {
      {
        Warn("sort is ineffective for range queries since results are always ordered by labels",
             c.span);
      }
      return Value(std::move(v));
    }
    if (name == "sort" || name == "sort_desc") {
      const bool desc = name == "sort_desc";
      std::stable_sort(v.series.begin(), v.series.end(),
                       [desc](const StepSeries& a, const StepSeries& b) {
                         const double x = a.v[0], y = b.v[0];
                         if (std::isnan(x)) return false;
                         if (std::isnan(y)) return true;
                         return desc ? x > y : x < y;
                       });
      return Value(std::move(v));
    }
    std::vector<std::string> names;
    for (size_t i = 1; i < c.args.size(); ++i) names.push_back(StringArg(*c.args[i]));
    const bool desc = name == "sort_by_label_desc";
    std::stable_sort(v.series.begin(), v.series.end(),
                     [&](const StepSeries& a, const StepSeries& b) {
                       for (const std::string& l : names) {
                         std::string_view x = a.labels.Get(l), y = b.labels.Get(l);
                         if (x == y) continue;
                         return desc ? NaturalLess(y, x) : NaturalLess(x, y);
                       }
                       return desc ? b.labels < a.labels : a.labels < b.labels;
                     });
    return Value(std::move(v));
  }
  if (name == "label_replace") return EvalLabelReplace(*this, c);
  if (name == "label_join") return EvalLabelJoin(*this, c);
  if (name == "histogram_quantile" || name == "histogram_quantiles")
    return EvalHistogramQuantile(*this, c);
  if (name == "histogram_fraction") return EvalHistogramFraction(*this, c);
  if (name == "info") return Eval(*c.args[0]);
  if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_avg" ||
      name == "histogram_stddev" || name == "histogram_stdvar" || name == "start_timestamp") {
    // Native histograms only; float samples yield nothing.
    VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVector(*c.args[0]));
    (void)v;
    return Value(VectorSteps{});
  }
  return Status::NotSupported("function " + std::string(name) + "() is not supported");
}

}  // namespace vigil::query::eval
