// The range query result cache (server/api/range_cache.h): which queries it takes, which steps it
// reuses and recomputes, and that a moved late-write generation makes it recompute everything.

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "query/parser.h"
#include "server/api/range_cache.h"
#include "storage/base/clock.h"
#include "storage/labels.h"

namespace vigil::server {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 3'600'000;

bool CacheableText(std::string_view text) {
  auto e = query::ParseExpr(text, query::ParseOptions::AllEnabled());
  REQUIRE(e.ok());
  return RangeCache::Cacheable(**e);
}

TEST_CASE("range cache: queries whose steps depend only on earlier samples", "[server][cache]") {
  CHECK(CacheableText("up"));
  CHECK(CacheableText("sum by (job) (rate(http_requests_total[5m]))"));
  CHECK(CacheableText("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))"));
  CHECK(CacheableText("max_over_time(deriv(x[10m])[1h:1m])"));
  CHECK(CacheableText("x offset 1h - x"));
  CHECK(CacheableText("time() - timestamp(x)"));
  CHECK_FALSE(CacheableText("x @ 1700000000"));
  CHECK_FALSE(CacheableText("rate(x[5m] @ end())"));
  CHECK_FALSE(CacheableText("sum(x @ start())"));
  CHECK_FALSE(CacheableText("x offset -5m"));
  CHECK_FALSE(CacheableText("max_over_time(x[1h:1m] offset -1h)"));
}

// A fake engine: series a and b, value = t / 1000 (+ 0.5 for b), and every range it was asked.
struct FakeRun {
  std::vector<std::pair<int64_t, int64_t>> calls;
  int64_t step = kMin;
  double bump = 0;  // added to every value (data that changed)
  RangeCache::RunFn fn() {
    return [this](int64_t s, int64_t e) -> Result<query::QueryResult> {
      calls.push_back({s, e});
      query::MatrixValue m;
      for (const char* name : {"a", "b"}) {
        query::Series sr;
        sr.labels = storage::Labels::FromPairs({{"__name__", name}});
        for (int64_t t = s; t <= e; t += step) {
          sr.points.push_back({t, double(t) / 1000 + (name[0] == 'b' ? 0.5 : 0) + bump});
        }
        m.push_back(std::move(sr));
      }
      query::QueryResult r;
      r.value = std::move(m);
      return r;
    };
  }
};

void CheckMatrix(const query::QueryResult& r, int64_t start, int64_t end, int64_t step,
                 double bump = 0) {
  REQUIRE(r.IsMatrix());
  const auto& m = std::get<query::MatrixValue>(r.value);
  REQUIRE(m.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    REQUIRE(m[i].points.size() == size_t((end - start) / step + 1));
    for (size_t k = 0; k < m[i].points.size(); ++k) {
      const int64_t t = start + int64_t(k) * step;
      CHECK(m[i].points[k].t == t);
      CHECK(m[i].points[k].v == double(t) / 1000 + (i == 1 ? 0.5 : 0) + bump);
    }
  }
}

TEST_CASE("range cache: a sliding dashboard recomputes only its new steps", "[server][cache]") {
  ManualClock clock(10 * kHour);
  RangeCache cache({}, &clock);
  auto expr = query::ParseExpr("x").value();
  FakeRun run;
  auto r = cache.Query("x", *expr, 0, 6 * kHour, kMin, 5 * kMin, /*generation=*/7, run.fn());
  REQUIRE(r.ok());
  CheckMatrix(*r, 0, 6 * kHour, kMin);
  REQUIRE(run.calls.size() == 1);

  // The panel moved on by an hour: only the hour after the cached steps is computed.
  r = cache.Query("x", *expr, kHour, 7 * kHour, kMin, 5 * kMin, 7, run.fn());
  REQUIRE(r.ok());
  CheckMatrix(*r, kHour, 7 * kHour, kMin);
  REQUIRE(run.calls.size() == 2);
  CHECK(run.calls[1] == std::pair<int64_t, int64_t>{6 * kHour + kMin, 7 * kHour});
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().steps_reused == 5 * 60 + 1);

  // Entirely cached: nothing computed.
  r = cache.Query("x", *expr, 2 * kHour, 3 * kHour, kMin, 5 * kMin, 7, run.fn());
  REQUIRE(r.ok());
  CheckMatrix(*r, 2 * kHour, 3 * kHour, kMin);
  CHECK(run.calls.size() == 2);

  // Another step, another phase of the grid, another lookback: separate entries.
  FakeRun other;
  other.step = 2 * kMin;
  r = cache.Query("x", *expr, kHour, 2 * kHour, 2 * kMin, 5 * kMin, 7, other.fn());
  REQUIRE(r.ok());
  CHECK(other.calls.size() == 1);
  FakeRun shifted;
  r = cache.Query("x", *expr, kHour + 1000, 2 * kHour + 1000, kMin, 5 * kMin, 7, shifted.fn());
  REQUIRE(r.ok());
  CHECK(shifted.calls.size() == 1);
  r = cache.Query("x", *expr, kHour, 2 * kHour, kMin, 10 * kMin, 7, shifted.fn());
  REQUIRE(r.ok());
  CHECK(shifted.calls.size() == 2);
}

