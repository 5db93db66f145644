// vigil-macro-load: the macro benchmark's sender (bench/macro/README.md). It builds a dataset and
// every request body in memory, then sends them over several keep-alive connections and reports,
// as one JSON object on stdout, what it sent, how long it took and how much CPU the server used
// meanwhile (utime + stime of --server-pid from /proc/<pid>/stat).
//
//   vigil-macro-load --dataset tsbs --hosts 100 --hours 6 --end-ms 1790000000000
//       --protocol remote-write --url http://127.0.0.1:9090/api/v1/write --server-pid 1234
//   vigil-macro-load --dataset telemetry --describe        # span and size only, nothing sent

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/data/datasets.h"
#include "bench/macro/http_client.h"
#include "bench/macro/payload.h"

namespace vigil::bench::macro {
namespace {

struct Flags {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  int64_t Int(const std::string& k, int64_t def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::stoll(it->second);
  }
  bool Has(const std::string& k) const { return values.count(k) > 0; }
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "vigil-macro-load: %s\n", msg.c_str());
  std::exit(1);
}

// utime + stime of a process in seconds, or -1 when it cannot be read.
double ProcessCpuSeconds(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

Dataset MakeDataset(const Flags& f) {
  const std::string name = f.Get("dataset");
  if (name == "tsbs") {
    TsbsCpuOptions o;
    o.hosts = static_cast<int>(f.Int("hosts", 100));
    o.samples_per_series = static_cast<int>(f.Int("hours", 6) * 360);
    o.tsbs_tags = true;
    Dataset d = TsbsCpu(o);
    d.name = "tsbs-cpu-" + std::to_string(o.hosts);
    return d;
  }
  if (name == "telemetry") {
    TelemetryOptions o;
    o.targets = static_cast<int>(f.Int("targets", 50));
    o.duration_ms = f.Int("hours", 6) * 3'600'000;
    return Telemetry(o);
  }
  if (name == "highcard") {
    HighCardinalityOptions o;
    o.series = static_cast<int>(f.Int("series", 1'000'000));
    o.samples_per_series = static_cast<int>(f.Int("samples-per-series", 2));
    return HighCardinality(o);
  }
  if (name == "real-scrape") {
    Dataset d;
    std::string error;
    if (!LoadRealScrape(f.Get("datasets-dir", DatasetsDir()), &d, &error)) Die(error);
    return d;
  }
  Die("unknown --dataset '" + name + "' (tsbs, telemetry, real-scrape, highcard)");
}

// Line protocol cannot carry NaN or infinities, so the harness drops them for every system alike.
size_t DropNonFinite(Dataset* d) {
  size_t dropped = 0;
  for (Series& s : d->series) {
    size_t w = 0;
    for (size_t i = 0; i < s.ts.size(); ++i) {
      if (!std::isfinite(s.vs[i])) {
        ++dropped;
        continue;
      }
      s.ts[w] = s.ts[i];
      s.vs[w] = s.vs[i];
      ++w;
    }
    s.ts.resize(w);
    s.vs.resize(w);
  }
  std::erase_if(d->series, [](const Series& s) { return s.ts.empty(); });
  return dropped;
}

// Moves every timestamp by a whole number of minutes less 57.5 s, so that the last one is <= end_ms
// and samples on a 10 s grid sit at :02.5, :12.5, ...: never on the minute-aligned boundaries of
// the benchmark's query windows, where Prometheus 2.x (closed ranges) and 3.x (left-open) differ.
int64_t ShiftToEnd(Dataset* d, int64_t end_ms) {
  int64_t hi = INT64_MIN;
  for (const Series& s : d->series) {
    if (!s.ts.empty()) hi = std::max(hi, s.ts.back());
  }
  const int64_t gap = end_ms - hi;
  const int64_t minutes = gap >= 0 ? gap / 60'000 : -((-gap + 59'999) / 60'000);
  const int64_t shift = minutes * 60'000 - 57'500;
  for (Series& s : d->series) {
    for (int64_t& t : s.ts) t += shift;
  }
  return shift;
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) Die("unexpected argument " + a);
    a = a.substr(2);
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      f.values[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      f.values[a] = argv[++i];
    } else {
      f.values[a] = std::string(1, '1');
    }
  }
  if (!f.Has("dataset")) Die("--dataset is required");

  const auto t_build = std::chrono::steady_clock::now();
  Dataset d = MakeDataset(f);
  const size_t dropped = DropNonFinite(&d);
  const int64_t shift = f.Has("end-ms") ? ShiftToEnd(&d, f.Int("end-ms", 0)) : 0;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const Series& s : d.series) {
    lo = std::min(lo, s.ts.front());
    hi = std::max(hi, s.ts.back());
  }
  std::ostringstream json;
  json << "{\"dataset\":\"" << d.name << "\",\"series\":" << d.series.size()
       << ",\"samples\":" << d.num_samples() << ",\"dropped_non_finite\":" << dropped
       << ",\"start_ms\":" << lo << ",\"end_ms\":" << hi << ",\"shift_ms\":" << shift;
  if (f.Has("describe")) {
    std::printf("%s}\n", json.str().c_str());
    return 0;
  }

  const std::string protocol = f.Get("protocol");
  const int connections = static_cast<int>(f.Int("connections", 4));
  BatchOptions bo;
  bo.batch_samples = static_cast<size_t>(f.Int("batch-samples", 10'000));
  bo.shards = static_cast<size_t>(connections);
  std::vector<std::vector<Request>> shards;
  std::string error, headers;
  if (protocol == "remote-write") {
    if (!BuildRemoteWrite(d, bo, &shards, &error)) Die(error);
    headers =
        "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
        "X-Prometheus-Remote-Write-Version: 0.1.0\r\n";
  } else if (protocol == "line") {
    if (!BuildLineProtocol(d, bo, &shards, &error)) Die(error);
    headers = "Content-Type: text/plain; charset=utf-8\r\n";
  } else {
    Die("--protocol must be remote-write or line");
  }
  if (f.Has("dump")) {
    // Writes the first request body to a file, for looking at by hand.
    std::ofstream(f.Get("dump"), std::ios::binary) << shards.front().front().body;
  }
  const size_t total_samples = d.num_samples();
  size_t payload_bytes = 0, num_requests = 0;
  for (const auto& shard : shards) {
    num_requests += shard.size();
    for (const Request& r : shard) payload_bytes += r.body.size();
  }
  d = Dataset();  // the requests are all that is needed now
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_build).count();

  Url url;
  if (!ParseUrl(f.Get("url"), &url, &error)) Die(error);
  const int64_t server_pid = f.Int("server-pid", 0);
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex error_mu;
  // Pacing: a shard may send a request only while its first timestamp is at most max_lag_ms ahead
  // of every other shard's next request, as shards fed from one WAL reader stay (Prometheus rejects
  // samples more than an hour behind its newest one).
  const int64_t max_lag_ms = f.Int("max-lag-ms", 20 * 60'000);
  std::mutex pace_mu;
  std::condition_variable pace_cv;
  std::vector<int64_t> next_ts(shards.size(), INT64_MAX);
  for (size_t c = 0; c < shards.size(); ++c) {
    if (!shards[c].empty()) next_ts[c] = shards[c].front().first_ts;
  }

  const double self_cpu0 = SelfCpuSeconds();
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : -1;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      HttpConnection conn(url);
      std::string response, err;
      int status = 0;
      const std::vector<Request>& requests = shards[static_cast<size_t>(c)];
      for (size_t i = 0; !failed && i < requests.size(); ++i) {
        {
          std::unique_lock<std::mutex> lock(pace_mu);
          pace_cv.wait(lock, [&] {
            return failed || requests[i].first_ts <=
                                 *std::min_element(next_ts.begin(), next_ts.end()) + max_lag_ms;
          });
        }
        if (!conn.Post(headers, requests[i].body, &status, &response, &err) ||
            status / 100 != 2) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!failed.exchange(true)) {
            first_error = "shard " + std::to_string(c) + " request " + std::to_string(i) + ": " +
                          (err.empty() ? "HTTP " + std::to_string(status) + ": " +
                                             response.substr(0, 500)
                                       : err);
          }
        }
        std::lock_guard<std::mutex> lock(pace_mu);
        next_ts[static_cast<size_t>(c)] =
            i + 1 < requests.size() ? requests[i + 1].first_ts : INT64_MAX;
        pace_cv.notify_all();
      }
      std::lock_guard<std::mutex> lock(pace_mu);
      next_ts[static_cast<size_t>(c)] = INT64_MAX;
      pace_cv.notify_all();
    });
  }
  for (std::thread& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double server_cpu = server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  const double self_cpu = SelfCpuSeconds() - self_cpu0;

  json << ",\"protocol\":\"" << protocol << "\",\"requests\":" << num_requests
       << ",\"payload_bytes\":" << payload_bytes << ",\"connections\":" << connections
       << ",\"build_seconds\":" << build_s << ",\"wall_seconds\":" << wall
       << ",\"samples_per_second\":" << static_cast<double>(total_samples) / wall
       << ",\"server_cpu_seconds\":" << server_cpu << ",\"server_cpu_seconds_per_million\":"
       << (server_cpu >= 0 ? server_cpu / static_cast<double>(total_samples) * 1e6 : -1)
       << ",\"sender_cpu_seconds\":" << self_cpu << ",\"ok\":" << (failed ? "false" : "true")
       << ",\"error\":\"" << JsonEscape(first_error) << "\"}";
  std::printf("%s\n", json.str().c_str());
  return failed ? 2 : 0;
}

}  // namespace
}  // namespace vigil::bench::macro

int main(int argc, char** argv) { return vigil::bench::macro::Main(argc, argv); }
