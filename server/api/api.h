#pragma once

// The Prometheus HTTP API (as Grafana's Prometheus datasource calls it), the admin API and the
// health endpoints, registered on a Router. Handlers run on the HTTP server's worker threads.
// Endpoints and their exact behaviour: server/README.md.
//
//   Api api(db, options, &metrics);
//   api.Register(&router);
//
// Thread safety: handlers may run concurrently; the Api keeps no per-request state.

#include <chrono>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "query/engine.h"
#include "server/api/range_cache.h"
#include "server/http/router.h"
#include "storage/db.h"

namespace vigil::server {
namespace ingest {
class MetadataStore;
}  // namespace ingest

class ServerMetrics;

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string compiler;  // reported as goVersion, the field Prometheus clients expect
};

struct ApiOptions {
  // Timeout and sample limit of every query; a query's `timeout` parameter can only shorten it.
  query::EngineOptions engine;
  // Prometheus' limit on points per series of a range query ((end - start) / step).
  int64_t max_points_per_series = 11000;
  // Data directory, for snapshots (<data>/snapshots/<name>).
  std::string data_dir;
  // Range query result cache (server/api/range_cache.h): bytes (0 disables it) and the age from
  // which a step is cached (must be >= the Db's DbOptions::late_write_ms). `nocache=1` on a
  // request bypasses it.
  size_t range_cache_bytes = 64u << 20;
  int64_t range_cache_min_age_ms = 5 * 60 * 1000;
  BuildInfo build;
  // Not owned; what /api/v1/metadata answers from. nullptr: an empty answer.
  const ingest::MetadataStore* metadata = nullptr;
};

class Api {
 public:
  // db and metrics are not owned and must outlive the Api (metrics may be null).
  Api(storage::Db* db, ApiOptions options, ServerMetrics* metrics);

  // Registers every read, admin and health route.
  void Register(Router* router);

  // /-/ready answers 200 only while ready (set once the server accepts requests, cleared when it
  // starts shutting down).
  void SetReady(bool ready) { ready_.store(ready); }

  storage::Db* db() const { return db_; }
  const ApiOptions& options() const { return options_; }
  ServerMetrics* metrics() const { return metrics_; }
  // Null when the cache is off.
  const RangeCache* range_cache() const { return range_cache_.get(); }

 private:
  // For a cacheable `expr`: sets *body_key to `key` (for RangeCache::KeepBody once answered) and
  // sends the rendered answer the query cache keeps under it, if any (true).
  bool SendKeptAnswer(const query::Expr& expr, std::string key, uint64_t generation, const char* kind,
                      std::chrono::steady_clock::time_point started, HttpResponse* resp,
                      std::string* body_key);
  void Query(HttpRequest& req, HttpResponse* resp);
  // POST /api/v1/admin/tsdb/compact: the whole head written as blocks, then every compaction
  // the blocks allow, without waiting for their ranges to end (Db::Compact()).
  void CompactNow(HttpRequest& req, HttpResponse* resp);
  // Instant and range queries. probe: only answer what needs no evaluation (bad parameters, an
  // answer kept by the query cache), returning false when the query must run (router.h Probe).
  bool InstantQuery(HttpRequest& req, HttpResponse* resp, bool probe);
  bool RangeQuery(HttpRequest& req, HttpResponse* resp, bool probe);
  void QueryRange(HttpRequest& req, HttpResponse* resp);
  void FormatQuery(HttpRequest& req, HttpResponse* resp);
  void ParseQuery(HttpRequest& req, HttpResponse* resp);
  void Series(HttpRequest& req, HttpResponse* resp);
  void LabelNames(HttpRequest& req, HttpResponse* resp);
  void LabelValues(HttpRequest& req, HttpResponse* resp);
  void Metadata(HttpRequest& req, HttpResponse* resp);
  void BuildInfoHandler(HttpRequest& req, HttpResponse* resp);
  void TsdbStatus(HttpRequest& req, HttpResponse* resp);
  void DeleteSeries(HttpRequest& req, HttpResponse* resp);
  void CleanTombstones(HttpRequest& req, HttpResponse* resp);
  void Snapshot(HttpRequest& req, HttpResponse* resp);

  storage::Db* db_;
  ApiOptions options_;
  ServerMetrics* metrics_;
  query::DbQueryable queryable_;
  std::shared_ptr<RangeCache> range_cache_;  // shared with the /metrics collector
  std::atomic<bool> ready_{false};
};

}  // namespace vigil::server
