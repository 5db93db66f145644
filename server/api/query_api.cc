// /api/v1/query, /api/v1/query_range, /api/v1/format_query, /api/v1/parse_query.

#include <chrono>

#include "query/ast.h"
#include "query/parser.h"
#include "server/api/api.h"
#include "server/api/ast_json.h"
#include "server/api/envelope.h"
#include "server/api/params.h"
#include "server/metrics/server_metrics.h"

namespace vigil::server {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Annotations ToAnnotations(const query::QueryResult& r) {
  Annotations notes;
  for (const auto& a : r.annotations) {
    (a.kind == query::AnnotationKind::kWarning ? notes.warnings : notes.infos).push_back(a.message);
  }
  return notes;
}

// Options of this query: the engine's, with a shorter timeout and another lookback when the
// request asks for them.
Result<query::EngineOptions> QueryOptions(const HttpRequest& req, const query::EngineOptions& base) {
  query::EngineOptions o = base;
  if (auto to = req.Param("timeout"); to && !to->empty()) {
    auto ms = ParseApiDuration(*to);
    if (!ms.ok()) {
      return Status::InvalidArgument("invalid parameter \"timeout\": " + ms.status().message());
    }
    if (*ms <= 0) {
      return Status::InvalidArgument("invalid parameter \"timeout\": timeout must be positive");
    }
    if (o.timeout_ms == 0 || *ms < o.timeout_ms) o.timeout_ms = *ms;
  }
  if (auto lb = req.Param("lookback_delta"); lb && !lb->empty()) {
    auto ms = ParseApiDuration(*lb);
    if (!ms.ok()) {
      return Status::InvalidArgument("invalid parameter \"lookback_delta\": " +
                                     ms.status().message());
    }
    if (*ms > 0) o.lookback_delta_ms = *ms;
  }
  return o;
}

// Parses the query text to tell a client error (bad_data) from an evaluation error (execution),
// which the engine reports with the same status code.
Result<query::ExprPtr> ParseQueryText(std::string_view text, const query::EngineOptions& o,
                                      bool range) {
  auto expr = query::ParseExpr(text, o.parse_options);
  if (!expr.ok()) return Status::InvalidArgument("invalid parameter \"query\": " + expr.status().message());
  if (range && (*expr)->type != query::ValueType::kScalar &&
      (*expr)->type != query::ValueType::kVector) {
    return Status::InvalidArgument(
        "invalid parameter \"query\": invalid expression type \"" +
        std::string(query::DocumentedType((*expr)->type)) +
        "\" for range query, must be Scalar or instant Vector");
  }
  return std::move(*expr);
}

// Probes run on an I/O thread, where parsing a query of megabytes (POST bodies may be that large)
// would hold up every other connection of that thread; such queries go to a worker.
constexpr size_t kMaxProbedQueryBytes = 16 << 10;

}  // namespace

