#include "server/api/api.h"

#include "server/api/envelope.h"
#include "server/metrics/server_metrics.h"
#include "storage/base/clock.h"

namespace vigil::server {

Api::Api(storage::Db* db, ApiOptions options, ServerMetrics* metrics)
    : db_(db), options_(std::move(options)), metrics_(metrics), queryable_(db) {
  if (options_.range_cache_bytes > 0) {
    range_cache_ = std::make_shared<RangeCache>(
        RangeCache::Options{options_.range_cache_bytes, options_.range_cache_min_age_ms},
        SystemClock());
    if (metrics_ != nullptr) {
      metrics_->registry().AddCollector([cache = range_cache_](MetricsWriter* w) {
        const RangeCache::Stats s = cache->stats();
        w->Single("vigil_query_cache_hits_total", "counter",
            "Range queries that reused cached steps, and instant queries answered from the cache.", static_cast<double>(s.hits));
        w->Single("vigil_query_cache_misses_total", "counter",
            "Cacheable queries computed in full.", static_cast<double>(s.misses));
        w->Single("vigil_query_cache_uncacheable_total", "counter",
            "Queries the cache cannot answer (@, negative offset, duration expressions; instant queries at times newer than the minimum age).",
            static_cast<double>(s.uncacheable));
        w->Single("vigil_query_cache_steps_reused_total", "counter",
            "Steps answered from the cache.", static_cast<double>(s.steps_reused));
        w->Single("vigil_query_cache_bytes", "gauge", "Memory held by the query cache.",
            static_cast<double>(s.bytes));
        w->Single("vigil_query_cache_entries", "gauge", "Entries in the query cache.",
            static_cast<double>(s.entries));
      });
    }
  }
}

void Api::Register(Router* router) {
  auto bind = [this](void (Api::*f)(HttpRequest&, HttpResponse*)) -> Handler {
    return [this, f](HttpRequest& req, HttpResponse* resp) { (this->*f)(req, resp); };
  };
  // Grafana sends GET or a form-encoded POST to the query and metadata endpoints.
  for (const char* method : {"GET", "POST"}) {
    router->Register(method, "/api/v1/query", bind(&Api::Query));
    router->Register(method, "/api/v1/query_range", bind(&Api::QueryRange));
    router->Register(method, "/api/v1/format_query", bind(&Api::FormatQuery));
    router->Register(method, "/api/v1/parse_query", bind(&Api::ParseQuery));
    router->Register(method, "/api/v1/series", bind(&Api::Series));
    router->Register(method, "/api/v1/labels", bind(&Api::LabelNames));
    router->Register(method, "/api/v1/query_exemplars", [](HttpRequest&, HttpResponse* resp) {
      RespondSuccess(resp, "[]");
    });
  }
  router->Register("GET", "/api/v1/label/<name>/values", bind(&Api::LabelValues));
  router->Register("GET", "/api/v1/metadata", bind(&Api::Metadata));
  router->Register("GET", "/api/v1/status/buildinfo", bind(&Api::BuildInfoHandler));
  router->Register("GET", "/api/v1/status/tsdb", bind(&Api::TsdbStatus));
  // Recording and alerting rules do not exist in Vigil; continuous queries replace these
  // routes when they are enabled.
  router->Register("GET", "/api/v1/rules", [](HttpRequest&, HttpResponse* resp) {
    RespondSuccess(resp, R"({"groups":[]})");
  });
  router->Register("GET", "/api/v1/alerts", [](HttpRequest&, HttpResponse* resp) {
    RespondSuccess(resp, R"({"alerts":[]})");
  });

  // Prometheus serves the admin API under POST and PUT.
  for (const char* method : {"POST", "PUT"}) {
    router->Register(method, "/api/v1/admin/tsdb/delete_series", bind(&Api::DeleteSeries),
                     Scope::kAdmin);
    router->Register(method, "/api/v1/admin/tsdb/clean_tombstones", bind(&Api::CleanTombstones),
                     Scope::kAdmin);
    router->Register(method, "/api/v1/admin/tsdb/snapshot", bind(&Api::Snapshot), Scope::kAdmin);
    router->Register(method, "/api/v1/admin/tsdb/compact", bind(&Api::CompactNow), Scope::kAdmin);
  }

  router->Register("GET", "/-/healthy", [](HttpRequest&, HttpResponse* resp) {
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = "Vigil is Healthy.\n";
  });
  router->Register("GET", "/-/ready", [this](HttpRequest&, HttpResponse* resp) {
    resp->content_type = "text/plain; charset=utf-8";
    if (ready_.load()) {
      resp->body = "Vigil is Ready.\n";
    } else {
      resp->status = 503;
      resp->body = "Service Unavailable\n";
    }
  });
  router->Register("GET", "/metrics", [this](HttpRequest&, HttpResponse* resp) {
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = metrics_ != nullptr ? metrics_->Render() : std::string();
  });

  // Probes answer on the I/O thread what needs no work: query answers the cache holds (and bad
  // parameters), fixed answers.
  for (const char* method : {"GET", "POST"}) {
    router->SetProbe(method, "/api/v1/query",
                     [this](HttpRequest& req, HttpResponse* resp) { return InstantQuery(req, resp, true); });
    router->SetProbe(method, "/api/v1/query_range",
                     [this](HttpRequest& req, HttpResponse* resp) { return RangeQuery(req, resp, true); });
  }
  for (const char* path : {"/-/healthy", "/-/ready", "/api/v1/status/buildinfo", "/api/v1/rules",
                           "/api/v1/alerts"}) {
    for (const Router::Route& r : router->routes()) {
      if (r.method != "GET" || r.pattern != path) continue;
      router->SetProbe("GET", path, [h = r.handler](HttpRequest& req, HttpResponse* resp) {
        h(req, resp);
        return true;
      });
      break;
    }
  }
}

}  // namespace vigil::server
