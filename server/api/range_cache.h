#pragma once

// RangeCache: answers of range queries, step by step, for the steps old enough not to change, so
// that the next query over the same grid recomputes only what is new. A dashboard refreshing a 6 h
// panel every 30 s then evaluates the newest few minutes instead of 6 h.
//
// Why it is correct. A step's value depends only on samples at or before the step (the query
// must have no `@` modifier, no negative offset and no duration expression: Cacheable()). Steps
// older than `min_age_ms` before the clock are cached; a sample that could still change one of
// them is, when it arrives, older than the storage's late-write threshold, which moves
// Db::LateWriteGeneration() — and an entry made under another generation is never used. So is a
// delete or a retention deletion. `min_age_ms` must be >= DbOptions::late_write_ms (vigild sets
// both from one flag).
//
// Entries are keyed by the query text, the step, the step grid's phase (start mod step) and the
// lookback delta; one entry per key holds the answer for [entry start, entry end], replaced by the
// newest query. Memory is bounded by `max_bytes` (least recently used entries go first).
//
// Instant queries at a time at least `min_age_ms` old are kept whole, keyed by text, time and
// lookback, under the same generation rule (a dashboard panel pinned to a past incident, or the
// instant queries Grafana's stat and table panels send, repeat the same time).
//
// Thread safety: all methods may be called concurrently; queries run outside the lock.

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "query/ast.h"
#include "query/value.h"
#include "storage/base/clock.h"
#include "storage/base/status.h"

namespace vigil::server {

class RangeCache {
 public:
  struct Options {
    size_t max_bytes = 64u << 20;
    int64_t min_age_ms = 5 * 60 * 1000;
  };
  struct Stats {
    uint64_t hits = 0;         // range queries that reused cached steps, instant ones answered
    uint64_t misses = 0;       // cacheable queries computed in full
    uint64_t uncacheable = 0;  // queries the cache cannot answer (see Cacheable)
    uint64_t steps_reused = 0;
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  // Evaluates the query over [start, end] of the same step grid; the result must be a matrix.
  using RunFn = std::function<Result<query::QueryResult>(int64_t start_ms, int64_t end_ms)>;

  RangeCache(Options options, Clock* clock);

  // Whether the answer of `e` at a step depends only on samples at or before the step, and not on
  // the query's range: no `@`, no negative offset, no duration expression.
  static bool Cacheable(const query::Expr& e);

  // The answer of the range query `text` (already parsed as `expr`) over [start, end] every
  // `step`, reusing the cached steps of an earlier query with the same key and generation.
  // REQUIRES: step > 0, end >= start.
  Result<query::QueryResult> Query(std::string_view text, const query::Expr& expr,
                                   int64_t start, int64_t end, int64_t step,
                                   int64_t lookback_ms, uint64_t generation, const RunFn& run);

  // The answer of the instant query `text` (parsed as `expr`) at t_ms: cached whole when t_ms is
  // at least `min_age_ms` old, under the same rules as range steps (key: text, time, lookback).
  using InstantRunFn = std::function<Result<query::QueryResult>()>;
  Result<query::QueryResult> Instant(std::string_view text, const query::Expr& expr, int64_t t_ms,
                                     int64_t lookback_ms, uint64_t generation, const InstantRunFn& run);

  // Rendered answers. A request whose every step is at least `min_age_ms` old can keep the bytes
  // of its whole response, so that asking it again (a dashboard reloaded, a second viewer, a
  // panel pinned to a past incident) copies them instead of joining steps and writing JSON again.
  // `request_key` must name everything the response depends on (RequestKey below); the same
  // generation rule applies. Callers check Cacheable() first.
  static std::string RequestKey(std::string_view endpoint, std::string_view text, int64_t start_ms,
                                int64_t end_ms, int64_t step_ms, int64_t lookback_ms);
  std::shared_ptr<const std::string> FindBody(const std::string& request_key, uint64_t generation);
  // Keeps `body` when `newest_step_ms` is at least `min_age_ms` old (else does nothing).
  void KeepBody(std::string request_key, uint64_t generation, int64_t newest_step_ms,
                std::shared_ptr<const std::string> body);

  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    uint64_t generation = 0;
    int64_t start = 0, end = 0;  // steps held: start, start + step, ... <= end
    query::MatrixValue matrix;
    std::vector<query::Annotation> annotations;
    std::optional<query::QueryResult> instant;  // instant entries: the whole answer
    std::shared_ptr<const std::string> body;    // rendered answers: the response body
    size_t bytes = 0;
  };
  using List = std::list<Entry>;  // most recently used first

  void Store(Entry e);

  const Options options_;
  Clock* const clock_;
  mutable std::mutex mu_;
  List lru_;
  std::unordered_map<std::string, List::iterator> by_key_;
  size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace vigil::server
