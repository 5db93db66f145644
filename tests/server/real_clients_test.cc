// Real clients against vigild, from their Debian packages (tools/setup/install-deps.sh installs
// them): Prometheus scraping prometheus-node-exporter and remote-writing to vigild, promtool
// querying vigild, vmagent remote-writing to vigild. Tagged [slow] (their own CTest step). Every
// peer listens on 127.0.0.1 with its own directory under /tmp and is stopped by its PID. A missing
// binary fails the test, naming the package.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>

#include "tests/server/server_test_util.h"

extern char** environ;

namespace vigil::server {
namespace {

using namespace std::chrono_literals;
using testing::Json;
using testing::TempDir;
using testing::TestServer;

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// A child process with stdout and stderr in a log file; SIGTERM and reaped on destruction.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() { Stop(); }
  pid_t pid() const { return pid_; }
  bool Running() {
    if (pid_ <= 0) return false;
    int st;
    return ::waitpid(pid_, &st, WNOHANG) == 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Runs a command to completion; returns its exit code and fills *out with stdout + stderr.
int Run(std::vector<std::string> argv, std::string* out) {
  TempDir d;
  std::string log = d.path() + "/out";
  int code = -1;
  {
    Process p(std::move(argv), log);
    int st = 0;
    if (p.pid() > 0 && ::waitpid(p.pid(), &st, 0) == p.pid()) code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  FILE* f = std::fopen(log.c_str(), "r");
  out->clear();
  if (f != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
    std::fclose(f);
  }
  return code;
}

bool WaitHttp(uint16_t port, const std::string& path, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpClient c("127.0.0.1", port);
    auto r = c.Get(path);
    if (r.ok() && r->status == 200) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

// An instant query's vector as metric -> value, or a range query's matrix as metric -> values.
std::map<std::string, std::string> ResultMap(const JsonValue& data) {
  std::map<std::string, std::string> m;
  for (const auto& s : data["result"].array()) {
    std::string key = s["metric"].Dump();
    if (s.Has("value")) {
      m[key] = s["value"].Dump();
    } else {
      m[key] = s["values"].Dump();
    }
  }
  return m;
}

// Compares two "[t,\"v\"]" / "[[t,\"v\"],...]" renderings allowing 1e-9 relative difference in
// values (Prometheus 2.42 sums without the compensation Vigil's engine uses).
bool SameValues(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto ja = Json(a), jb = Json(b);
  auto points = [](const JsonValue& v) {
    std::vector<const JsonValue*> out;
    if (v.size() > 0 && v[0].is_array()) {
      for (const auto& p : v.array()) out.push_back(&p);
    } else {
      out.push_back(&v);
    }
    return out;
  };
  auto pa = points(ja), pb = points(jb);
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if ((*pa[i])[0].number() != (*pb[i])[0].number()) return false;
    double x = std::stod((*pa[i])[1].str()), y = std::stod((*pb[i])[1].str());
    if (std::isnan(x) && std::isnan(y)) continue;
    if (std::fabs(x - y) > 1e-9 * std::max(std::fabs(x), std::fabs(y))) return false;
  }
  return true;
}

TEST_CASE("Prometheus scrapes node-exporter and remote-writes to vigild; both answer alike",
          "[.][slow][real-clients]") {
  for (const char* bin : {"/usr/bin/prometheus", "/usr/bin/prometheus-node-exporter"}) {
    INFO(bin << " missing: install the Debian packages prometheus and prometheus-node-exporter "
                "(tools/setup/install-deps.sh)");
    REQUIRE(Executable(bin));
  }
  TestServer vigild;
  TempDir dir;
  uint16_t ne_port = FreePort(), prom_port = FreePort();
  Process ne({"/usr/bin/prometheus-node-exporter",
              "--web.listen-address=127.0.0.1:" + std::to_string(ne_port)},
             dir.path() + "/node-exporter.log");
  REQUIRE(WaitHttp(ne_port, "/metrics", 20s));
  std::string config = dir.File(
      "prometheus.yml",
      "global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n"
      "scrape_configs:\n"
      "  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:" +
          std::to_string(ne_port) + "']\n"
          "remote_write:\n  - url: http://127.0.0.1:" + std::to_string(vigild.port()) +
          "/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n");
  Process prom({"/usr/bin/prometheus", "--config.file=" + config,
                "--storage.tsdb.path=" + dir.path() + "/prom-data",
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
               dir.path() + "/prometheus.log");
  REQUIRE(WaitHttp(prom_port, "/-/ready", 30s));
  std::this_thread::sleep_for(65s);  // a minute of 5 s scrapes
  REQUIRE(prom.Running());

  HttpClient pc("127.0.0.1", prom_port);
  HttpClient vc("127.0.0.1", vigild.port());
  // Evaluate between scrapes: 2.5 s after the last scrape (and 10 s back for remote write to have
  // delivered it), so no sample sits on a window boundary (Prometheus 2 windows are closed, 3's
  // and Vigil's left-open).
  auto last = pc.Get("/api/v1/query?query=" + UrlEncode("timestamp(up{job=\"node\"})"));
  REQUIRE(last.ok());
  double last_scrape = std::stod(Json(last->body)["data"]["result"][0]["value"][1].str());
  double t = last_scrape - 10 + 2.5;
  char ts[32];
  std::snprintf(ts, sizeof(ts), "%.3f", t);
  char start[32];
  std::snprintf(start, sizeof(start), "%.3f", t - 40);

  int compared = 0;
  for (const std::string q : {"up", "node_memory_MemTotal_bytes", "count(node_cpu_seconds_total)",
                              "sum by (mode) (rate(node_cpu_seconds_total[30s]))",
                              "rate(node_network_receive_bytes_total[20s])",
                              "max_over_time(node_load1[1m])", "scrape_samples_scraped"}) {
    for (bool range : {false, true}) {
      std::string target = range ? "/api/v1/query_range?query=" + UrlEncode(q) + "&start=" + start +
                                       "&end=" + ts + "&step=5"
                                 : "/api/v1/query?query=" + UrlEncode(q) + "&time=" + ts;
      auto a = pc.Get(target);
      auto b = vc.Get(target);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CAPTURE(q, range, a->body, b->body);
      auto ja = Json(a->body), jb = Json(b->body);
      REQUIRE(ja["status"].str() == "success");
      REQUIRE(jb["status"].str() == "success");
      CHECK(ja["data"]["resultType"].str() == jb["data"]["resultType"].str());
      auto ma = ResultMap(ja["data"]), mb = ResultMap(jb["data"]);
      REQUIRE(!ma.empty());
      CHECK(ma.size() == mb.size());
      for (const auto& [metric, values] : ma) {
        CAPTURE(metric);
        auto it = mb.find(metric);
        REQUIRE(it != mb.end());
        CHECK(SameValues(values, it->second));
        ++compared;
      }
    }
  }
  WARN("compared " << compared << " series results between Prometheus 2.42 and vigild at t=" << ts);
  auto series = vc.Get("/api/v1/series?match[]=" + UrlEncode("{job=\"node\"}"));
  REQUIRE(series.ok());
  CHECK(Json(series->body)["data"].size() > 100);
}

TEST_CASE("promtool query instant and query range against vigild", "[.][slow][real-clients]") {
  INFO("/usr/bin/promtool missing: install the Debian package prometheus");
  REQUIRE(Executable("/usr/bin/promtool"));
  TestServer vigild;
  HttpClient c("127.0.0.1", vigild.port());
  auto w = c.Request("POST", "/write?precision=s",
                     "promtool_demo,host=a value=1 1700000000\npromtool_demo,host=a value=2 1700000015\n"
                     "promtool_demo,host=a value=3 1700000030\n");
  REQUIRE(w.ok());
  REQUIRE(w->status == 204);
  std::string url = "http://127.0.0.1:" + std::to_string(vigild.port());
  std::string out;
  int code = Run({"/usr/bin/promtool", "query", "instant", "--time=1700000030", url,
                  "promtool_demo"},
                 &out);
  CAPTURE(out);
  CHECK(code == 0);
  CHECK(out.find("promtool_demo{host=\"a\"} => 3 @[1700000030]") != std::string::npos);
  code = Run({"/usr/bin/promtool", "query", "range", "--start=1700000000", "--end=1700000030",
              "--step=15s", url, "promtool_demo * 2"},
             &out);
  CAPTURE(out);
  CHECK(code == 0);
  CHECK(out.find("{host=\"a\"} =>") != std::string::npos);
  CHECK(out.find("2 @[1700000000]") != std::string::npos);
  CHECK(out.find("4 @[1700000015]") != std::string::npos);
  CHECK(out.find("6 @[1700000030]") != std::string::npos);
  code = Run({"/usr/bin/promtool", "query", "instant", url, "sum("}, &out);
  CHECK(code != 0);  // a bad query is reported as an error, not as a result
  CHECK(out.find("parse error") != std::string::npos);
}

TEST_CASE("vmagent scrapes and remote-writes to vigild", "[.][slow][real-clients]") {
  INFO("/usr/bin/vmagent missing: install the Debian package victoria-metrics");
  REQUIRE(Executable("/usr/bin/vmagent"));
  TestServer vigild;
  TempDir dir;
  uint16_t vm_port = FreePort();
  std::string scrape = dir.File(
      "scrape.yml", "scrape_configs:\n  - job_name: vigild-self\n    scrape_interval: 2s\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:" +
                        std::to_string(vigild.port()) + "']\n");
  Process vm({"/usr/bin/vmagent", "-promscrape.config=" + scrape,
              "-remoteWrite.url=http://127.0.0.1:" + std::to_string(vigild.port()) + "/api/v1/write",
              "-remoteWrite.tmpDataPath=" + dir.path() + "/vmagent-data",
              "-remoteWrite.flushInterval=1s",
              "-httpListenAddr=127.0.0.1:" + std::to_string(vm_port)},
             dir.path() + "/vmagent.log");
  HttpClient c("127.0.0.1", vigild.port());
  bool arrived = false;
  std::string last;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!arrived && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1s);
    auto r = c.Get("/api/v1/query?query=" + UrlEncode("up{job=\"vigild-self\"}"));
    if (!r.ok()) continue;
    last = r->body;
    auto j = Json(r->body);
    arrived = j["data"]["result"].size() == 1 && j["data"]["result"][0]["value"][1].str() == "1";
  }
  CAPTURE(last);
  REQUIRE(arrived);
  REQUIRE(vm.Running());
  // vigild's own counters came back through vmagent, with the protocol it used.
  auto r = c.Get("/api/v1/query?query=" +
                 UrlEncode("vigil_ingest_samples_total{job=\"vigild-self\",protocol=\"remote_write_v1\"}"));
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"]["result"].size() == 1);
  auto series = c.Get("/api/v1/series?match[]=" + UrlEncode("{job=\"vigild-self\"}"));
  REQUIRE(series.ok());
  CHECK(Json(series->body)["data"].size() > 20);
}

}  // namespace
}  // namespace vigil::server
