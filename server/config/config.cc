#include "server/config/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "query/parser.h"

namespace vigil::server {
namespace {

Result<int64_t> ParseDurationMs(std::string_view s) {
  auto d = query::ParseDuration(s);
  if (!d.ok()) return Status::InvalidArgument("bad duration \"" + std::string(s) + "\" (e.g. 30s, 5m, 15d)");
  return *d;
}

Result<int64_t> ParseInt(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return Status::InvalidArgument("bad integer \"" + std::string(s) + "\"");
  }
  if (v < min || v > max) {
    return Status::InvalidArgument(std::string(s) + " is outside [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  return v;
}

Result<bool> ParseBool(std::string_view s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return Status::InvalidArgument("bad boolean \"" + std::string(s) + "\" (true, false)");
}

Result<storage::WalSyncPolicy> ParseWalSync(std::string_view s) {
  if (s == "always") return storage::WalSyncPolicy::kAlways;
  if (s == "interval") return storage::WalSyncPolicy::kInterval;
  if (s == "never") return storage::WalSyncPolicy::kNever;
  return Status::InvalidArgument("bad WAL sync policy \"" + std::string(s) +
                                 "\" (always, interval, never)");
}

// One setting: its flag name, its YAML path, and how a text value is applied.
struct Setting {
  const char* flag;
  const char* yaml;
  const char* help;
  std::function<Status(std::string_view, VigildConfig*)> apply;
};

template <class T, class F>
std::function<Status(std::string_view, VigildConfig*)> Setter(T VigildConfig::*field, F parse) {
  return [field, parse](std::string_view v, VigildConfig* c) -> Status {
    auto r = parse(v);
    if (!r.ok()) return r.status();
    c->*field = static_cast<T>(*r);
    return Status::OK();
  };
}

std::function<Status(std::string_view, VigildConfig*)> StringSetter(std::string VigildConfig::*f) {
  return [f](std::string_view v, VigildConfig* c) {
    c->*f = std::string(v);
    return Status::OK();
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"data-dir", "data_dir", "data directory (default vigil-data)",
       StringSetter(&VigildConfig::data_dir)},
      {"http.listen", "http.listen", "HTTP address host:port (default 127.0.0.1:9201)",
       [](std::string_view v, VigildConfig* c) -> Status {
         std::string h;
         uint16_t p;
         VIGIL_RETURN_IF_ERROR(SplitHostPort(v, &h, &p));
         c->http_listen = std::string(v);
         return Status::OK();
       }},
      {"native.listen", "native.listen",
       "native protocol address host:port (default 127.0.0.1:9095; empty disables it)",
       [](std::string_view v, VigildConfig* c) -> Status {
         if (v.empty()) {
           c->native_listen.clear();
           return Status::OK();
         }
         std::string h;
         uint16_t p;
         VIGIL_RETURN_IF_ERROR(SplitHostPort(v, &h, &p));
         c->native_listen = std::string(v);
         return Status::OK();
       }},
      {"native.threads", "native.threads", "threads serving native connections (default 2)",
       Setter(&VigildConfig::native_threads, [](auto s) { return ParseInt(s, 1, 256); })},
      {"native.tls", "native.tls",
       "with --tls.cert-file/--tls.key-file, serve the native protocol over TLS too (default "
       "true; false keeps it plaintext)",
       Setter(&VigildConfig::native_tls, ParseBool)},
      {"write.max-inflight", "write.max_inflight_bytes",
       "request bodies decoded at once by the write endpoints (default 256MiB); beyond: 429",
       Setter(&VigildConfig::write_max_inflight_bytes, ParseByteSize)},
      {"write.series-cache", "write.series_cache_entries",
       "series whose refs the write endpoints remember, to append known series without hashing "
       "their labels (default 262144); 0 turns the cache off",
       Setter(&VigildConfig::write_series_cache_entries,
              [](auto s) { return ParseInt(s, 0, int64_t{1} << 32); })},
      {"http.io-threads", "http.io_threads", "threads doing HTTP socket I/O (default 2)",
       Setter(&VigildConfig::http_io_threads, [](auto s) { return ParseInt(s, 1, 256); })},
      {"http.threads", "http.threads", "threads running HTTP handlers and queries (default 4)",
       Setter(&VigildConfig::http_worker_threads, [](auto s) { return ParseInt(s, 1, 1024); })},
      {"http.max-body", "http.max_body_size",
       "largest request body, also after gzip inflation (default 64MiB); larger get 413",
       Setter(&VigildConfig::max_body_bytes, ParseByteSize)},
      {"http.read-timeout", "http.read_timeout", "time to receive a whole request (default 1m)",
       Setter(&VigildConfig::http_read_timeout_ms, ParseDurationMs)},
      {"http.idle-timeout", "http.idle_timeout",
       "keep-alive connections idle this long are closed (default 5m)",
       Setter(&VigildConfig::http_idle_timeout_ms, ParseDurationMs)},
      {"http.write-timeout", "http.write_timeout", "time to send a response (default 1m)",
       Setter(&VigildConfig::http_write_timeout_ms, ParseDurationMs)},
      {"shutdown-grace", "shutdown_grace",
       "on SIGTERM, wait this long for in-flight requests (default 30s)",
       Setter(&VigildConfig::shutdown_grace_ms, ParseDurationMs)},
      {"tls.cert-file", "tls.cert_file", "PEM certificate chain; with --tls.key-file enables TLS",
       StringSetter(&VigildConfig::tls_cert_file)},
      {"tls.key-file", "tls.key_file", "PEM private key", StringSetter(&VigildConfig::tls_key_file)},
      {"auth.token-file", "auth.token_file",
       "bearer tokens with scopes (format in server/README.md); enables auth",
       StringSetter(&VigildConfig::auth_token_file)},
      {"retention.time", "storage.retention_time",
       "delete data older than this (default 15d; 0 keeps everything)",
       Setter(&VigildConfig::retention_time_ms, ParseDurationMs)},
      {"retention.size", "storage.retention_size",
       "delete the oldest blocks beyond this many bytes (default 0: no limit)",
       Setter(&VigildConfig::retention_size_bytes, ParseByteSize)},
      {"storage.piece-cache-size", "storage.piece_cache_size",
       "memory for decompressed block pieces shared by all queries (default 64MiB; 0 disables)",
       Setter(&VigildConfig::storage_piece_cache_bytes, ParseByteSize)},
      {"wal-sync", "storage.wal_sync", "always | interval | never (default interval)",
       Setter(&VigildConfig::wal_sync, ParseWalSync)},
      {"wal-sync-interval", "storage.wal_sync_interval", "sync period of --wal-sync=interval (default 1s)",
       Setter(&VigildConfig::wal_sync_interval_ms, ParseDurationMs)},
      {"ooo-window", "storage.out_of_order_window",
       "accept samples this much older than a series' newest (default 1h; 0 disables)",
       Setter(&VigildConfig::out_of_order_window_ms, ParseDurationMs)},
      {"query.timeout", "query.timeout", "longest a query may run (default 2m)",
       Setter(&VigildConfig::query_timeout_ms, ParseDurationMs)},
      {"query.max-samples", "query.max_samples",
       "most samples a query may hold at once (default 50000000)",
       Setter(&VigildConfig::query_max_samples,
              [](auto s) { return ParseInt(s, 1, INT64_MAX); })},
      {"query.max-points", "query.max_points_per_series",
       "most points per series of a range query (default 11000)",
       Setter(&VigildConfig::query_max_points_per_series,
              [](auto s) { return ParseInt(s, 1, INT64_MAX); })},
      {"query.lookback-delta", "query.lookback_delta",
       "how far back an instant selector looks for a sample (default 5m)",
       Setter(&VigildConfig::query_lookback_delta_ms, ParseDurationMs)},
      {"query.parallelism", "query.parallelism",
       "threads one query may use to decode series and evaluate functions (default 0: one per "
       "core, at most 8; 1: the request's thread only)",
       Setter(&VigildConfig::query_parallelism, [](auto s) { return ParseInt(s, 0, 64); })},
      {"query.cache-size", "query.cache_size",
       "memory for cached range-query steps (default 64MiB; 0 disables; nocache=1 skips it)",
       Setter(&VigildConfig::query_cache_bytes, ParseByteSize)},
      {"query.cache-min-age", "query.cache_min_age",
       "steps older than this are cached; writes older than this invalidate (default 5m)",
       Setter(&VigildConfig::query_cache_min_age_ms, ParseDurationMs)},
      {"log.level", "log_level", "debug | info | warn | error (default info)",
       [](std::string_view v, VigildConfig* c) -> Status {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return Status::InvalidArgument("bad log level \"" + std::string(v) + "\"");
         }
         c->log_level = std::string(v);
         return Status::OK();
       }},
  };
  return kSettings;
}

Status ApplyNode(const YAML::Node& node, const std::string& path, VigildConfig* config) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      VIGIL_RETURN_IF_ERROR(ApplyNode(kv.second, path.empty() ? key : path + "." + key, config));
    }
    return Status::OK();
  }
  for (const Setting& s : Settings()) {
    if (path != s.yaml) continue;
    if (!node.IsScalar()) return Status::InvalidArgument("config key " + path + ": expected a value");
    Status st = s.apply(node.Scalar(), config);
    if (!st.ok()) return Status::InvalidArgument("config key " + path + ": " + st.message());
    return Status::OK();
  }
  return Status::InvalidArgument("unknown config key " + path);
}

}  // namespace

