#include "server/api/range_cache.h"

#include <algorithm>
#include <utility>

namespace vigil::server {
namespace {

bool ModifiersCacheable(const query::TimeModifiers& m) {
  return m.at == query::AtKind::kNone && m.offset_ms >= 0 && m.offset_expr == nullptr;
}

size_t MatrixBytes(const query::MatrixValue& m) {
  size_t b = 0;
  for (const query::Series& s : m) {
    b += sizeof(query::Series) + s.labels.Encoded().size() + s.points.size() * sizeof(query::Point);
  }
  return b;
}

// The series of `m` restricted to steps in [from, to]; series left without a step are dropped.
query::MatrixValue Slice(const query::MatrixValue& m, int64_t from, int64_t to) {
  query::MatrixValue out;
  for (const query::Series& s : m) {
    auto lo = std::lower_bound(s.points.begin(), s.points.end(), from,
                               [](const query::Point& p, int64_t t) { return p.t < t; });
    auto hi = std::upper_bound(s.points.begin(), s.points.end(), to,
                               [](int64_t t, const query::Point& p) { return t < p.t; });
    if (lo >= hi) continue;
    out.push_back(query::Series{s.labels, std::vector<query::Point>(lo, hi)});
  }
  return out;
}

// Both sorted by labels, `a`'s steps all before `b`'s: the series of either, points joined.
query::MatrixValue Join(query::MatrixValue a, query::MatrixValue b) {
  query::MatrixValue out;
  out.reserve(std::max(a.size(), b.size()));
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].labels < b[j].labels)) {
      out.push_back(std::move(a[i++]));
    } else if (i == a.size() || b[j].labels < a[i].labels) {
      out.push_back(std::move(b[j++]));
    } else {
      query::Series s = std::move(a[i++]);
      s.points.insert(s.points.end(), b[j].points.begin(), b[j].points.end());
      ++j;
      out.push_back(std::move(s));
    }
  }
  return out;
}

void AddAnnotations(const std::vector<query::Annotation>& from, std::vector<query::Annotation>* to) {
  for (const query::Annotation& a : from) {
    if (std::find(to->begin(), to->end(), a) == to->end()) to->push_back(a);
  }
}

}  // namespace

RangeCache::RangeCache(Options options, Clock* clock) : options_(options), clock_(clock) {}

bool RangeCache::Cacheable(const query::Expr& e) {
  using query::ExprKind;
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
      return true;
    case ExprKind::kVectorSelector:
      return ModifiersCacheable(e.As<query::VectorSelector>().mods);
    case ExprKind::kMatrixSelector: {
      const auto& m = e.As<query::MatrixSelector>();
      return m.range_expr == nullptr && m.vector_selector != nullptr &&
             Cacheable(*m.vector_selector);
    }
    case ExprKind::kSubquery: {
      const auto& s = e.As<query::Subquery>();
      return s.range_expr == nullptr && s.step_expr == nullptr && ModifiersCacheable(s.mods) &&
             Cacheable(*s.expr);
    }
    case ExprKind::kCall: {
      for (const query::ExprPtr& a : e.As<query::Call>().args) {
        if (a != nullptr && !Cacheable(*a)) return false;
      }
      return true;
    }
    case ExprKind::kAggregate: {
      const auto& a = e.As<query::Aggregate>();
      return Cacheable(*a.expr) && (a.param == nullptr || Cacheable(*a.param));
    }
    case ExprKind::kBinary: {
      const auto& b = e.As<query::Binary>();
      return Cacheable(*b.lhs) && Cacheable(*b.rhs);
    }
    case ExprKind::kUnary:
      return Cacheable(*e.As<query::Unary>().expr);
    case ExprKind::kParen:
      return Cacheable(*e.As<query::Paren>().expr);
  }
  return false;
}

Result<query::QueryResult> RangeCache::Query(std::string_view text, const query::Expr& expr,
                                             int64_t start, int64_t end, int64_t step,
                                             int64_t lookback_ms, uint64_t generation,
                                             const RunFn& run) {
  if (!Cacheable(expr) || options_.max_bytes == 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.uncacheable;
    }
    return run(start, end);
  }
  const int64_t phase = ((start % step) + step) % step;
  std::string key(text);
  key += '\0';
  key += std::to_string(step) + ":" + std::to_string(phase) + ":" + std::to_string(lookback_ms);

  // The cached steps this query can use: [start, reuse_end].
  query::MatrixValue cached;
  std::vector<query::Annotation> cached_annotations;
  int64_t reuse_end = start - step;  // none
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
      Entry& e = *it->second;
      if (e.generation != generation) {
        bytes_ -= e.bytes;
        lru_.erase(it->second);
        by_key_.erase(it);
      } else if (e.start <= start && start <= e.end) {
        reuse_end = std::min(e.end, end);
        cached = Slice(e.matrix, start, reuse_end);
        cached_annotations = e.annotations;
        lru_.splice(lru_.begin(), lru_, it->second);
      }
    }
    if (reuse_end >= start) {
      ++stats_.hits;
      stats_.steps_reused += static_cast<uint64_t>((reuse_end - start) / step + 1);
    } else {
      ++stats_.misses;
    }
  }

  query::QueryResult result;
  if (reuse_end + step <= end) {
    VIGIL_ASSIGN_OR_RETURN(result, run(reuse_end + step, end));
    if (!result.IsMatrix()) return result;  // not a range answer: nothing to join or keep
  } else {
    result.value = query::MatrixValue{};
  }
  if (reuse_end >= start) {
    result.value = Join(std::move(cached), std::move(std::get<query::MatrixValue>(result.value)));
    std::vector<query::Annotation> all = std::move(cached_annotations);
    AddAnnotations(result.annotations, &all);
    result.annotations = std::move(all);
  }

  // Keep the steps that can no longer change.
  const int64_t cutoff = std::min(end, clock_->NowMillis() - options_.min_age_ms);
  if (cutoff >= start) {
    const int64_t last = start + (cutoff - start) / step * step;
    Entry e;
    e.key = std::move(key);
    e.generation = generation;
    e.start = start;
    e.end = last;
    e.matrix = Slice(std::get<query::MatrixValue>(result.value), start, last);
    e.annotations = result.annotations;
    e.bytes = MatrixBytes(e.matrix) + e.key.size() + sizeof(Entry);
    if (e.bytes <= options_.max_bytes / 4) Store(std::move(e));
  }
  return result;
}

