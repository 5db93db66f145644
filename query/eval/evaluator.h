#pragma once

// The evaluator behind query/engine.h. Internal to query/.
//
// Every expression is evaluated over all steps of the query at once: an instant vector becomes a
// set of series with one (value, present) slot per step, so a range query touches each node once
// and each selector decodes each series once. Range-vector arguments keep every raw sample a
// query needs, and functions slide their windows over them step by step.

#include <bit>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "query/ast.h"
#include "query/engine.h"
#include "query/value.h"
#include "storage/labels.h"
#include "storage/querier.h"
#include "storage/series_ref.h"

namespace vigil::query::eval {

// The steps an expression is evaluated at: start, start + step, ..., <= end.
struct StepRange {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;
  size_t n = 1;
  int64_t T(size_t i) const { return start + static_cast<int64_t>(i) * step; }
  static StepRange Make(int64_t start, int64_t end, int64_t step) {
    StepRange r{start, end, step <= 0 ? 1 : step, 1};
    r.n = end < start ? 0 : static_cast<size_t>((end - start) / r.step) + 1;
    return r;
  }
};

// One series of an instant vector over the steps of the range.
struct StepSeries {
  storage::Labels labels;
  std::vector<double> v;    // one per step
  std::vector<uint8_t> ok;  // 1 where the series has a value at the step
  bool drop_name = false;   // __name__ is removed when the query finishes (delayed removal)

  void Init(size_t n) {
    v.assign(n, 0);
    ok.assign(n, 0);
  }
  bool Empty() const;
};

struct VectorSteps {
  std::vector<StepSeries> series;
};
struct ScalarSteps {
  std::vector<double> v;  // one per step, always present
};
struct StringVal {
  std::string s;
};

// Raw samples of one series of a range vector, ascending, stale markers removed.
// An allocator whose resize() leaves new numbers uninitialised: raw samples are decoded straight
// into a vector grown a batch ahead of them.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

struct RawSeries {
  storage::Labels labels;
  std::vector<int64_t, DefaultInitAllocator<int64_t>> ts;
  std::vector<double, DefaultInitAllocator<double>> vs;
  bool drop_name = false;
};

// A range-vector argument: raw samples and where each step's window (end - range, end] lies.
struct MatrixSteps {
  std::vector<RawSeries> series;
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  std::optional<int64_t> at_ms;
  int64_t WindowEnd(int64_t t) const { return (at_ms ? *at_ms : t) - offset_ms; }
};

using Value = std::variant<ScalarSteps, VectorSteps, MatrixSteps, StringVal>;

// Collects output series keyed by labels. Two values for the same labels at one step are the
// error Prometheus reports as "vector cannot contain metrics with the same labelset".
class OutputBuilder {
 public:
  explicit OutputBuilder(size_t steps) : steps_(steps) {}
  // Index of the series with these labels, creating it (with drop_name) if new.
  size_t Series(const storage::Labels& labels, bool drop_name);
  // REQUIRES: idx from Series(). False if the slot is already set.
  bool Set(size_t idx, size_t step, double v) {
    StepSeries& s = out_.series[idx];
    if (s.ok[step]) return false;
    s.ok[step] = 1;
    s.v[step] = v;
    return true;
  }
  VectorSteps Finish();

 private:
  size_t steps_;
  VectorSteps out_;
  std::unordered_map<std::string, size_t> index_;
};

extern const char kDuplicateLabelsetError[];

// Shared per-query state.
struct QueryState {
  const EngineOptions* options = nullptr;
  storage::Querier* querier = nullptr;
  QueryContext* ctx = nullptr;
  std::string_view text;
  int64_t query_start = 0;  // for start() / end()
  int64_t query_end = 0;
  int64_t query_step = 0;  // 0 for instant queries
  std::chrono::steady_clock::time_point deadline;
  bool has_deadline = false;
  uint64_t samples = 0;         // held (approximation: loaded + produced)
  uint64_t samples_loaded = 0;  // read from storage
  std::vector<Annotation> annotations;
};

class Evaluator {
 public:
  Evaluator(QueryState* state, StepRange range) : st_(state), range_(range) {}

