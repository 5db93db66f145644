#include "query/functions.h"

#include <algorithm>
#include <array>

namespace vigil::query {
namespace {

constexpr ValueType S = ValueType::kScalar;
constexpr ValueType V = ValueType::kVector;
constexpr ValueType M = ValueType::kMatrix;
constexpr ValueType Str = ValueType::kString;
constexpr ValueType N = ValueType::kNone;

constexpr FunctionInfo F(std::string_view name, std::initializer_list<ValueType> args,
                         ValueType ret, int8_t variadic = 0, bool experimental = false) {
  FunctionInfo f{name, {N, N, N, N, N}, 0, variadic, ret, experimental};
  for (ValueType t : args) f.arg_types[f.num_arg_types++] = t;
  return f;
}
constexpr bool kExp = true;

// Sorted by name (checked by a test and at first use in debug builds).
constexpr auto kFunctions = std::to_array<FunctionInfo>({
    F("abs", {V}, V),
    F("absent", {V}, V),
    F("absent_over_time", {M}, V),
    F("acos", {V}, V),
    F("acosh", {V}, V),
    F("asin", {V}, V),
    F("asinh", {V}, V),
    F("atan", {V}, V),
    F("atanh", {V}, V),
    F("avg_over_time", {M}, V),
    F("ceil", {V}, V),
    F("changes", {M}, V),
    F("clamp", {V, S, S}, V),
    F("clamp_max", {V, S}, V),
    F("clamp_min", {V, S}, V),
    F("cos", {V}, V),
    F("cosh", {V}, V),
    F("count_over_time", {M}, V),
    F("day_of_month", {V}, V, 1),
    F("day_of_week", {V}, V, 1),
    F("day_of_year", {V}, V, 1),
    F("days_in_month", {V}, V, 1),
    F("deg", {V}, V),
    F("delta", {M}, V),
    F("deriv", {M}, V),
    F("double_exponential_smoothing", {M, S, S}, V, 0, kExp),
    F("end", {}, S, 0, kExp),
    F("exp", {V}, V),
    F("first_over_time", {M}, V, 0, kExp),
    F("floor", {V}, V),
    F("histogram_avg", {V}, V),
    F("histogram_count", {V}, V),
    F("histogram_fraction", {S, S, V}, V),
    F("histogram_quantile", {S, V}, V),
    F("histogram_quantiles", {V, Str, S}, V, -1, kExp),
    F("histogram_stddev", {V}, V),
    F("histogram_stdvar", {V}, V),
    F("histogram_sum", {V}, V),
    F("hour", {V}, V, 1),
    F("idelta", {M}, V),
    F("increase", {M}, V),
    F("info", {V, V}, V, 1, kExp),
    F("irate", {M}, V),
    F("label_join", {V, Str, Str, Str}, V, -1),
    F("label_replace", {V, Str, Str, Str, Str}, V),
    F("last_over_time", {M}, V),
    F("ln", {V}, V),
    F("log10", {V}, V),
    F("log2", {V}, V),
    F("mad_over_time", {M}, V, 0, kExp),
    F("max_of", {S, S}, S, 0, kExp),
    F("max_over_time", {M}, V),
    F("min_of", {S, S}, S, 0, kExp),
    F("min_over_time", {M}, V),
    F("minute", {V}, V, 1),
    F("month", {V}, V, 1),
    F("pi", {}, S),
    F("predict_linear", {M, S}, V),
    F("present_over_time", {M}, V),
    F("quantile_over_time", {S, M}, V),
    F("rad", {V}, V),
    F("range", {}, S, 0, kExp),
    F("rate", {M}, V),
    F("resets", {M}, V),
    F("round", {V, S}, V, 1),
    F("scalar", {V}, S),
    F("sgn", {V}, V),
    F("sin", {V}, V),
    F("sinh", {V}, V),
    F("sort", {V}, V),
    F("sort_by_label", {V, Str}, V, -1, kExp),
    F("sort_by_label_desc", {V, Str}, V, -1, kExp),
    F("sort_desc", {V}, V),
    F("sqrt", {V}, V),
    F("start", {}, S, 0, kExp),
    F("start_timestamp", {V}, V, 0, kExp),
    F("stddev_over_time", {M}, V),
    F("stdvar_over_time", {M}, V),
    F("step", {}, S, 0, kExp),
    F("sum_over_time", {M}, V),
    F("tan", {V}, V),
    F("tanh", {V}, V),
    F("time", {}, S),
    F("timestamp", {V}, V),
    F("ts_of_first_over_time", {M}, V, 0, kExp),
    F("ts_of_last_over_time", {M}, V, 0, kExp),
    F("ts_of_max_over_time", {M}, V, 0, kExp),
    F("ts_of_min_over_time", {M}, V, 0, kExp),
    F("vector", {S}, V),
    // Vigil's model functions (query/docs/vigil-functions.md).
    F("vigil_anomaly_expected", {M, S}, V),
    F("vigil_anomaly_lower", {M, S}, V),
    F("vigil_anomaly_score", {M}, V),
    F("vigil_anomaly_upper", {M, S}, V),
    F("vigil_forecast", {M, S, S}, V),
    F("vigil_forecast_lower", {M, S, S}, V),
    F("vigil_forecast_upper", {M, S, S}, V),
    F("year", {V}, V, 1),
});

}  // namespace

std::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
    case ValueType::kNone: break;
  }
  return "none";
}

const FunctionInfo* LookupFunction(std::string_view name) {
  auto it = std::lower_bound(kFunctions.begin(), kFunctions.end(), name,
                             [](const FunctionInfo& f, std::string_view n) { return f.name < n; });
  if (it == kFunctions.end() || it->name != name) return nullptr;
  return &*it;
}

std::span<const FunctionInfo> AllFunctions() { return kFunctions; }

}  // namespace vigil::query
