// /metrics of an in-process vigild: the series that storage and the ingest paths feed, parsed as
// Prometheus text exposition.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tests/server/metrics_text_util.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using testing::Exposition;
using testing::ParseExposition;
using testing::TestServer;

Exposition Scrape(HttpClient& c) {
  auto r = c.Get("/metrics");
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  return ParseExposition(r->body);
}

TEST_CASE("/metrics: WAL fsync latency histogram after writes with --wal-sync=always",
          "[server][metrics]") {
  TestServer ts([](VigildConfig* c) { c->wal_sync = storage::WalSyncPolicy::kAlways; });
  auto c = ts.Client();
  const std::string fam = "vigil_wal_fsync_duration_seconds";
  const double before = Scrape(c).At(fam + "_count");
  for (int i = 0; i < 3; ++i) {
    auto r = c.Request("POST", "/write?precision=s",
                       "fsync_test value=" + std::to_string(i) + " " + std::to_string(100 + i));
    REQUIRE(r.ok());
    REQUIRE(r->status == 204);
  }
  const Exposition e = Scrape(c);
  CHECK(e.types.at(fam) == "histogram");
  const double count = e.At(fam + "_count");
  CHECK(count >= before + 3);  // one fsync per commit at least
  CHECK(e.At(fam + "_bucket{le=\"+Inf\"}") == count);
  CHECK(e.At(fam + "_sum") >= 0);
  // Cumulative buckets at the documented bounds (50 us .. 10 s, then +Inf), never decreasing.
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  const std::string prefix = fam + "_bucket{le=\"";
  for (const auto& [key, v] : e.samples) {
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string le = key.substr(prefix.size(), key.size() - prefix.size() - 2);
    buckets.emplace_back(le == "+Inf" ? HUGE_VAL : std::stod(le), v);
  }
  std::sort(buckets.begin(), buckets.end());
  REQUIRE(buckets.size() == 18);
  CHECK(buckets.front().first == 5e-05);
  CHECK(buckets[16].first == 10);
  for (size_t i = 1; i < buckets.size(); ++i) CHECK(buckets[i].second >= buckets[i - 1].second);
}

}  // namespace
}  // namespace vigil::server