TEST_CASE("range cache: a moved generation recomputes; recent steps are never kept",
          "[server][cache]") {
  ManualClock clock(6 * kHour + 2 * kMin);
  RangeCache cache({}, &clock);
  auto expr = query::ParseExpr("x").value();
  FakeRun run;
  REQUIRE(cache.Query("x", *expr, 0, 6 * kHour, kMin, 5 * kMin, 1, run.fn()).ok());
  // Steps within 5 minutes of the clock (after 5h57m) are recomputed every time.
  REQUIRE(cache.Query("x", *expr, 0, 6 * kHour, kMin, 5 * kMin, 1, run.fn()).ok());
  REQUIRE(run.calls.size() == 2);
  CHECK(run.calls[1] == std::pair<int64_t, int64_t>{6 * kHour - 2 * kMin, 6 * kHour});

  // A late write (the generation moved): the data changed, everything is computed again.
  run.bump = 100;
  auto r = cache.Query("x", *expr, 0, 6 * kHour, kMin, 5 * kMin, 2, run.fn());
  REQUIRE(r.ok());
  CheckMatrix(*r, 0, 6 * kHour, kMin, 100);
  REQUIRE(run.calls.size() == 3);
  CHECK(run.calls[2] == std::pair<int64_t, int64_t>{0, 6 * kHour});
}

TEST_CASE("range cache: uncacheable queries and errors pass through", "[server][cache]") {
  ManualClock clock(10 * kHour);
  RangeCache cache({}, &clock);
  auto at = query::ParseExpr("x @ 100").value();
  FakeRun run;
  REQUIRE(cache.Query("x @ 100", *at, 0, kHour, kMin, 5 * kMin, 1, run.fn()).ok());
  REQUIRE(cache.Query("x @ 100", *at, 0, kHour, kMin, 5 * kMin, 1, run.fn()).ok());
  CHECK(run.calls.size() == 2);
  CHECK(cache.stats().uncacheable == 2);
  CHECK(cache.stats().entries == 0);

  auto expr = query::ParseExpr("x").value();
  auto r = cache.Query("x", *expr, 0, kHour, kMin, 5 * kMin, 1, [](int64_t, int64_t) {
    return Result<query::QueryResult>(Status::Cancelled("query cancelled"));
  });
  CHECK(r.status().code() == StatusCode::kCancelled);
  CHECK(cache.stats().entries == 0);
}

TEST_CASE("range cache: memory stays under its bound", "[server][cache]") {
  ManualClock clock(10 * kHour);
  RangeCache::Options o;
  o.max_bytes = 64 << 10;
  RangeCache cache(o, &clock);
  auto expr = query::ParseExpr("x").value();
  for (int i = 0; i < 50; ++i) {
    FakeRun run;
    const std::string text = "x + " + std::to_string(i);
    REQUIRE(cache.Query(text, *expr, 0, kHour, kMin, 5 * kMin, 1, run.fn()).ok());
    CHECK(cache.stats().bytes <= o.max_bytes);
  }
  CHECK(cache.stats().entries > 0);
  CHECK(cache.stats().entries < 50);
}

