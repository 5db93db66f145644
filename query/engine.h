#pragma once

// The PromQL evaluator: the way into query/ for running queries.
//
//   Engine engine(EngineOptions{});
//   VIGIL_ASSIGN_OR_RETURN(QueryResult r,
//                          engine.InstantQuery(db_queryable, "sum by (job) (rate(x[5m]))", t_ms));
//
// Semantics are Prometheus 3.x's for float samples: lookback delta, stale markers, left-open
// windows (t - range, t], offset / @ / start() / end(), subqueries aligned to absolute multiples
// of their step, delayed metric-name removal. Errors:
//   InvalidArgument    parse and type errors, and evaluation errors Prometheus reports for the
//                      query (many-to-many matching, duplicate label sets, bad parameters)
//   ResourceExhausted  the query would hold more than EngineOptions::max_samples samples
//   DeadlineExceeded   the timeout passed
//   Cancelled          QueryContext::cancelled was set
// Storage errors are passed through.
//
// Thread safety: an Engine is immutable after construction; queries may run concurrently, each
// on its own thread with its own Querier.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "query/parser.h"
#include "query/value.h"
#include "storage/base/status.h"
#include "storage/querier.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::query {

// What the engine reads from: a database, a head, a test store.
class Queryable {
 public:
  virtual ~Queryable() = default;
  // A querier over [min_t, max_t] (inclusive, milliseconds). Called once per query.
  virtual Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) = 0;
};

// Reads queries from a Db (its head and blocks merged). The Db is not owned and must outlive it.
class DbQueryable final : public Queryable {
 public:
  explicit DbQueryable(storage::Db* db) : db_(db) {}
  Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) override;

 private:
  storage::Db* db_;
};

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // Upper bound on samples held at once (loaded from storage plus produced per step).
  uint64_t max_samples = 50'000'000;
  int64_t timeout_ms = 2 * 60 * 1000;  // 0: none
  // Step of subqueries written without one (`x[1h:]`), as Prometheus' evaluation interval.
  int64_t default_subquery_step_ms = 60 * 1000;
  // Feature flags of the parser (experimental functions, duration expressions, ...).
  ParseOptions parse_options = ParseOptions::AllEnabled();
  // Threads one query may use to decode series and slide range-function windows over them
  // (query/eval/parallel.h): 0 = one per core (at most 8), 1 = the calling thread only. Results do
  // not depend on it.
  int parallelism = 0;
};

// Per-query controls. Optional; the caller keeps it alive for the duration of the query.
struct QueryContext {
  // Set (from any thread) to make the query return Cancelled soon, between steps or series.
  std::atomic<bool> cancelled{false};
};

class Engine {
 public:
  explicit Engine(EngineOptions options);

  // Evaluates `expr` at t_ms. The result is a scalar, a string, a vector, or for range-vector
  // expressions (`x[5m]`) a matrix of the raw samples in the window.
  Result<QueryResult> InstantQuery(Queryable& storage, std::string_view expr, int64_t t_ms,
                                   QueryContext* ctx = nullptr) const;

  // Evaluates `expr` at start, start + step, ... <= end. The result is a matrix sorted by labels
  // (scalar results become one series without labels). REQUIRES step > 0, end >= start.
  Result<QueryResult> RangeQuery(Queryable& storage, std::string_view expr, int64_t start_ms,
                                 int64_t end_ms, int64_t step_ms,
                                 QueryContext* ctx = nullptr) const;

  const EngineOptions& options() const { return options_; }

 private:
  Result<QueryResult> Run(Queryable& storage, std::string_view expr, int64_t start_ms,
                          int64_t end_ms, int64_t step_ms, bool instant, QueryContext* ctx) const;

  EngineOptions options_;
};

}  // namespace vigil::query
