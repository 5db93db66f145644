// End to end: vigild with continuous queries, a CQ over a live series created through the HTTP
// API, its band read back through /api/v1/query_range, and the same band (state included) after a
// restart of the server on the same data directory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "server/cq/extension.h"
#include "server/http/http_client.h"
#include "server/vigild.h"
#include "storage/base/clock.h"
#include "storage/base/file_system.h"

namespace vigil::server::cq {
namespace {

constexpr int64_t kMin = 60'000;

// The values of the first series of a query_range answer, in order.
std::vector<double> RangeValues(const std::string& body) {
  std::vector<double> out;
  size_t at = body.find("\"values\":[");
  if (at == std::string::npos) return out;
  const size_t end = body.find("]]", at);
  while (true) {
    const size_t comma = body.find(",\"", at);
    if (comma == std::string::npos || comma > end) break;
    const size_t close = body.find('"', comma + 2);
    out.push_back(std::stod(body.substr(comma + 2, close - comma - 2)));
    at = close + 1;
  }
  return out;
}

int64_t JsonInt(const std::string& body, const std::string& field) {
  const size_t at = body.find("\"" + field + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + field.size() + 3));
}

struct Server {
  std::unique_ptr<Vigild> vigild;
  std::unique_ptr<HttpClient> client;
};

Server StartServer(const std::string& dir, ManualClock* clock) {
  VigildConfig config;
  config.data_dir = dir;
  config.http_listen = "127.0.0.1:0";
  config.native_listen = "";
  CqExtensionOptions o;
  o.clock = clock;
  o.tick_ms = 5;
  o.max_catchup = 1000;
  auto v = Vigild::Start(config, BuildInfo{}, {MakeCqExtension(o)});
  REQUIRE(v.ok());
  Server s;
  s.vigild = std::move(*v);
  s.client = std::make_unique<HttpClient>("127.0.0.1", s.vigild->http_port());
  return s;
}

void WaitForEvaluations(HttpClient& c, int64_t n) {
  for (int i = 0; i < 2000; ++i) {
    auto r = c.Get("/api/v1/cq/load_band");
    REQUIRE(r.ok());
    if (JsonInt(r->body, "evaluations") >= n) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL("continuous query did not evaluate in time");
}

TEST_CASE("CQ band over a live series through the HTTP API survives a restart",
          "[server][cq][e2e]") {
  const std::string dir = "/tmp/vigil-cq-e2e-" + std::to_string(::getpid());
  DefaultFileSystem()->RemoveDirAll(dir).IgnoreError();
  const int64_t t0 = (std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() /
                      kMin) *
                         kMin -
                     400 * kMin;
  ManualClock clock(t0);
  auto value = [](int i) { return 50 + 10 * std::sin(i / 10.0) + (i % 3); };
  auto write = [&](Server& s, int i) {
    auto app = s.vigild->db()->NewAppender();
    REQUIRE(app->Append(storage::Labels::FromPairs({{"__name__", "load"}, {"host", "a"}}),
                        t0 + i * kMin, value(i))
                .ok());
    REQUIRE(app->Commit().ok());
  };
  const std::string range = "/api/v1/query_range?query=load_band%3Aupper&start=" +
                            std::to_string((t0 + 250 * kMin) / 1000) +
                            "&end=" + std::to_string((t0 + 301 * kMin) / 1000) + "&step=60";
  std::vector<double> before;
  {
    Server s = StartServer(dir, &clock);
    auto r = s.client->PostForm("/api/v1/cq",
                                "name=load_band&expr=load&kind=anomaly&interval=1m&sensitivity=3");
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    for (int i = 1; i <= 300; ++i) write(s, i);
    clock.SetMillis(t0 + 300 * kMin);
    WaitForEvaluations(*s.client, 301);  // t0 (aligned creation time) … t0 + 300m
    r = s.client->Get(range);
    REQUIRE(r.ok());
    before = RangeValues(r->body);
    // 250m … 301m; at 301m the 300m point still shows through the lookback.
    REQUIRE(before.size() == 52);
    r = s.client->Get("/api/v1/rules");
    CHECK(r->body.find("\"name\":\"load_band\"") != std::string::npos);
    r = s.client->Get("/metrics");
    CHECK(r->body.find("vigil_cq_evaluations_total{cq=\"load_band\",kind=\"anomaly\"} 301") !=
          std::string::npos);
    REQUIRE(s.vigild->Stop().ok());
  }
  {
    Server s = StartServer(dir, &clock);
    auto r = s.client->Get("/api/v1/cq/load_band");
    REQUIRE(r.ok());
    CHECK(JsonInt(r->body, "series") == 1);  // the model state came back
    write(s, 301);
    clock.SetMillis(t0 + 301 * kMin);
    WaitForEvaluations(*s.client, 1);
    r = s.client->Get(range);
    REQUIRE(r.ok());
    const std::vector<double> after = RangeValues(r->body);
    REQUIRE(after.size() == 52);
    for (size_t i = 0; i <= 50; ++i) CHECK(after[i] == before[i]);  // the same band
    // The band continues from its learned state: the next upper bound is close to the last one,
    // where a model starting afresh would have no spread at all.
    CHECK(std::abs(after[51] - before[50]) < 5);
    CHECK(after[51] > value(301));
    REQUIRE(s.vigild->Stop().ok());
  }
  DefaultFileSystem()->RemoveDirAll(dir).IgnoreError();
}

}  // namespace
}  // namespace vigil::server::cq
