// The write endpoints of an in-process vigild under overload (--write.max-inflight: 429 with
// Retry-After, nothing of the refused request written) and with the series ref cache
// (--write.series-cache) across delete_series and head garbage collection.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/ingest/remote_write_encode.h"
#include "tests/server/metrics_text_util.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using testing::Json;
using testing::ParseExposition;
using testing::TestServer;

// The values of `query` over [start, end] s with step 15 s, as "t:v" pairs per series joined by
// spaces; series separated by " | ".
std::string Range(HttpClient& c, const std::string& query, int64_t start_s, int64_t end_s) {
  auto r =
      c.Get("/api/v1/query_range?query=" + UrlEncode(query) + "&start=" + std::to_string(start_s) +
            "&end=" + std::to_string(end_s) + "&step=15");
  if (!r.ok()) return r.status().ToString();
  if (r->status != 200) return "HTTP " + std::to_string(r->status) + ": " + r->body;
  auto j = Json(r->body);
  std::string out;
  for (const auto& s : j["data"]["result"].array()) {
    if (!out.empty()) out += " | ";
    std::string pts;
    for (const auto& p : s["values"].array()) {
      if (!pts.empty()) pts += " ";
      pts += std::to_string(static_cast<int64_t>(p[0].number())) + ":" + p[1].str();
    }
    out += pts;
  }
  return out;
}

std::string Rw1Body(const std::string& name, std::vector<ingest::RemoteWriteSample> samples) {
  ingest::RemoteWriteEncoder enc(ingest::RemoteWriteVersion::k1);
  enc.AddSeries(storage::Labels::FromPairs({{"__name__", name}, {"job", "w"}}), samples);
  return enc.Snappy();
}

const HttpClient::Headers kRw1 = {{"Content-Type", "application/x-protobuf"},
                                  {"Content-Encoding", "snappy"},
                                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}};

// Holds the first request the limiter admits until Release(), so that it stays in flight.
class Gate {
 public:
  void Hold(uint64_t) {
    std::unique_lock<std::mutex> lock(mu_);
    if (used_) return;
    used_ = true;
    entered_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return released_; });
  }
  bool WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [this] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool used_ = false, entered_ = false, released_ = false;
};