TEST_CASE("query cache: instant queries at old times are kept whole, recent ones never",
          "[server][cache]") {
  ManualClock clock(10 * kHour);
  RangeCache cache({}, &clock);
  auto expr = query::ParseExpr("sum(x)").value();
  int calls = 0;
  double value = 1;
  auto run = [&]() -> Result<query::QueryResult> {
    ++calls;
    query::QueryResult r;
    r.value = query::VectorValue{query::Sample{storage::Labels::FromPairs({{"job", "a"}}), {0, value}}};
    r.annotations.push_back({query::AnnotationKind::kInfo, "PromQL info: something"});
    return r;
  };
  const int64_t old_t = 9 * kHour;
  auto a = cache.Instant("sum(x)", *expr, old_t, 5 * kMin, 1, run);
  auto b = cache.Instant("sum(x)", *expr, old_t, 5 * kMin, 1, run);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(calls == 1);
  CHECK(std::get<query::VectorValue>(b->value)[0].point.v == 1);
  CHECK(b->annotations == a->annotations);
  CHECK(cache.stats().hits == 1);
  // Another time, text or lookback is another entry.
  REQUIRE(cache.Instant("sum(x)", *expr, old_t + kMin, 5 * kMin, 1, run).ok());
  REQUIRE(cache.Instant("sum(x)", *expr, old_t, 10 * kMin, 1, run).ok());
  REQUIRE(cache.Instant("sum(x) ", *expr, old_t, 5 * kMin, 1, run).ok());
  CHECK(calls == 4);
  // A moved generation: computed again, the new answer served.
  value = 2;
  auto c = cache.Instant("sum(x)", *expr, old_t, 5 * kMin, 2, run);
  REQUIRE(c.ok());
  CHECK(calls == 5);
  CHECK(std::get<query::VectorValue>(c->value)[0].point.v == 2);
  // Within the minimum age of the clock: never kept.
  const int64_t recent = 10 * kHour - 4 * kMin;
  REQUIRE(cache.Instant("sum(x)", *expr, recent, 5 * kMin, 2, run).ok());
  REQUIRE(cache.Instant("sum(x)", *expr, recent, 5 * kMin, 2, run).ok());
  CHECK(calls == 7);
  // Uncacheable expressions and errors pass through.
  auto at = query::ParseExpr("sum(x @ 100)").value();
  REQUIRE(cache.Instant("sum(x @ 100)", *at, old_t, 5 * kMin, 2, run).ok());
  REQUIRE(cache.Instant("sum(x @ 100)", *at, old_t, 5 * kMin, 2, run).ok());
  CHECK(calls == 9);
  auto err = cache.Instant("sum(y)", *expr, old_t, 5 * kMin, 2,
                           [] { return Result<query::QueryResult>(Status::Cancelled("query cancelled")); });
  CHECK(err.status().code() == StatusCode::kCancelled);
  auto again = cache.Instant("sum(y)", *expr, old_t, 5 * kMin, 2, run);
  REQUIRE(again.ok());
  CHECK(calls == 10);
}

}  // namespace
TEST_CASE("query cache: rendered answers are kept for old steps only, per request and generation",
          "[server][cache]") {
  ManualClock clock(10 * kHour);
  RangeCache::Options o;
  o.max_bytes = 1 << 20;
  RangeCache cache(o, &clock);
  const std::string key =
      RangeCache::RequestKey("query_range", "sum(x)", 8 * kHour, 9 * kHour, kMin, 5 * kMin);
  CHECK(cache.FindBody(key, 1) == nullptr);
  cache.KeepBody(key, 1, 9 * kHour, std::make_shared<const std::string>("{\"status\":\"success\"}"));
  auto body = cache.FindBody(key, 1);
  REQUIRE(body != nullptr);
  CHECK(*body == "{\"status\":\"success\"}");
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().entries == 1);
  // Every part of the request is in the key.
  CHECK(cache.FindBody(RangeCache::RequestKey("query", "sum(x)", 8 * kHour, 9 * kHour, kMin, 5 * kMin), 1) == nullptr);
  CHECK(cache.FindBody(RangeCache::RequestKey("query_range", "sum(x) ", 8 * kHour, 9 * kHour, kMin, 5 * kMin), 1) == nullptr);
  CHECK(cache.FindBody(RangeCache::RequestKey("query_range", "sum(x)", 8 * kHour + kMin, 9 * kHour, kMin, 5 * kMin), 1) == nullptr);
  CHECK(cache.FindBody(RangeCache::RequestKey("query_range", "sum(x)", 8 * kHour, 9 * kHour - kMin, kMin, 5 * kMin), 1) == nullptr);
  CHECK(cache.FindBody(RangeCache::RequestKey("query_range", "sum(x)", 8 * kHour, 9 * kHour, 2 * kMin, 5 * kMin), 1) == nullptr);
  CHECK(cache.FindBody(RangeCache::RequestKey("query_range", "sum(x)", 8 * kHour, 9 * kHour, kMin, 6 * kMin), 1) == nullptr);
  // Another generation: never served, and the entry is dropped.
  CHECK(cache.FindBody(key, 2) == nullptr);
  CHECK(cache.stats().entries == 0);
  CHECK(cache.FindBody(key, 1) == nullptr);
  // A newest step within the minimum age is never kept.
  const std::string recent =
      RangeCache::RequestKey("query", "sum(x)", 10 * kHour - 4 * kMin, 10 * kHour - 4 * kMin, 0, 5 * kMin);
  cache.KeepBody(recent, 1, 10 * kHour - 4 * kMin, std::make_shared<const std::string>("b"));
  CHECK(cache.FindBody(recent, 1) == nullptr);
  // Bodies count against the memory bound.
  for (int i = 0; i < 20; ++i) {
    cache.KeepBody(RangeCache::RequestKey("query", "x" + std::to_string(i), kHour, kHour, 0, 5 * kMin), 1,
                   kHour, std::make_shared<const std::string>(200 << 10, 'x'));
    CHECK(cache.stats().bytes <= o.max_bytes);
  }
  CHECK(cache.stats().entries >= 1);
  CHECK(cache.stats().entries < 20);
  // A disabled cache keeps nothing.
  RangeCache off({0, 5 * kMin}, &clock);
  off.KeepBody(key, 1, kHour, std::make_shared<const std::string>("b"));
  CHECK(off.FindBody(key, 1) == nullptr);
}

}  // namespace vigil::server
