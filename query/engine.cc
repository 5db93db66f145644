#include "query/engine.h"

#include <algorithm>
#include <limits>

#include "query/eval/evaluator.h"
#include "query/eval/functions.h"
#include "query/eval/parallel.h"
#include "storage/db.h"

namespace vigil::query {

Result<std::unique_ptr<storage::Querier>> DbQueryable::Querier(int64_t min_t, int64_t max_t) {
  return db_->NewQuerier(min_t, max_t);
}

namespace {

using eval::Evaluator;

// Widens [*mn, *mx] by the samples e reads when evaluated over [start, end].
void Bounds(const Expr& e, int64_t start, int64_t end, Evaluator& ev, int64_t* mn, int64_t* mx) {
  auto selector = [&](const VectorSelector& vs, int64_t back) {
    const int64_t off = ev.Offset(vs.mods);
    const std::optional<int64_t> at = ev.AtTime(vs.mods);
    *mn = std::min(*mn, (at ? *at : start) - off - back);
    *mx = std::max(*mx, (at ? *at : end) - off);
  };
  switch (e.kind) {
    case ExprKind::kVectorSelector:
      selector(e.As<VectorSelector>(), ev.state().options->lookback_delta_ms);
      return;
    case ExprKind::kMatrixSelector: {
      const auto& ms = e.As<MatrixSelector>();
      auto r = ev.ResolveDuration(ms.range_ms, ms.range_expr);
      selector(ms.vector_selector->As<VectorSelector>(), r.ok() ? *r : ms.range_ms);
      return;
    }
    case ExprKind::kSubquery: {
      const auto& sq = e.As<Subquery>();
      auto r = ev.ResolveDuration(sq.range_ms, sq.range_expr);
      const int64_t range = r.ok() ? *r : sq.range_ms;
      const int64_t off = ev.Offset(sq.mods);
      const std::optional<int64_t> at = ev.AtTime(sq.mods);
      Bounds(*sq.expr, (at ? *at : start) - off - range, (at ? *at : end) - off, ev, mn, mx);
      return;
    }
    case ExprKind::kParen:
      Bounds(*e.As<Paren>().expr, start, end, ev, mn, mx);
      return;
    case ExprKind::kUnary:
      Bounds(*e.As<Unary>().expr, start, end, ev, mn, mx);
      return;
    case ExprKind::kBinary:
      Bounds(*e.As<Binary>().lhs, start, end, ev, mn, mx);
      Bounds(*e.As<Binary>().rhs, start, end, ev, mn, mx);
      return;
    case ExprKind::kAggregate:
      if (e.As<Aggregate>().param) Bounds(*e.As<Aggregate>().param, start, end, ev, mn, mx);
      Bounds(*e.As<Aggregate>().expr, start, end, ev, mn, mx);
      return;
    case ExprKind::kCall:
      for (const ExprPtr& a : e.As<Call>().args) Bounds(*a, start, end, ev, mn, mx);
      return;
    default:
      return;
  }
}

storage::Labels FinalLabels(const eval::StepSeries& s) {
  return s.drop_name ? eval::DropMetricName(s.labels) : s.labels;
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(std::move(options)) {
  if (eval::ParallelismFor(options_.parallelism) > 1) eval::StartParallelPool();
}

Result<QueryResult> Engine::InstantQuery(Queryable& storage, std::string_view expr, int64_t t_ms,
                                         QueryContext* ctx) const {
  return Run(storage, expr, t_ms, t_ms, 0, true, ctx);
}

Result<QueryResult> Engine::RangeQuery(Queryable& storage, std::string_view expr, int64_t start_ms,
                                       int64_t end_ms, int64_t step_ms, QueryContext* ctx) const {
  if (step_ms <= 0) {
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted");
  }
  if (end_ms < start_ms)
    return Status::InvalidArgument("end timestamp must not be before start time");
  return Run(storage, expr, start_ms, end_ms, step_ms, false, ctx);
}

Result<QueryResult> Engine::Run(Queryable& storage, std::string_view expr, int64_t start_ms,
                                int64_t end_ms, int64_t step_ms, bool instant,
                                QueryContext* ctx) const {
  VIGIL_ASSIGN_OR_RETURN(ExprPtr tree, ParseExpr(expr, options_.parse_options));
  if (!instant && tree->type != ValueType::kScalar && tree->type != ValueType::kVector) {
    return Status::InvalidArgument("invalid expression type \"" +
                                   std::string(DocumentedType(tree->type)) +
                                   "\" for range query, must be Scalar or instant Vector");
  }
  eval::QueryState st;
  st.options = &options_;
  st.ctx = ctx;
  st.text = expr;
  st.query_start = start_ms;
  st.query_end = end_ms;
  st.query_step = step_ms;
  if (options_.timeout_ms > 0) {
    st.has_deadline = true;
    st.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  }
  const eval::StepRange range = eval::StepRange::Make(start_ms, end_ms, instant ? 1 : step_ms);
  Evaluator ev(&st, range);

  int64_t mn = std::numeric_limits<int64_t>::max(), mx = std::numeric_limits<int64_t>::min();
  Bounds(*tree, start_ms, end_ms, ev, &mn, &mx);
  std::unique_ptr<storage::Querier> querier;
  if (mn <= mx) {
    VIGIL_ASSIGN_OR_RETURN(querier, storage.Querier(mn, mx));
    st.querier = querier.get();
  }

  VIGIL_ASSIGN_OR_RETURN(eval::Value v, ev.Eval(*tree));
  QueryResult result;
  if (auto* s = std::get_if<eval::ScalarSteps>(&v)) {
    if (instant) {
      result.value = ScalarValue{{start_ms, s->v[0]}};
    } else {
      Series series;
      for (size_t i = 0; i < range.n; ++i) series.points.push_back({range.T(i), s->v[i]});
      result.value = MatrixValue{std::move(series)};
    }
  } else if (auto* str = std::get_if<eval::StringVal>(&v)) {
    result.value = StringValue{start_ms, std::move(str->s)};
  } else if (auto* m = std::get_if<eval::MatrixSteps>(&v)) {
    MatrixValue out;
    const int64_t wend = m->WindowEnd(start_ms), wstart = wend - m->range_ms;
    for (eval::RawSeries& rs : m->series) {
      Series series;
      series.labels = rs.drop_name ? eval::DropMetricName(rs.labels) : std::move(rs.labels);
      for (size_t i = 0; i < rs.ts.size(); ++i) {
        if (rs.ts[i] > wstart && rs.ts[i] <= wend) series.points.push_back({rs.ts[i], rs.vs[i]});
      }
      if (!series.points.empty()) out.push_back(std::move(series));
    }
    result.value = std::move(out);
  } else {
    auto& vec = std::get<eval::VectorSteps>(v);
    for (eval::StepSeries& s : vec.series) {
      s.labels = FinalLabels(s);
      s.drop_name = false;
    }
    VIGIL_ASSIGN_OR_RETURN(vec, eval::MergeSameLabels(std::move(vec), range.n));
    if (instant) {
      VectorValue out;
      for (eval::StepSeries& s : vec.series) {
        if (s.ok[0]) out.push_back({std::move(s.labels), {start_ms, s.v[0]}});
      }
      result.value = std::move(out);
    } else {
      MatrixValue out;
      for (eval::StepSeries& s : vec.series) {
        Series series;
        series.labels = std::move(s.labels);
        for (size_t i = 0; i < range.n; ++i) {
          if (s.ok[i]) series.points.push_back({range.T(i), s.v[i]});
        }
        if (!series.points.empty()) out.push_back(std::move(series));
      }
      std::sort(out.begin(), out.end(),
                [](const Series& a, const Series& b) { return a.labels < b.labels; });
      result.value = std::move(out);
    }
  }
  result.annotations = std::move(st.annotations);
  result.samples_loaded = st.samples_loaded;
  return result;
}

}  // namespace vigil::query