namespace {

size_t ResultBytes(const query::QueryResult& r) {
  size_t b = sizeof(query::QueryResult);
  if (const auto* v = std::get_if<query::VectorValue>(&r.value)) {
    for (const query::Sample& s : *v) b += sizeof(query::Sample) + s.labels.Encoded().size();
  } else if (const auto* m = std::get_if<query::MatrixValue>(&r.value)) {
    b += MatrixBytes(*m);
  } else if (const auto* str = std::get_if<query::StringValue>(&r.value)) {
    b += str->value.size();
  }
  for (const query::Annotation& a : r.annotations) b += sizeof(a) + a.message.size();
  return b;
}

}  // namespace

Result<query::QueryResult> RangeCache::Instant(std::string_view text, const query::Expr& expr,
                                               int64_t t_ms, int64_t lookback_ms, uint64_t generation,
                                               const InstantRunFn& run) {
  const bool old_enough = t_ms <= clock_->NowMillis() - options_.min_age_ms;
  if (!Cacheable(expr) || options_.max_bytes == 0 || !old_enough) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.uncacheable;
    }
    return run();
  }
  std::string key = "instant";
  key += '\0';
  key += text;
  key += '\0';
  key += std::to_string(t_ms) + ":" + std::to_string(lookback_ms);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
      Entry& e = *it->second;
      if (e.generation == generation && e.instant.has_value()) {
        ++stats_.hits;
        lru_.splice(lru_.begin(), lru_, it->second);
        return *e.instant;
      }
      bytes_ -= e.bytes;
      lru_.erase(it->second);
      by_key_.erase(it);
    }
    ++stats_.misses;
  }
  VIGIL_ASSIGN_OR_RETURN(query::QueryResult result, run());
  Entry e;
  e.key = std::move(key);
  e.generation = generation;
  e.start = e.end = t_ms;
  e.bytes = ResultBytes(result) + e.key.size() + sizeof(Entry);
  e.instant = result;
  if (e.bytes <= options_.max_bytes / 4) Store(std::move(e));
  return result;
}

void RangeCache::Store(Entry e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_key_.find(e.key); it != by_key_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    by_key_.erase(it);
  }
  bytes_ += e.bytes;
  lru_.push_front(std::move(e));
  by_key_.emplace(lru_.front().key, lru_.begin());
  while (bytes_ > options_.max_bytes && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    by_key_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

std::string RangeCache::RequestKey(std::string_view endpoint, std::string_view text,
                                   int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                   int64_t lookback_ms) {
  std::string key = "body";
  key += '\0';
  key += endpoint;
  key += '\0';
  key += text;
  key += '\0';
  key += std::to_string(start_ms) + ":" + std::to_string(end_ms) + ":" + std::to_string(step_ms) +
         ":" + std::to_string(lookback_ms);
  return key;
}

std::shared_ptr<const std::string> RangeCache::FindBody(const std::string& request_key,
                                                        uint64_t generation) {
  if (options_.max_bytes == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_key_.find(request_key);
  if (it == by_key_.end()) return nullptr;
  Entry& e = *it->second;
  if (e.generation != generation || e.body == nullptr) {
    bytes_ -= e.bytes;
    lru_.erase(it->second);
    by_key_.erase(it);
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return e.body;
}

void RangeCache::KeepBody(std::string request_key, uint64_t generation, int64_t newest_step_ms,
                          std::shared_ptr<const std::string> body) {
  if (options_.max_bytes == 0 || body == nullptr ||
      newest_step_ms > clock_->NowMillis() - options_.min_age_ms) {
    return;
  }
  Entry e;
  e.key = std::move(request_key);
  e.generation = generation;
  e.start = e.end = newest_step_ms;
  e.bytes = body->size() + e.key.size() + sizeof(Entry);
  e.body = std::move(body);
  if (e.bytes <= options_.max_bytes / 4) Store(std::move(e));
}

RangeCache::Stats RangeCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace vigil::server
