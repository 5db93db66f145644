#include "server/vigild.h"

#include <algorithm>
#include <cstdint>

#include "server/api/write_api.h"
#include "server/auth/auth.h"
#include "server/http/http_server.h"
#include "server/ingest/series_cache.h"
#include "server/metrics/server_metrics.h"
#include "server/native/native_server.h"
#include "storage/base/file_system.h"
#include "storage/base/logging.h"
#include "storage/block/piece_cache.h"
#include "storage/file_names.h"

namespace vigil::server {

Result<std::unique_ptr<Vigild>> Vigild::Start(const VigildConfig& config, const BuildInfo& build,
                                              std::vector<Extension> extensions) {
  std::unique_ptr<Vigild> v(new Vigild());
  v->config_ = config;
  v->extensions_ = std::move(extensions);

  HttpServerOptions http;
  VIGIL_RETURN_IF_ERROR(SplitHostPort(config.http_listen, &http.address, &http.port));

  if (!config.auth_token_file.empty()) {
    VIGIL_ASSIGN_OR_RETURN(Authenticator auth, Authenticator::Load(config.auth_token_file));
    v->auth_ = std::make_unique<Authenticator>(std::move(auth));
  }

  storage::DbOptions dbo;
  dbo.wal_sync = config.wal_sync;
  dbo.wal_sync_interval_ms = config.wal_sync_interval_ms;
  dbo.out_of_order_window_ms = config.out_of_order_window_ms;
  dbo.retention_ms = config.retention_time_ms;
  dbo.retention_bytes = config.retention_size_bytes;
  dbo.late_write_ms = config.query_cache_min_age_ms;  // the range cache's invalidation threshold
  storage::block::SharedPieceCache::Instance().SetCapacity(config.storage_piece_cache_bytes);
  VIGIL_ASSIGN_OR_RETURN(v->db_, storage::Db::Open(dbo, config.data_dir));
  storage::DbStats stats = v->db_->Stats();
  VIGIL_LOG(INFO) << "opened " << config.data_dir << ": " << stats.head_series << " series, "
                  << stats.wal_replayed_samples << " samples replayed from the WAL";

  v->metrics_ = std::make_unique<ServerMetrics>(v->db_.get());
  v->metrics_->registry().AddCollector([](MetricsWriter* w) {
    const auto s = storage::block::SharedPieceCache::Instance().stats();
    w->Single("vigil_storage_piece_cache_hits_total", "counter",
              "Block pieces found decompressed in the shared piece cache.", static_cast<double>(s.hits));
    w->Single("vigil_storage_piece_cache_misses_total", "counter",
              "Block pieces looked up in the shared piece cache and not found.", static_cast<double>(s.misses));
    w->Single("vigil_storage_piece_cache_bytes", "gauge",
              "Memory held by the shared piece cache.", static_cast<double>(s.bytes));
  });

  // Metric metadata from remote write, kept in <data>/metadata (saved at most every 5 s).
  v->metadata_ = std::make_unique<ingest::MetadataStore>();
  v->metadata_persister_ = std::make_unique<ingest::MetadataPersister>(
      DefaultFileSystem(), JoinPath(config.data_dir, storage::kMetricMetadataFileName),
      v->metadata_.get(), 5000);
  if (Status st = v->metadata_persister_->Load(); !st.ok()) {
    VIGIL_LOG(WARN) << st.ToString() << "; starting without metric metadata (senders resend it)";
  }
  v->metadata_persister_->Start();
  v->metrics_->WatchMetadata(v->metadata_.get(), v->metadata_persister_.get());

  ApiOptions api;
  api.engine.timeout_ms = config.query_timeout_ms;
  api.engine.max_samples = config.query_max_samples;
  api.engine.lookback_delta_ms = config.query_lookback_delta_ms;
  api.engine.parallelism = config.query_parallelism;
  api.max_points_per_series = config.query_max_points_per_series;
  api.data_dir = config.data_dir;
  api.range_cache_bytes = config.query_cache_bytes;
  api.range_cache_min_age_ms = config.query_cache_min_age_ms;
  api.build = build;
  api.metadata = v->metadata_.get();
  v->api_ = std::make_unique<Api>(v->db_.get(), api, v->metrics_.get());
  v->router_ = std::make_unique<Router>();
  v->api_->Register(v->router_.get());

  v->limiter_ = std::make_unique<ingest::IngestLimiter>(config.write_max_inflight_bytes);
  ingest::IngestOptions ingest_options;
  ingest_options.limiter = v->limiter_.get();
  ingest_options.metadata = v->metadata_.get();
  if (config.write_series_cache_entries > 0) {
    // Series written once (backfills, short-lived pods, more series than entries) are not kept:
    // a key goes in at its second write (series_cache.h).
    v->series_cache_ = std::make_unique<ingest::SeriesRefCache>(
        config.write_series_cache_entries, ~uint64_t{0},
        ingest::SeriesRefCache::Admission::kSecondPut);
    ingest_options.series_cache = v->series_cache_.get();
    v->metrics_->WatchSeriesCache(v->series_cache_.get());
  }
  ingest_options.max_decoded_bytes = config.max_body_bytes;
  v->write_api_ = std::make_unique<WriteApi>(v->db_.get(), ingest_options);
  v->write_api_->Register(v->router_.get());

  ServerContext ctx{&v->config_, v->db_.get(), v->router_.get(), v->metrics_.get(),
                    &v->api_->options()};
  for (Extension& e : v->extensions_) {
    Status st = e.start(ctx);
    if (!st.ok()) return st.WithContext("starting " + e.name);
  }

  http.io_threads = config.http_io_threads;
  http.worker_threads = config.http_worker_threads;
  http.max_body_bytes = config.max_body_bytes;
  http.read_timeout_ms = config.http_read_timeout_ms;
  http.idle_timeout_ms = config.http_idle_timeout_ms;
  http.write_timeout_ms = config.http_write_timeout_ms;
  http.shutdown_grace_ms = config.shutdown_grace_ms;
  http.tls_cert_file = config.tls_cert_file;
  http.tls_key_file = config.tls_key_file;
  http.auth = v->auth_.get();
  ServerMetrics* m = v->metrics_.get();
  http.on_request = [m](const std::string& handler, int code, double secs) {
    m->ObserveHttp(handler, code, secs);
  };
  v->http_ = std::make_unique<HttpServer>(http, v->router_.get());
  VIGIL_RETURN_IF_ERROR(v->http_->Start());
  VIGIL_LOG(INFO) << "serving HTTP" << (v->http_->tls() ? "S" : "") << " on " << http.address
                  << ":" << v->http_->port() << (v->auth_ ? " (bearer tokens required)" : "");

  if (!config.native_listen.empty()) {
    std::string host;
    uint16_t port = 0;
    VIGIL_RETURN_IF_ERROR(SplitHostPort(config.native_listen, &host, &port));
    native::NativeServerOptions no;
    no.threads = config.native_threads;
    no.max_frame_bytes = static_cast<uint32_t>(std::min<uint64_t>(config.max_body_bytes, UINT32_MAX));
    no.ingest = ingest_options;
    // The token file's write scope guards the native protocol as it guards the HTTP writes.
    no.auth = v->auth_.get();
    if (config.native_tls) {
      no.tls_cert_file = config.tls_cert_file;
      no.tls_key_file = config.tls_key_file;
    }
    v->native_ = std::make_unique<native::NativeServer>(v->db_.get(), no);
    VIGIL_RETURN_IF_ERROR(v->native_->Start(host, port));
    VIGIL_LOG(INFO) << "serving the native protocol" << (v->native_->tls() ? " over TLS" : "")
                    << " on " << host << ":" << v->native_->port()
                    << (v->auth_ ? " (bearer tokens with the write scope required)" : "");
  }
  v->api_->SetReady(true);
  return v;
}

Vigild::~Vigild() { Stop().IgnoreError(); }

uint16_t Vigild::http_port() const { return http_->port(); }
uint16_t Vigild::native_port() const { return native_ ? native_->port() : 0; }

Status Vigild::Stop() {
  if (stopped_) return Status::OK();
  stopped_ = true;
  for (Extension& e : extensions_) {
    if (e.stop) e.stop();
  }
  if (api_) api_->SetReady(false);
  if (http_) http_->Stop();
  if (native_) native_->Stop();
  if (metadata_persister_) {
    Status saved = metadata_persister_->Stop();
    if (!saved.ok()) VIGIL_LOG(ERROR) << saved.ToString();
  }
  Status st;
  if (db_) st = db_->Close();
  VIGIL_LOG(INFO) << "stopped" << (st.ok() ? "" : ": " + st.ToString());
  return st;
}

}  // namespace vigil::server