Status SplitHostPort(std::string_view addr, std::string* host, uint16_t* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("address \"" + std::string(addr) + "\" lacks :port");
  }
  std::string_view h = addr.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto p = ParseInt(addr.substr(colon + 1), 0, 65535);
  if (!p.ok()) return Status::InvalidArgument("address \"" + std::string(addr) + "\": bad port");
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = static_cast<uint16_t>(*p);
  return Status::OK();
}

Result<uint64_t> ParseByteSize(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double num = 0;
  auto r = std::from_chars(s.data(), s.data() + i, num);
  if (i == 0 || r.ec != std::errc() || r.ptr != s.data() + i) {
    return Status::InvalidArgument("bad size \"" + std::string(s) + "\" (e.g. 512MB, 10GB)");
  }
  std::string unit(s.substr(i));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::map<std::string, double> kUnits = {
      {"", 1},           {"B", 1},           {"K", 1024.0},        {"KB", 1024.0},
      {"KIB", 1024.0},   {"M", 1048576.0},   {"MB", 1048576.0},    {"MIB", 1048576.0},
      {"G", 1073741824.0}, {"GB", 1073741824.0}, {"GIB", 1073741824.0}, {"T", 1099511627776.0},
      {"TB", 1099511627776.0}, {"TIB", 1099511627776.0}, {"PB", 1125899906842624.0},
      {"PIB", 1125899906842624.0}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) {
    return Status::InvalidArgument("bad size unit in \"" + std::string(s) + "\" (B, KB, MB, GB, TB, PB)");
  }
  double bytes = num * it->second;
  if (!(bytes < 1.8e19)) return Status::InvalidArgument("size \"" + std::string(s) + "\" too large");
  return static_cast<uint64_t>(std::llround(bytes));
}