bool Api::SendKeptAnswer(const query::Expr& expr, std::string key, uint64_t generation,
                         const char* kind, std::chrono::steady_clock::time_point started,
                         HttpResponse* resp, std::string* body_key) {
  if (!RangeCache::Cacheable(expr)) return false;
  *body_key = std::move(key);
  std::shared_ptr<const std::string> body = range_cache_->FindBody(*body_key, generation);
  if (body == nullptr) return false;
  resp->status = 200;
  resp->content_type = "application/json";
  resp->body = *body;
  if (metrics_ != nullptr) {
    metrics_->ObserveQuery(kind, "success",
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return true;
}

void Api::Query(HttpRequest& req, HttpResponse* resp) { InstantQuery(req, resp, false); }
void Api::QueryRange(HttpRequest& req, HttpResponse* resp) { RangeQuery(req, resp, false); }

bool Api::InstantQuery(HttpRequest& req, HttpResponse* resp, bool probe) {
  auto t = TimeParam(req, "time", NowMs());
  if (!t.ok()) return RespondApiError(resp, ApiErrorType::kBadData, t.status().message()), true;
  auto opts = QueryOptions(req, options_.engine);
  if (!opts.ok()) return RespondApiError(resp, ApiErrorType::kBadData, opts.status().message()), true;
  std::string text(req.Param("query").value_or(""));
  if (probe && text.size() > kMaxProbedQueryBytes) return false;  // parsed on a worker instead
  auto parsed = ParseQueryText(text, *opts, false);
  if (!parsed.ok()) return RespondApiError(resp, ApiErrorType::kBadData, parsed.status().message()), true;
  const bool use_cache = range_cache_ != nullptr && req.Param("nocache").value_or("") != "1";
  if (probe && (!use_cache || !RangeCache::Cacheable(**parsed))) return false;
  auto started = std::chrono::steady_clock::now();
  // The generation is read before the query runs, as for range queries.
  const uint64_t generation = use_cache ? db_->LateWriteGeneration() : 0;
  std::string body_key;
  if (use_cache && SendKeptAnswer(**parsed, RangeCache::RequestKey("query", text, *t, *t, 0, opts->lookback_delta_ms),
                                  generation, "instant", started, resp, &body_key)) {
    return true;
  }
  if (probe) return false;
  query::Engine engine(*opts);
  query::QueryContext ctx;
  const auto run = [&] {
    ScopedCancelLink link(req.client_gone.get(), &ctx.cancelled);
    return engine.InstantQuery(queryable_, text, *t, &ctx);
  };
  Result<query::QueryResult> r =
      use_cache ? range_cache_->Instant(text, **parsed, *t, opts->lookback_delta_ms, generation, run)
                : run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!r.ok()) {
    ApiErrorType type = ClassifyQueryError(r.status());
    if (metrics_ != nullptr) metrics_->ObserveQuery("instant", ApiErrorTypeName(type), secs);
    return RespondApiError(resp, type, r.status().message()), true;
  }
  if (metrics_ != nullptr) metrics_->ObserveQuery("instant", "success", secs);
  RespondQueryResult(resp, *r, ToAnnotations(*r));
  if (!body_key.empty()) {
    range_cache_->KeepBody(std::move(body_key), generation, *t,
                           std::make_shared<const std::string>(resp->body));
  }
  return true;
}

bool Api::RangeQuery(HttpRequest& req, HttpResponse* resp, bool probe) {
  auto bad = [resp](const Status& st) {
    RespondApiError(resp, ApiErrorType::kBadData, st.message());
    return true;
  };
  auto start_v = req.Param("start").value_or("");
  auto start = ParseApiTime(start_v);
  if (!start.ok()) return bad(Status::InvalidArgument("invalid parameter \"start\": " + start.status().message()));
  auto end = ParseApiTime(req.Param("end").value_or(""));
  if (!end.ok()) return bad(Status::InvalidArgument("invalid parameter \"end\": " + end.status().message()));
  if (*end < *start) return bad(Status::InvalidArgument("end timestamp must not be before start time"));
  auto step = ParseApiDuration(req.Param("step").value_or(""));
  if (!step.ok()) return bad(Status::InvalidArgument("invalid parameter \"step\": " + step.status().message()));
  if (*step <= 0) {
    return bad(Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted. Try a positive integer"));
  }
  // Prometheus' guard against absurdly dense graphs.
  if ((*end - *start) / *step > options_.max_points_per_series) {
    return bad(Status::InvalidArgument(
        "exceeded maximum resolution of " + std::to_string(options_.max_points_per_series) +
        " points per timeseries. Try decreasing the query resolution (?step=XX)"));
  }
  auto opts = QueryOptions(req, options_.engine);
  if (!opts.ok()) return bad(opts.status());
  std::string text(req.Param("query").value_or(""));
  if (probe && text.size() > kMaxProbedQueryBytes) return false;  // parsed on a worker instead
  auto parsed = ParseQueryText(text, *opts, true);
  if (!parsed.ok()) return bad(parsed.status());
  const bool use_cache = range_cache_ != nullptr && req.Param("nocache").value_or("") != "1";
  if (probe && (!use_cache || !RangeCache::Cacheable(**parsed))) return false;
  auto started = std::chrono::steady_clock::now();
  // Read before the query runs: a late write during it makes what it computes uncacheable.
  const uint64_t generation = use_cache ? db_->LateWriteGeneration() : 0;
  std::string body_key;
  if (use_cache && SendKeptAnswer(**parsed, RangeCache::RequestKey("query_range", text, *start, *end, *step,
                                                                   opts->lookback_delta_ms),
                                  generation, "range", started, resp, &body_key)) {
    return true;
  }
  if (probe) return false;
  query::Engine engine(*opts);
  query::QueryContext ctx;
  const auto run = [&](int64_t s, int64_t e) {
    ScopedCancelLink link(req.client_gone.get(), &ctx.cancelled);
    return engine.RangeQuery(queryable_, text, s, e, *step, &ctx);
  };
  Result<query::QueryResult> r =
      use_cache ? range_cache_->Query(text, **parsed, *start, *end, *step, opts->lookback_delta_ms,
                                      generation, run)
                : run(*start, *end);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!r.ok()) {
    ApiErrorType type = ClassifyQueryError(r.status());
    if (metrics_ != nullptr) metrics_->ObserveQuery("range", ApiErrorTypeName(type), secs);
    return RespondApiError(resp, type, r.status().message()), true;
  }
  if (metrics_ != nullptr) metrics_->ObserveQuery("range", "success", secs);
  RespondQueryResult(resp, *r, ToAnnotations(*r));
  if (!body_key.empty()) {
    // The newest step of the grid: start + k*step <= end.
    const int64_t newest = *start + (*end - *start) / *step * *step;
    range_cache_->KeepBody(std::move(body_key), generation, newest,
                           std::make_shared<const std::string>(resp->body));
  }
  return true;
}

void Api::FormatQuery(HttpRequest& req, HttpResponse* resp) {
  auto expr = query::ParseExpr(req.Param("query").value_or(""), options_.engine.parse_options);
  if (!expr.ok()) {
    return RespondApiError(resp, ApiErrorType::kBadData,
                           "invalid parameter \"query\": " + expr.status().message());
  }
  std::string data;
  JsonWriter(&data).String(query::Format(**expr));
  RespondSuccess(resp, data);
}

void Api::ParseQuery(HttpRequest& req, HttpResponse* resp) {
  auto expr = query::ParseExpr(req.Param("query").value_or(""), options_.engine.parse_options);
  if (!expr.ok()) {
    return RespondApiError(resp, ApiErrorType::kBadData,
                           "invalid parameter \"query\": " + expr.status().message());
  }
  std::string data;
  JsonWriter w(&data);
  WriteAstJson(&w, **expr);
  RespondSuccess(resp, data);
}

}  // namespace vigil::server
