#include "server/metrics/server_metrics.h"

#include <chrono>

#include "server/ingest/ingest.h"
#include "server/ingest/metadata.h"
#include "server/ingest/series_cache.h"
#include "storage/db.h"

namespace vigil::server {
ServerMetrics::ServerMetrics(storage::Db* db) {
  static const auto start = std::chrono::system_clock::now();
  http_requests_ = registry_.AddCounterFamily(
      "vigil_http_requests_total", "HTTP requests answered, by route pattern and status code.",
      {"handler", "code"});
  http_duration_ = registry_.AddHistogramFamily(
      "vigil_http_request_duration_seconds",
      "Time from a complete HTTP request to its handler's return, by route pattern.", {"handler"},
      ExponentialBuckets(0.0005, 4, 10));
  queries_ = registry_.AddCounterFamily("vigil_queries_total",
                                        "PromQL queries run, by type and outcome (an errorType).",
                                        {"type", "outcome"});
  query_duration_ = registry_.AddHistogramFamily(
      "vigil_query_duration_seconds", "PromQL query latency, by type (instant, range).", {"type"},
      ExponentialBuckets(0.0005, 2, 18));

  registry_.AddCollector([](MetricsWriter* w) {
    w->Header("vigil_start_time_seconds", "gauge", "Start time of the process since the epoch.");
    w->Sample("vigil_start_time_seconds",
              std::chrono::duration<double>(start.time_since_epoch()).count());
  });
  if (db == nullptr) return;
  registry_.AddCollector([](MetricsWriter* w) {
    std::string text;
    ingest::AppendIngestMetricsText(ingest::GlobalIngestMetrics(), &text);
    w->Raw(text);
  });
  registry_.AddCollector([db](MetricsWriter* w) {
    storage::DbStats s = db->Stats();
    auto gauge = [w](const char* name, const char* help, double v) {
      w->Single(name, "gauge", help, v);
    };
    auto counter = [w](const char* name, const char* help, double v) {
      w->Single(name, "counter", help, v);
    };
    gauge("vigil_head_series", "Active series in the head (memory).", static_cast<double>(s.head_series));
    gauge("vigil_head_chunks", "Chunks in the head.", static_cast<double>(s.head_chunks));
    gauge("vigil_head_memory_bytes", "Accounted bytes of head series, chunks, labels and postings.",
          static_cast<double>(s.head_memory_bytes));
    counter("vigil_head_samples_appended_total", "Samples appended to the head since start.",
            static_cast<double>(s.head_samples_appended));
    counter("vigil_storage_out_of_order_samples_total",
            "Samples accepted into the out-of-order window since start.",
            static_cast<double>(s.out_of_order_samples));
    counter("vigil_storage_rejected_samples_total",
            "Samples the storage engine rejected (out of window, duplicate timestamp with another "
            "value, bad labels) since start.",
            static_cast<double>(s.rejected_samples));
    gauge("vigil_wal_replayed_samples", "Samples replayed from the WAL when the data was opened.",
          static_cast<double>(s.wal_replayed_samples));
    gauge("vigil_wal_torn_bytes", "Bytes dropped at torn WAL tails when the data was opened.",
          static_cast<double>(s.wal_torn_bytes));
    gauge("vigil_wal_corruption", "1 if opening the data found WAL corruption and cut the log there.",
          s.wal_corruption.empty() ? 0 : 1);
    gauge("vigil_wal_size_bytes", "Bytes of WAL segments and checkpoints on disk.",
          static_cast<double>(s.wal_bytes));
    gauge("vigil_blocks", "Persistent blocks served.", static_cast<double>(s.blocks));
    gauge("vigil_block_bytes", "Bytes of the blocks' files.", static_cast<double>(s.block_bytes));
    gauge("vigil_disk_bytes", "Bytes of blocks and WAL on disk.", static_cast<double>(s.bytes_on_disk));
    counter("vigil_head_flushes_total", "Blocks written from the head since start.",
            static_cast<double>(s.head_flushes));
    counter("vigil_compactions_total", "Compacted blocks written since start.",
            static_cast<double>(s.compactions));
    counter("vigil_compaction_failures_total", "Failed head flushes and compactions since start.",
            static_cast<double>(s.compaction_failures));
    counter("vigil_retention_deleted_blocks_total", "Blocks deleted by retention since start.",
            static_cast<double>(s.retention_deleted_blocks));
    counter("vigil_head_series_removed_total",
            "Series garbage-collected from the head after flushes since start.",
            static_cast<double>(s.head_series_removed));
    gauge("vigil_tombstones", "Series with deleted ranges (head and blocks).",
          static_cast<double>(s.tombstones));
    gauge("vigil_quarantined_blocks", "Blocks moved to quarantine/ when the data was opened.",
          static_cast<double>(s.quarantined_blocks));
    // _count and the +Inf bucket are the buckets' sum, so they agree even when a sync is
    // recorded while the counters are read.
    const char* fsync = "vigil_wal_fsync_duration_seconds";
    w->Header(fsync, "histogram",
              "Duration of WAL segment fsyncs (per commit with --wal-sync=always, background "
              "syncs with interval, rotations, deletes, shutdown).");
    uint64_t cum = 0;
    const std::string bucket = std::string(fsync) + "_bucket";
    for (size_t i = 0; i < s.wal_fsync_buckets.size(); ++i) {
      cum += s.wal_fsync_buckets[i];
      const std::string le = i < s.wal_fsync_bucket_bounds.size()
                                 ? FormatMetricValue(s.wal_fsync_bucket_bounds[i])
                                 : "+Inf";
      w->Sample(bucket, {{"le", le}}, static_cast<double>(cum));
    }
    w->Sample(std::string(fsync) + "_sum", s.wal_fsync_seconds);
    w->Sample(std::string(fsync) + "_count", static_cast<double>(cum));
  });
}

void ServerMetrics::WatchSeriesCache(const ingest::SeriesRefCache* cache) {
  registry_.AddCollector([cache](MetricsWriter* w) {
    const ingest::SeriesRefCache::Stats st = cache->stats();
    auto one = [w](const char* name, const char* type, const char* help, uint64_t v) {
      w->Single(name, type, help, static_cast<double>(v));
    };
    one("vigil_ingest_series_cache_hits_total", "counter",
        "Remote-write series and line-protocol fields found in the series ref cache.", st.hits);
    one("vigil_ingest_series_cache_misses_total", "counter",
        "Look-ups of the series ref cache that found nothing (the series is appended by labels).",
        st.misses);
    one("vigil_ingest_series_cache_stale_total", "counter",
        "Cache hits whose series had been garbage-collected from the head (appended by labels).",
        st.stale);
    one("vigil_ingest_series_cache_entries", "gauge", "Series held by the series ref cache.",
        st.entries);
    one("vigil_ingest_series_cache_declined_total", "counter",
        "Keys written for the first time and not cached (a key is cached at its second write).",
        st.declined);
  });
}

void ServerMetrics::WatchMetadata(const ingest::MetadataStore* store,
                                  const ingest::MetadataPersister* persister) {
  registry_.AddCollector([store, persister](MetricsWriter* w) {
    auto one = [w](const char* name, const char* type, const char* help, uint64_t v) {
      w->Single(name, type, help, static_cast<double>(v));
    };
    one("vigil_metadata_families", "gauge",
        "Metric families with metadata (type, help, unit) from remote write.", store->size());
    one("vigil_metadata_dropped_total", "counter",
        "Metadata entries not kept: over the size bounds, invalid UTF-8, or a new family beyond "
        "the bound of families.",
        store->dropped());
    one("vigil_metadata_saves_total", "counter", "Writes of <data>/metadata.", persister->saves());
    one("vigil_metadata_save_failures_total", "counter",
        "Failed writes of <data>/metadata (retried at the next tick).", persister->save_failures());
  });
}

void ServerMetrics::ObserveHttp(const std::string& handler, int code, double seconds) {
  http_requests_->With({handler, std::to_string(code)})->Inc();
  http_duration_->With({handler})->Observe(seconds);
}

void ServerMetrics::ObserveQuery(std::string_view type, std::string_view outcome, double seconds) {
  queries_->With({std::string(type), std::string(outcome)})->Inc();
  query_duration_->With({std::string(type)})->Observe(seconds);
}

}  // namespace vigil::server