Status ApplyYamlConfig(std::string_view yaml_text, VigildConfig* config) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return Status::OK();
    if (!root.IsMap()) return Status::InvalidArgument("config: the top level must be a mapping");
    return ApplyNode(root, "", config);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("config: ") + e.what());
  }
}

std::string VigildUsage() {
  std::string out =
      "Usage: vigild [--config FILE] [--name=value ...]\n"
      "\n"
      "Vigil's server. With no arguments it opens ./vigil-data and serves HTTP on 127.0.0.1:9201\n"
      "(Prometheus API, remote write, Influx line protocol, /metrics) and the native protocol on\n"
      "127.0.0.1:9095. SIGTERM or SIGINT stops it gracefully.\n"
      "\n"
      "  --config FILE                YAML file with the settings below (flags override it)\n";
  for (const Setting& s : Settings()) {
    std::string flag = std::string("  --") + s.flag + "=...";
    if (flag.size() < 31) flag.resize(31, ' ');
    else flag += ' ';
    out += flag + s.help + "   [yaml: " + s.yaml + "]\n";
  }
  out += "  -h, --help                   this text\n";
  return out;
}

Result<VigildConfig> ParseVigildArgs(int argc, const char* const* argv, bool* help) {
  *help = false;
  VigildConfig config;
  // (flag name, value) in order; --config is applied first.
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "-help") {
      *help = true;
      return config;
    }
    if (!a.starts_with("--")) {
      return Status::InvalidArgument("unexpected argument \"" + std::string(a) +
                                     "\" (flags look like --name=value; see --help)");
    }
    a.remove_prefix(2);
    size_t eq = a.find('=');
    std::string name(a.substr(0, eq));
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(a.substr(eq + 1));
    } else {
      if (i + 1 >= argc) return Status::InvalidArgument("flag --" + name + " needs a value");
      value = argv[++i];
    }
    flags.emplace_back(std::move(name), std::move(value));
  }
  for (const auto& [name, value] : flags) {
    if (name != "config" && name != "config.file") continue;
    std::ifstream in(value, std::ios::binary);
    if (!in) return Status::InvalidArgument("cannot read config file " + value);
    std::stringstream ss;
    ss << in.rdbuf();
    Status st = ApplyYamlConfig(ss.str(), &config);
    if (!st.ok()) return st.WithContext(value);
    config.config_file = value;
  }
  for (const auto& [name, value] : flags) {
    if (name == "config" || name == "config.file") continue;
    const Setting* found = nullptr;
    for (const Setting& s : Settings()) {
      if (name == s.flag) found = &s;
    }
    if (found == nullptr) return Status::InvalidArgument("unknown flag --" + name + " (see --help)");
    Status st = found->apply(value, &config);
    if (!st.ok()) return Status::InvalidArgument("flag --" + name + ": " + st.message());
  }
  return config;
}

}  // namespace vigil::server