  Result<Value> Eval(const Expr& e);
  const StepRange& range() const { return range_; }
  QueryState& state() { return *st_; }

  // Cancellation, timeout.
  Status Check();
  // Accounts n more samples; ResourceExhausted past the limit.
  Status AddSamples(uint64_t n);
  void Warn(std::string_view msg, PosRange pos) { Annotate(AnnotationKind::kWarning, msg, pos); }
  void Info(std::string_view msg, PosRange pos) { Annotate(AnnotationKind::kInfo, msg, pos); }

  // Evaluates to an instant vector / scalar; REQUIRES the expression has that type.
  Result<VectorSteps> EvalVector(const Expr& e);
  Result<ScalarSteps> EvalScalar(const Expr& e);

  // Selectors (selectors.cc).
  Result<VectorSteps> EvalVectorSelector(const VectorSelector& vs, bool timestamps);
  Result<MatrixSteps> EvalMatrix(const Expr& e);  // matrix selector or subquery
  // Resolved offset and @ time of selectors and subqueries.
  int64_t Offset(const TimeModifiers& m) const;
  std::optional<int64_t> AtTime(const TimeModifiers& m) const;
  Result<int64_t> ResolveDuration(int64_t ms, const DurationExprPtr& expr) const;

  // Series of `vs` in [min_t, max_t] (stale markers kept if keep_stale), decoded in groups on the
  // query's threads (the first of kFirstScanGroup series, each next one twice as large, up to
  // kScanGroup). Per non-empty series, `work(rs, slot)` (may be null)
  // runs on the thread that decoded it, then `done(rs, slot)` on the calling thread in series
  // order, after the series' samples were accounted; `slot` (< kScanGroup) is its place in its
  // group, so callers keep per-slot results in arrays of kScanGroup. With a `work`, the samples
  // live in a per-thread buffer only while `work` runs: `done` sees the series' labels and empty
  // ts/vs. Without one, `done` gets the samples.
  static constexpr size_t kScanGroup = 256;
  static constexpr size_t kFirstScanGroup = 32;
  using ScanWork = std::function<void(RawSeries& rs, size_t slot)>;
  using ScanDone = std::function<Status(RawSeries& rs, size_t slot)>;
  // `newest_only`: `work` uses only each series' newest sample at or before max_t, so the storage
  // may hand over just that one (Querier::SelectNewest).
  Status Scan(const VectorSelector& vs, int64_t min_t, int64_t max_t, bool keep_stale, const ScanWork& work,
              const ScanDone& done, bool newest_only = false);
  // When `e` is a matrix selector (in parentheses or not): its window parameters in *m (no
  // series), and the selector and time range to Scan. False for subqueries.
  Result<bool> MatrixScanSpec(const Expr& e, MatrixSteps* m, const VectorSelector** vs, int64_t* min_t,
                              int64_t* max_t);

  Result<Value> EvalBinary(const Binary& b);        // binary.cc
  Result<Value> EvalAggregate(const Aggregate& a);  // aggregations.cc
  Result<Value> EvalCall(const Call& c);            // functions.cc

 private:
  void Annotate(AnnotationKind kind, std::string_view msg, PosRange pos);
  Result<std::vector<RawSeries>> Load(const VectorSelector& vs, int64_t min_t, int64_t max_t,
                                      bool keep_stale);
  Result<MatrixSteps> EvalSubquery(const Subquery& sq);

  QueryState* st_;
  StepRange range_;
};

// Go's math.Max / math.Min (NaN wins, unlike std::fmax).
double GoMax(double a, double b);
double GoMin(double a, double b);
// Called per sample on hot paths: inline.
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == storage::kStaleNaNBits; }

// Label helpers.
storage::Labels DropMetricName(const storage::Labels& ls);

}  // namespace vigil::query::eval

#include "query/eval/kahan.h"