TEST_CASE("Writes beyond --write.max-inflight get 429 with Retry-After; held data is intact",
          "[server][write][overload]") {
  // 64 bytes: one request is always admitted alone; a second one while it is decoded is not.
  TestServer ts([](VigildConfig* c) { c->write_max_inflight_bytes = 64; });
  const std::string rw_failed = "vigil_ingest_failed_requests_total{protocol=\"remote_write_v1\"}";
  const std::string lp_failed = "vigil_ingest_failed_requests_total{protocol=\"influx_line\"}";
  HttpClient probe = ts.Client();
  const auto before = ParseExposition(probe.Get("/metrics")->body);  // the counters are global
  Gate gate;
  ts.server->write_limiter()->SetAdmitHookForTesting([&gate](uint64_t b) { gate.Hold(b); });

  // A real remote-write request, held in flight by the gate after admission.
  HttpClient::Response held;
  std::thread writer([&] {
    HttpClient c = ts.Client();
    auto r = c.Request("POST", "/api/v1/write",
                       Rw1Body("inflight", {{0, 1}, {15000, 2}, {30000, 3}}), kRw1);
    if (r.ok()) held = *r;
  });
  REQUIRE(gate.WaitEntered());
  CHECK(ts.server->write_limiter()->inflight() > 64);

  auto c = ts.Client();
  auto r = c.Request("POST", "/api/v1/write", Rw1Body("refused", {{0, 9}}), kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 429);
  CHECK(r->Header("retry-after") == "1");
  CHECK(r->Header("x-prometheus-remote-write-samples-written") == "0");
  CHECK(r->body.starts_with("too many writes in flight ("));
  r = c.Request("POST", "/write?precision=s", "refused_lp value=1 0\n");
  REQUIRE(r.ok());
  CHECK(r->status == 429);
  CHECK(r->Header("retry-after") == "1");
  CHECK(Json(r->body)["error"].str().starts_with("too many writes in flight"));
  r = c.Request("POST", "/api/v2/write?precision=s", "refused_lp value=2 0\n");
  REQUIRE(r.ok());
  CHECK(r->status == 429);
  CHECK(r->Header("retry-after") == "1");
  CHECK(Json(r->body)["code"].str() == "too many requests");

  gate.Release();
  writer.join();
  CHECK(held.status == 204);
  CHECK(held.Header("x-prometheus-remote-write-samples-written") == "3");
  CHECK(ts.server->write_limiter()->inflight() == 0);

  // The budget is free again: the refused request, retried, goes through.
  r = c.Request("POST", "/api/v1/write", Rw1Body("refused", {{0, 9}}), kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  r = c.Request("POST", "/write?precision=s", "later_lp value=5 15\n");
  REQUIRE(r.ok());
  CHECK(r->status == 204);

  CHECK(Range(c, "inflight", 0, 30) == "0:1 15:2 30:3");
  CHECK(Range(c, "refused", 0, 0) == "0:9");
  CHECK(Range(c, "refused_lp", 0, 30).empty());  // neither refused line was written
  CHECK(Range(c, "later_lp", 15, 15) == "15:5");
  auto m = c.Get("/metrics");
  REQUIRE(m.ok());
  const auto e = ParseExposition(m->body);
  CHECK(e.At(rw_failed) - before.At(rw_failed) == 1);
  CHECK(e.At(lp_failed) - before.At(lp_failed) == 2);
  ts.server->write_limiter()->SetAdmitHookForTesting(nullptr);
}

double Metric(HttpClient& c, const std::string& key) {
  auto m = c.Get("/metrics");
  REQUIRE(m.ok());
  return ParseExposition(m->body).At(key);
}

TEST_CASE("Series ref cache: delete_series, head garbage collection and rewrites",
          "[server][write][series_cache]") {
  TestServer ts([](VigildConfig* c) { c->write_series_cache_entries = 1000; });
  auto c = ts.Client();
  auto rw = [&](const std::string& name, std::vector<ingest::RemoteWriteSample> samples) {
    auto r = c.Request("POST", "/api/v1/write", Rw1Body(name, samples), kRw1);
    REQUIRE(r.ok());
    INFO(r->body);
    CHECK(r->status == 204);
  };
  auto lp = [&](const std::string& body) {
    auto r = c.Request("POST", "/write?precision=s", body);
    REQUIRE(r.ok());
    INFO(r->body);
    CHECK(r->status == 204);
  };
  rw("cached", {{0, 1}, {15000, 2}});
  lp("cached_lp,host=a value=1 0\n");
  // A key's first write only marks it (Admission::kSecondPut); its second write caches it.
  CHECK(Metric(c, "vigil_ingest_series_cache_entries") == 0);
  CHECK(Metric(c, "vigil_ingest_series_cache_declined_total") == 2);
  rw("cached", {{20000, 2.5}});
  lp("cached_lp,host=a value=1.5 10\n");
  CHECK(Metric(c, "vigil_ingest_series_cache_hits_total") == 0);
  rw("cached", {{30000, 3}});  // by ref
  lp("cached_lp,host=a value=2 15\n");
  const double hits = Metric(c, "vigil_ingest_series_cache_hits_total");
  CHECK(hits >= 2);
  CHECK(Metric(c, "vigil_ingest_series_cache_misses_total") >= 2);
  CHECK(Metric(c, "vigil_ingest_series_cache_entries") == 2);

  // delete_series keeps the series (and so the cached refs): new samples are visible, old ones
  // stay deleted.
  auto r = c.PostForm("/api/v1/admin/tsdb/delete_series",
                      "match[]=" + UrlEncode("{__name__=~\"cached|cached_lp\"}"));
  REQUIRE(r.ok());
  REQUIRE(r->status == 204);
  CHECK(Range(c, "cached", 0, 60).empty());
  rw("cached", {{45000, 4}});
  lp("cached_lp,host=a value=5 45\n");
  CHECK(Range(c, "cached", 0, 60) == "45:4 60:4");
  CHECK(Range(c, "cached_lp", 0, 60) == "45:5 60:5");
  CHECK(Metric(c, "vigil_ingest_series_cache_hits_total") >= hits + 2);

  // Flush the whole head to blocks: the series leave the head, their cached refs go stale.
  REQUIRE(ts.server->db()->Compact().ok());
  REQUIRE(ts.server->db()->Stats().head_series_removed >= 2);
  // A series created now gets a fresh ref; the stale refs must not lead to it or anywhere else.
  rw("newcomer", {{60000, 100}});
  rw("cached", {{60000, 6}});
  lp("cached_lp,host=a value=7 60\n");
  rw("cached", {{75000, 8}});  // the ref put after the stale hit
  CHECK(Metric(c, "vigil_ingest_series_cache_stale_total") == 2);
  CHECK(Range(c, "cached", 45, 75) == "45:4 60:6 75:8");
  CHECK(Range(c, "cached_lp", 45, 60) == "45:5 60:7");
  CHECK(Range(c, "newcomer", 60, 75) == "60:100 75:100");
  CHECK(Range(c, "count({job=\"w\"})", 60, 60) == "60:2");  // cached and newcomer, nothing else
}

TEST_CASE("Series ref cache off: --write.series-cache=0 exports no cache metrics",
          "[server][write][series_cache]") {
  TestServer ts([](VigildConfig* c) { c->write_series_cache_entries = 0; });
  auto c = ts.Client();
  REQUIRE(c.Request("POST", "/write?precision=s", "nocache value=1 0\n")->status == 204);
  REQUIRE(c.Request("POST", "/write?precision=s", "nocache value=2 15\n")->status == 204);
  CHECK(Range(c, "nocache", 0, 15) == "0:1 15:2");
  auto m = c.Get("/metrics");
  REQUIRE(m.ok());
  CHECK_FALSE(ParseExposition(m->body).Has("vigil_ingest_series_cache_hits_total"));
}

}  // namespace
}  // namespace vigil::server
