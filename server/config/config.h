#pragma once

// vigild's configuration: defaults, then an optional YAML file (--config), then flags. Every
// setting, its flag and its YAML key: server/README.md#configuration (and `vigild --help`).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/db.h"

namespace vigil::server {

struct VigildConfig {
  std::string config_file;  // empty: none
  std::string data_dir = "vigil-data";
  // host:port; port 0 picks a free port. An empty native_listen disables the native protocol.
  std::string http_listen = "127.0.0.1:9201";
  std::string native_listen = "127.0.0.1:9095";
  int native_threads = 2;
  // With tls_cert_file / tls_key_file set, the native listener speaks TLS too unless this is false.
  bool native_tls = true;
  int http_io_threads = 2;
  int http_worker_threads = 4;
  uint64_t max_body_bytes = 64ull << 20;
  int64_t http_read_timeout_ms = 60'000;
  int64_t http_idle_timeout_ms = 300'000;
  int64_t http_write_timeout_ms = 60'000;
  int64_t shutdown_grace_ms = 30'000;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string auth_token_file;
  // Bodies being decoded by the write endpoints at once (after decompression); beyond: 429.
  uint64_t write_max_inflight_bytes = 256ull << 20;
  // Entries of the write endpoints' SeriesRefCache (remote write and line protocol); 0: none.
  uint64_t write_series_cache_entries = 262144;

  int64_t retention_time_ms = 15ll * 24 * 3600 * 1000;  // 0: keep forever
  uint64_t retention_size_bytes = 0;                     // 0: no size limit
  uint64_t storage_piece_cache_bytes = 64ull << 20;     // storage/block/piece_cache.h
  storage::WalSyncPolicy wal_sync = storage::WalSyncPolicy::kInterval;
  int64_t wal_sync_interval_ms = 1000;
  int64_t out_of_order_window_ms = 3600'000;

  int64_t query_timeout_ms = 120'000;
  uint64_t query_max_samples = 50'000'000;
  int64_t query_max_points_per_series = 11000;
  int64_t query_lookback_delta_ms = 300'000;
  int query_parallelism = 0;  // threads per query (query/eval/parallel.h): 0 one per core, 1 serial
  uint64_t query_cache_bytes = 64ull << 20;   // range query cache (server/api/range_cache.h)
  int64_t query_cache_min_age_ms = 300'000;

  std::string log_level = "info";
};

// Parses argv (flags as --name=value or --name value). Loads the YAML file named by --config
// first, so flags override it. Sets *help when --help / -h was given (nothing else is checked
// then). InvalidArgument naming the flag or YAML key for bad values and unknown names.
Result<VigildConfig> ParseVigildArgs(int argc, const char* const* argv, bool* help);

// Applies a YAML document to *config. InvalidArgument naming the key (path) for unknown keys and
// bad values.
Status ApplyYamlConfig(std::string_view yaml_text, VigildConfig* config);

// The text `vigild --help` prints.
std::string VigildUsage();

// "host:port" -> host and port. InvalidArgument for a missing or bad port.
Status SplitHostPort(std::string_view addr, std::string* host, uint16_t* port);

// 1024-based sizes: "512", "64KB", "64KiB", "10MB", "1.5GB", "2TB" (B, KB/KiB, MB/MiB, GB/GiB,
// TB/TiB, PB/PiB).
Result<uint64_t> ParseByteSize(std::string_view s);

}  // namespace vigil::server
