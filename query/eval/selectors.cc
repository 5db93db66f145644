// Vector selectors (lookback, staleness), matrix selectors and subqueries.

#include <algorithm>
#include <cmath>
#include <span>

#include "query/eval/evaluator.h"
#include "query/eval/parallel.h"
#include "storage/matcher.h"

namespace vigil::query::eval {
namespace {

constexpr size_t kBatch = 512;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Result<int64_t> Evaluator::ResolveDuration(int64_t ms, const DurationExprPtr& expr) const {
  if (expr == nullptr || IsConstant(*expr)) return ms;
  VIGIL_ASSIGN_OR_RETURN(
      double secs,
      EvalDurationExpr(*expr, static_cast<double>(st_->query_step) / 1000.0,
                       static_cast<double>(st_->query_end - st_->query_start) / 1000.0));
  return static_cast<int64_t>(std::llround(secs * 1000.0));
}

int64_t Evaluator::Offset(const TimeModifiers& m) const {
  auto r = ResolveDuration(m.offset_ms, m.offset_expr);
  return r.ok() ? *r : m.offset_ms;
}

std::optional<int64_t> Evaluator::AtTime(const TimeModifiers& m) const {
  switch (m.at) {
    case AtKind::kNone:
      return std::nullopt;
    case AtKind::kTimestamp:
      return m.at_ms;
    case AtKind::kStart:
      return st_->query_start;
    case AtKind::kEnd:
      return st_->query_end;
  }
  return std::nullopt;
}

namespace {

// Whether any of vs[0, n) is a stale marker (a loop without an early exit, so it vectorises).
bool AnyStale(const double* vs, size_t n) {
  bool any = false;
  for (size_t i = 0; i < n; ++i) any |= IsStaleNaN(vs[i]);
  return any;
}

// Reads `it` into rs: the samples in [min_t, max_t], stale markers dropped unless keep_stale.
Status DecodeSeries(storage::SampleIterator* it, int64_t min_t, int64_t max_t, bool keep_stale, RawSeries* rs) {
  // Samples are read straight into rs's vectors, a batch past what is kept, then trimmed.
  // Series of one selector usually hold about as many samples as each other: starting at what the
  // last one held saves growing the vectors batch by batch.
  thread_local size_t last_size = 0;
  size_t size = 0;
  rs->ts.resize(std::max(last_size, kBatch));
  rs->vs.resize(rs->ts.size());
  it->Seek(min_t);
  for (;;) {
    if (rs->ts.size() < size + kBatch) {
      rs->ts.resize(std::max(size + kBatch, 2 * rs->ts.size()));
      rs->vs.resize(rs->ts.size());
    }
    int64_t* t = rs->ts.data() + size;
    double* v = rs->vs.data() + size;
    const size_t n = it->Next(std::span<int64_t>(t, kBatch), std::span<double>(v, kBatch));
    if (n == 0) break;
    // Batches usually lie wholly inside the range: two comparisons instead of one per sample.
    size_t lo = 0;
    if (t[0] < min_t) {
      while (lo < n && t[lo] < min_t) ++lo;
    }
    size_t hi = n;
    if (t[n - 1] > max_t) {
      hi = lo;
      while (hi < n && t[hi] <= max_t) ++hi;
    }
    if (keep_stale || !AnyStale(v + lo, hi - lo)) {
      if (lo > 0) {
        std::copy(t + lo, t + hi, t);
        std::copy(v + lo, v + hi, v);
      }
      size += hi - lo;
    } else {
      for (size_t i = lo; i < hi; ++i) {  // in place: i never falls behind the write position
        if (IsStaleNaN(v[i])) continue;
        rs->ts[size] = t[i];
        rs->vs[size] = v[i];
        ++size;
      }
    }
    if (hi < n) break;
  }
  rs->ts.resize(size);
  rs->vs.resize(size);
  last_size = size;
  return it->status();
}

// A thread keeps its decoding buffer between series and queries, unless it grew past this many
// samples (4 MiB): one long series must not pin its size on every thread for good.
constexpr size_t kMaxRetainedSamples = size_t{1} << 18;

void ReleaseIfLarge(RawSeries* rs) {
  if (rs->ts.capacity() > kMaxRetainedSamples) {
    rs->ts = {};
    rs->vs = {};
  }
}

// Fewest series worth handing to another thread.
constexpr size_t kMinSeriesPerThread = 16;

}  // namespace

Status Evaluator::Scan(const VectorSelector& vs, int64_t min_t, int64_t max_t, bool keep_stale,
                       const ScanWork& work, const ScanDone& done, bool newest_only) {
  std::vector<storage::Matcher> matchers;
  matchers.reserve(vs.matchers.size());
  for (const LabelMatcher& m : vs.matchers) {
    VIGIL_ASSIGN_OR_RETURN(
        storage::Matcher sm,
        storage::Matcher::Make(static_cast<storage::MatchType>(m.type), m.name, m.value));
    matchers.push_back(std::move(sm));
  }
  if (max_t < min_t) return Status::OK();
  std::unique_ptr<storage::SeriesSet> set =
      newest_only ? st_->querier->SelectNewest(matchers, max_t) : st_->querier->Select(matchers);
  const size_t threads = ParallelismFor(st_->options->parallelism);
  // Series are taken from the set in order (labels and iterators on this thread), decoded (and
  // worked on) in parallel, then handed to `done` in order. Groups overlap: while the pool's
  // threads decode one, this thread takes the next one's series from the set (index look-ups,
  // iterators), then joins the decoding.
  struct Group {
    std::vector<RawSeries> series;
    std::vector<std::unique_ptr<storage::SampleIterator>> iters;
    std::vector<Status> statuses;
    std::vector<size_t> counts;
  };
  Group groups[2];
  // The first group is taken before any decoding starts: it is small, so that the pool's threads
  // start early; each later one doubles, up to kScanGroup.
  size_t group_size = kFirstScanGroup;
  auto take = [&](Group& g) -> Status {
    g.series.clear();
    g.iters.clear();
    const size_t limit = group_size;
    group_size = std::min(group_size * 2, kScanGroup);
    while (g.series.size() < limit && set->Next()) {
      g.series.emplace_back();
      g.series.back().labels = set->labels();
      g.iters.push_back(set->Samples());
    }
    return set->status();
  };
  auto decode = [&](Group& g, size_t i) {
    // Each series is decoded into this thread's buffer (grown a batch ahead of the samples) and,
    // with `work`, worked on at once, so the same few pages serve every series (a fresh process
    // would otherwise fault in a group's worth of raw samples); without, it is copied out at its
    // exact size.
    thread_local RawSeries scratch;
    RawSeries& rs = scratch;
    g.statuses[i] = DecodeSeries(g.iters[i].get(), min_t, max_t, keep_stale, &rs);
    g.iters[i].reset();
    g.counts[i] = rs.ts.size();
    if (!g.statuses[i].ok() || rs.ts.empty()) return;
    if (!work) {
      g.series[i].ts.assign(rs.ts.begin(), rs.ts.end());
      g.series[i].vs.assign(rs.vs.begin(), rs.vs.end());
      ReleaseIfLarge(&rs);
      return;
    }
    rs.labels = std::move(g.series[i].labels);
    work(rs, i);
    g.series[i].labels = std::move(rs.labels);
    ReleaseIfLarge(&rs);
  };
  auto finish = [&](Group& g) -> Status {
    for (size_t i = 0; i < g.series.size(); ++i) {
      VIGIL_RETURN_IF_ERROR(g.statuses[i]);
      if (g.counts[i] == 0) continue;
      st_->samples_loaded += g.counts[i];
      VIGIL_RETURN_IF_ERROR(AddSamples(g.counts[i]));
      VIGIL_RETURN_IF_ERROR(done(g.series[i], i));
    }
    return Check();
  };
  VIGIL_RETURN_IF_ERROR(take(groups[0]));
  for (size_t cur = 0; !groups[cur].series.empty(); cur ^= 1) {
    Group& g = groups[cur];
    const size_t n = g.series.size();
    g.statuses.assign(n, Status::OK());
    g.counts.assign(n, 0);
    Status next_status;
    {
      ParallelJob job(n, n >= 2 * kMinSeriesPerThread ? threads : 1, [&](size_t i) { decode(g, i); });
      next_status = take(groups[cur ^ 1]);
      job.Join();
    }
    VIGIL_RETURN_IF_ERROR(finish(g));
    VIGIL_RETURN_IF_ERROR(next_status);
  }
  return Status::OK();
}

Result<std::vector<RawSeries>> Evaluator::Load(const VectorSelector& vs, int64_t min_t,
                                               int64_t max_t, bool keep_stale) {
  std::vector<RawSeries> out;
  VIGIL_RETURN_IF_ERROR(Scan(vs, min_t, max_t, keep_stale, nullptr, [&](RawSeries& rs, size_t) {
    out.push_back(std::move(rs));
    return Status::OK();
  }));
  return out;
}

Result<VectorSteps> Evaluator::EvalVectorSelector(const VectorSelector& vs, bool timestamps) {
  const int64_t off = Offset(vs.mods);
  const std::optional<int64_t> at = AtTime(vs.mods);
  const int64_t lookback = st_->options->lookback_delta_ms;
  VectorSteps out;
  if (range_.n == 0) return out;
  const int64_t first_end = (at ? *at : range_.start) - off;
  const int64_t last_end = (at ? *at : range_.end) - off;
  // Each series' steps are found on the thread that decoded it, from its buffer (no copy of the
  // raw samples); kept in series order.
  std::vector<StepSeries> results(kScanGroup);
  std::vector<uint64_t> counts(kScanGroup);
  uint64_t produced = 0;
  // Every step at one time (an instant query, or @): each series' newest sample there is all
  // that is used, so the head may hand over just that one.
  const bool newest_only = first_end == last_end;
  VIGIL_RETURN_IF_ERROR(Scan(
      vs, first_end - lookback + 1, last_end, /*keep_stale=*/true,
      [&](RawSeries& rs, size_t slot) {
        StepSeries& s = results[slot];
        s.Init(range_.n);
        size_t j = 0;
        const size_t m = rs.ts.size();
        uint64_t count = 0;
        for (size_t i = 0; i < range_.n; ++i) {
          const int64_t t = (at ? *at : range_.T(i)) - off;
          while (j < m && rs.ts[j] <= t) ++j;
          if (j == 0) continue;
          const size_t k = j - 1;
          if (rs.ts[k] <= t - lookback || IsStaleNaN(rs.vs[k])) continue;
          s.ok[i] = 1;
          s.v[i] = timestamps ? static_cast<double>(rs.ts[k]) / 1000.0 : rs.vs[k];
          ++count;
        }
        counts[slot] = count;
      },
      [&](RawSeries& rs, size_t slot) {
        if (counts[slot] == 0) return Status::OK();
        produced += counts[slot];
        StepSeries& s = results[slot];
        s.labels = std::move(rs.labels);
        s.drop_name = false;
        out.series.push_back(std::move(s));
        return Status::OK();
      },
      newest_only));
  VIGIL_RETURN_IF_ERROR(AddSamples(produced));
  return out;
}

Result<bool> Evaluator::MatrixScanSpec(const Expr& e, MatrixSteps* m, const VectorSelector** vs,
                                       int64_t* min_t, int64_t* max_t) {
  if (e.kind == ExprKind::kParen) return MatrixScanSpec(*e.As<Paren>().expr, m, vs, min_t, max_t);
  if (e.kind != ExprKind::kMatrixSelector) return false;
  const auto& ms = e.As<MatrixSelector>();
  *vs = &ms.vector_selector->As<VectorSelector>();
  VIGIL_ASSIGN_OR_RETURN(m->range_ms, ResolveDuration(ms.range_ms, ms.range_expr));
  m->offset_ms = Offset((*vs)->mods);
  m->at_ms = AtTime((*vs)->mods);
  *min_t = m->WindowEnd(range_.start) - m->range_ms + 1;
  *max_t = m->WindowEnd(range_.end);
  return true;
}

Result<MatrixSteps> Evaluator::EvalMatrix(const Expr& e) {
  if (e.kind == ExprKind::kSubquery) return EvalSubquery(e.As<Subquery>());
  if (e.kind == ExprKind::kParen) return EvalMatrix(*e.As<Paren>().expr);
  if (e.kind != ExprKind::kMatrixSelector) return Status::Internal("expected a range vector");
  const auto& ms = e.As<MatrixSelector>();
  const auto& vs = ms.vector_selector->As<VectorSelector>();
  MatrixSteps out;
  VIGIL_ASSIGN_OR_RETURN(out.range_ms, ResolveDuration(ms.range_ms, ms.range_expr));
  out.offset_ms = Offset(vs.mods);
  out.at_ms = AtTime(vs.mods);
  if (range_.n == 0) return out;
  const int64_t first_end = out.WindowEnd(range_.start);
  const int64_t last_end = out.WindowEnd(range_.end);
  VIGIL_ASSIGN_OR_RETURN(out.series,
                         Load(vs, first_end - out.range_ms + 1, last_end, /*keep_stale=*/false));
  return out;
}

Result<MatrixSteps> Evaluator::EvalSubquery(const Subquery& sq) {
  MatrixSteps out;
  VIGIL_ASSIGN_OR_RETURN(out.range_ms, ResolveDuration(sq.range_ms, sq.range_expr));
  VIGIL_ASSIGN_OR_RETURN(int64_t step, ResolveDuration(sq.step_ms, sq.step_expr));
  if (step <= 0) step = st_->options->default_subquery_step_ms;
  out.offset_ms = Offset(sq.mods);
  out.at_ms = AtTime(sq.mods);
  if (range_.n == 0) return out;
  const int64_t first_end = out.WindowEnd(range_.start);
  const int64_t last_end = out.WindowEnd(range_.end);
  const int64_t lo = first_end - out.range_ms;
  // The first absolute multiple of the step after lo, so that every evaluation of the outer
  // query sees the same inner timestamps (step invariance).
  int64_t start = FloorDiv(lo, step) * step;
  if (start <= lo) start += step;
  Evaluator inner(st_, StepRange::Make(start, last_end, step));
  VIGIL_ASSIGN_OR_RETURN(VectorSteps v, inner.EvalVector(*sq.expr));
  const StepRange& r = inner.range();
  out.series.reserve(v.series.size());
  for (StepSeries& s : v.series) {
    RawSeries rs;
    rs.labels = std::move(s.labels);
    rs.drop_name = s.drop_name;
    for (size_t i = 0; i < r.n; ++i) {
      if (!s.ok[i]) continue;
      rs.ts.push_back(r.T(i));
      rs.vs.push_back(s.v[i]);
    }
    if (!rs.ts.empty()) out.series.push_back(std::move(rs));
  }
  return out;
}

}  // namespace vigil::query::eval
