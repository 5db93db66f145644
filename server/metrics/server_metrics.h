#pragma once

// The metrics vigild exports at /metrics (names, types and meaning: server/README.md#metrics).
// Owns the registry; storage statistics are read from Db::Stats() at scrape time.
//
// Thread safety: all methods may be called from any thread.

#include <string>
#include <string_view>

#include "server/metrics/registry.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::server {
namespace ingest {
class MetadataPersister;
class MetadataStore;
class SeriesRefCache;
}  // namespace ingest

class ServerMetrics {
 public:
  // db may be null (then no storage metrics). Ingest counters are the process-wide ones of
  // server/ingest.
  explicit ServerMetrics(storage::Db* db);

  Registry& registry() { return registry_; }

  void ObserveHttp(const std::string& handler, int code, double seconds);
  // type: "instant" or "range"; outcome: "success" or an API errorType.
  void ObserveQuery(std::string_view type, std::string_view outcome, double seconds);

  // Exports the cache's counters (vigil_ingest_series_cache_*). `cache` is not owned and must
  // outlive this object. Call once, before serving.
  void WatchSeriesCache(const ingest::SeriesRefCache* cache);
  // Exports the metric metadata store and its file (vigil_metadata_*). Not owned; both must
  // outlive this object. Call once, before serving.
  void WatchMetadata(const ingest::MetadataStore* store, const ingest::MetadataPersister* persister);

  std::string Render() const { return registry_.Render(); }

 private:
  Registry registry_;
  Family<Counter>* http_requests_;
  Family<Histogram>* http_duration_;
  Family<Histogram>* query_duration_;
  Family<Counter>* queries_;
};

}  // namespace vigil::server
