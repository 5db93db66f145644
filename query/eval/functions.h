#pragma once

// Function families of the evaluator. Internal to query/.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "query/eval/evaluator.h"

namespace vigil::query::eval {

// The samples of one series inside one step's window (end - range_ms, end].
struct Window {
  const int64_t* ts;
  const double* vs;
  size_t n;  // >= 1
  int64_t end;
  int64_t range_ms;
  int64_t eval_t;  // the step's evaluation time (predict_linear's reference point)
};

// Computes one window's value; false when the function yields no sample (e.g. rate of one point).
// args are the scalar arguments other than the range vector, at this step.
using RangeKernel = bool (*)(const Window& w, const double* args, double* out);

struct RangeFunction {
  std::string_view name;
  RangeKernel kernel;
  uint8_t matrix_arg;  // index of the range-vector argument
  bool keeps_name;     // last_over_time, first_over_time keep __name__
  bool counter_info;   // rate, increase: info when the name does not look like a counter
};

const RangeFunction* LookupRangeFunction(std::string_view name);
// Receives the series a range function produces, one at a time, in the order EvalRangeFunction
// would return them. The series is only lent: its buffers are reused for a later series once the
// sink returns. An error stops the evaluation and is returned as is.
using StepSeriesSink = std::function<Status(StepSeries&)>;
// With a sink, every series goes to it and the result is an empty vector: an aggregation over a
// range function folds each series in as it is made instead of holding all of them.
Result<Value> EvalRangeFunction(Evaluator& ev, const Call& c, const RangeFunction& f,
                                const StepSeriesSink* sink = nullptr);

// functions_models.cc: Vigil's forecast and anomaly-band functions (query/docs/vigil-functions.md).
bool VigilForecast(const Window& w, const double* args, double* out);
bool VigilForecastLower(const Window& w, const double* args, double* out);
bool VigilForecastUpper(const Window& w, const double* args, double* out);
bool VigilAnomalyExpected(const Window& w, const double* args, double* out);
bool VigilAnomalyLower(const Window& w, const double* args, double* out);
bool VigilAnomalyUpper(const Window& w, const double* args, double* out);
bool VigilAnomalyScore(const Window& w, const double* args, double* out);
// Validates one step's scalar arguments of a vigil_* model function.
Status CheckModelArgs(std::string_view name, double a0, double a1);

// The value of a string argument (string literals, possibly in parentheses).
const std::string& StringArg(const Expr& e);

// histogram.cc
Result<Value> EvalHistogramQuantile(Evaluator& ev, const Call& c);
Result<Value> EvalHistogramFraction(Evaluator& ev, const Call& c);

// functions_label.cc
Result<Value> EvalLabelReplace(Evaluator& ev, const Call& c);
Result<Value> EvalLabelJoin(Evaluator& ev, const Call& c);
// Merges series that ended up with the same labels; InvalidArgument if two share a step.
Result<VectorSteps> MergeSameLabels(VectorSteps in, size_t steps);

}  // namespace vigil::query::eval
