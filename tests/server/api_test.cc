// The Prometheus HTTP API of an in-process vigild, called as Grafana's Prometheus datasource
// calls it; checks JSON shapes and Prometheus' error texts and codes.

#include <catch2/catch.hpp>

#include <chrono>

#include "server/http/request.h"
#include "storage/appender.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using testing::Json;
using testing::TestServer;

storage::Labels L(std::initializer_list<storage::Label> l) { return storage::Labels::FromPairs(l); }

// Two jobs of `up` and a counter, one sample every 15 s from t=0 to t=600 s.
void Fill(storage::Db* db) {
  auto app = db->NewAppender();
  for (int64_t t = 0; t <= 600'000; t += 15'000) {
    REQUIRE(app->Append(L({{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}}), t, 1).ok());
    REQUIRE(app->Append(L({{"__name__", "up"}, {"job", "web"}, {"instance", "b:1"}}), t, 0).ok());
    REQUIRE(app->Append(L({{"__name__", "req_total"}, {"job", "api"}}), t, static_cast<double>(t / 1000)).ok());
  }
  REQUIRE(app->Commit().ok());
}

TEST_CASE("Grafana's health check: POST query 1+1 at time 4, then buildinfo", "[server][api]") {
  TestServer ts;
  auto c = ts.Client();
  auto r = c.PostForm("/api/v1/query", "query=1%2B1&time=4");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->Header("content-type") == "application/json");
  CHECK(r->body == R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  r = c.Get("/api/v1/status/buildinfo");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  auto j = Json(r->body);
  CHECK(j["status"].str() == "success");
  for (const char* k : {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}) {
    CAPTURE(k);
    CHECK(j["data"][k].is_string());
  }
  CHECK(j["data"]["version"].str() == "0.1.0-test");
}

TEST_CASE("Instant queries: vector, matrix, string; GET and POST; time formats", "[server][api]") {
  TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();

  auto r = c.Get("/api/v1/query?query=up&time=600");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body ==
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[600,"1"]},)"
        R"({"metric":{"__name__":"up","instance":"b:1","job":"web"},"value":[600,"0"]}]}})");

  r = c.PostForm("/api/v1/query", "query=" + UrlEncode("up{job=\"api\"}[30s]") +
                                      "&time=2024-01-01T00:00:00Z");
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"]["result"].size() == 0);  // no data in 2024
  r = c.PostForm("/api/v1/query", "query=" + UrlEncode("up{job=\"api\"}[30s]") + "&time=600.5");
  REQUIRE(r.ok());
  auto j = Json(r->body);
  CHECK(j["data"]["resultType"].str() == "matrix");
  CHECK(j["data"]["result"][0]["values"].Dump() == R"([[585,"1"],[600,"1"]])");

  r = c.Get("/api/v1/query?query=%22hello%22&time=1.5");
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"].Dump() == R"({"resultType":"string","result":[1.5,"hello"]})");

  r = c.Get("/api/v1/query?query=1%2F0&time=1");
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"]["result"][1].str() == "+Inf");
}

TEST_CASE("Range queries return matrices with float-second timestamps", "[server][api]") {
  TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();
  auto r = c.Get("/api/v1/query_range?query=" + UrlEncode("sum by (job) (up)") +
                 "&start=0&end=60&step=30s");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body ==
        R"({"status":"success","data":{"resultType":"matrix","result":[)"
        R"({"metric":{"job":"api"},"values":[[0,"1"],[30,"1"],[60,"1"]]},)"
        R"({"metric":{"job":"web"},"values":[[0,"0"],[30,"0"],[60,"0"]]}]}})");

  // Grafana's form POST with RFC 3339 bounds and a float step.
  r = c.PostForm("/api/v1/query_range",
                 "query=" + UrlEncode("req_total - req_total offset 1m") + "&start=1970-01-01T00:01:00Z&end=1970-01-01T00:02:00.000Z&step=60");
  REQUIRE(r.ok());
  auto j = Json(r->body);
  CHECK(j["data"]["result"][0]["metric"].Dump() == R"({"job":"api"})");
  CHECK(j["data"]["result"][0]["values"].Dump() == R"([[60,"60"],[120,"60"]])");
}

TEST_CASE("Query errors use Prometheus' types, codes and messages", "[server][api]") {
  TestServer ts;
  auto c = ts.Client();
  struct Case {
    std::string target;
    int status;
    std::string type;
    std::string error;
  };
  std::vector<Case> cases = {
      {"/api/v1/query?query=sum(", 400, "bad_data",
       "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"},
      {"/api/v1/query?query=up&time=abc", 400, "bad_data",
       "invalid parameter \"time\": cannot parse \"abc\" to a valid timestamp"},
      {"/api/v1/query?query=up&timeout=zz", 400, "bad_data",
       "invalid parameter \"timeout\": cannot parse \"zz\" to a valid duration"},
      {"/api/v1/query_range?query=up&start=10&end=0&step=1", 400, "bad_data",
       "end timestamp must not be before start time"},
      {"/api/v1/query_range?query=up&start=0&end=10&step=0", 400, "bad_data",
       "zero or negative query resolution step widths are not accepted. Try a positive integer"},
      {"/api/v1/query_range?query=up&start=0&end=100000&step=1", 400, "bad_data",
       "exceeded maximum resolution of 11000 points per timeseries. Try decreasing the query "
       "resolution (?step=XX)"},
      {"/api/v1/query_range?query=up&end=10&step=1", 400, "bad_data",
       "invalid parameter \"start\": cannot parse \"\" to a valid timestamp"},
      {"/api/v1/query_range?query=up%5B5m%5D&start=0&end=10&step=1", 400, "bad_data",
       "invalid parameter \"query\": invalid expression type \"range vector\" for range query, "
       "must be Scalar or instant Vector"},
      {"/api/v1/query?query=" + UrlEncode("foo bar"), 400, "bad_data", ""},
      {"/api/v1/query?query=" + UrlEncode("label_replace(vector(1), \"a\", \"x\", \"b\", \"(\")") +
           "&time=1",
       422, "execution", "invalid regular expression in label_replace(): ("},
  };
  for (const auto& k : cases) {
    CAPTURE(k.target);
    auto r = c.Get(k.target);
    REQUIRE(r.ok());
    auto j = Json(r->body);
    CHECK(r->status == k.status);
    CHECK(j["status"].str() == "error");
    CHECK(j["errorType"].str() == k.type);
    if (!k.error.empty()) CHECK(j["error"].str() == k.error);
  }
}

TEST_CASE("series, labels and label values with match[], start, end, limit", "[server][api]") {
  TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();

  auto r = c.Get("/api/v1/series?match[]=up&match[]=" + UrlEncode("{job=\"api\"}"));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == R"({"status":"success","data":[{"__name__":"req_total","job":"api"},)"
                   R"({"__name__":"up","instance":"a:1","job":"api"},)"
                   R"({"__name__":"up","instance":"b:1","job":"web"}]})");
  r = c.PostForm("/api/v1/series", "match%5B%5D=up&limit=1&start=0&end=700");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"}],)"
                   R"("warnings":["results truncated due to limit"]})");
  r = c.Get("/api/v1/series?match[]=up&start=1000&end=2000");  // no samples there
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":[]})");
  r = c.Get("/api/v1/series");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Json(r->body)["error"].str() == "no match[] parameter provided");

  r = c.Get("/api/v1/labels");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":["__name__","instance","job"]})");
  r = c.PostForm("/api/v1/labels", "match[]=req_total");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":["__name__","job"]})");

  r = c.Get("/api/v1/label/job/values");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":["api","web"]})");
  r = c.Get("/api/v1/label/__name__/values?match[]=" + UrlEncode("{job=\"web\"}"));
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":["up"]})");
  r = c.Get("/api/v1/label/job/values?limit=1");
  REQUIRE(r.ok());
  CHECK(Json(r->body)["warnings"][0].str() == "results truncated due to limit");
  r = c.Get("/api/v1/label/1bad/values");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Json(r->body)["error"].str() == "invalid label name: \"1bad\"");
  r = c.Get("/api/v1/labels?limit=-1");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
}

TEST_CASE("metadata, exemplars, rules, alerts, status/tsdb", "[server][api]") {
  TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();
  auto r = c.Get("/api/v1/metadata");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":{}})");
  r = c.PostForm("/api/v1/query_exemplars", "query=up&start=0&end=10");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":[]})");
  r = c.Get("/api/v1/rules");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":{"groups":[]}})");
  r = c.Get("/api/v1/alerts");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"status":"success","data":{"alerts":[]}})");

  r = c.Get("/api/v1/status/tsdb?limit=2");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  auto d = Json(r->body)["data"];
  CHECK(d["headStats"].Dump() == R"({"numSeries":3,"numLabelPairs":6,"chunkCount":)" +
                                     std::to_string(ts.server->db()->Stats().head_chunks) +
                                     R"(,"minTime":0,"maxTime":600000})");
  CHECK(d["seriesCountByMetricName"].Dump() ==
        R"([{"name":"up","value":2},{"name":"req_total","value":1}])");
  CHECK(d["labelValueCountByLabelName"].Dump() ==
        R"([{"name":"__name__","value":2},{"name":"instance","value":2}])");
  CHECK(d["memoryInBytesByLabelName"].Dump() ==
        R"([{"name":"__name__","value":11},{"name":"instance","value":6}])");
  CHECK(d["seriesCountByLabelValuePair"].Dump() ==
        R"([{"name":"__name__=up","value":2},{"name":"job=api","value":2}])");
  r = c.Get("/api/v1/status/tsdb?limit=0");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
}

TEST_CASE("format_query and parse_query", "[server][api]") {
  TestServer ts;
  auto c = ts.Client();
  auto r = c.Get("/api/v1/format_query?query=" + UrlEncode("sum(rate(x[5m]))by(job)"));
  REQUIRE(r.ok());
  CHECK(r->body == R"x({"status":"success","data":"sum by (job) (rate(x[5m]))"})x");
  r = c.PostForm("/api/v1/parse_query", "query=" + UrlEncode("-up offset 1m > bool 2"));
  REQUIRE(r.ok());
  auto d = Json(r->body)["data"];
  CHECK(d["type"].str() == "binaryExpr");
  CHECK(d["op"].str() == ">");
  CHECK(d["bool"].bool_value());
  CHECK(d["lhs"].Dump() ==
        R"({"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],)"
        R"("name":"up","offset":60000,"smoothed":false,"startOrEnd":null,"timestamp":null,)"
        R"("type":"vectorSelector"},"op":"-","type":"unaryExpr"})");
  CHECK(d["rhs"].Dump() == R"({"type":"numberLiteral","val":"2"})");
  CHECK(d["matching"].is_null());  // vector-scalar comparison has no matching
  r = c.Get("/api/v1/parse_query?query=" + UrlEncode("a + on(x) group_left(y) b"));
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"]["matching"].Dump() ==
        R"({"card":"many-to-one","fillValues":{"lhs":null,"rhs":null},"include":["y"],)"
        R"("labels":["x"],"on":true})");
  r = c.Get("/api/v1/format_query?query=sum(");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
}

TEST_CASE("Health, readiness and /metrics", "[server][api]") {
  TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();
  auto r = c.Get("/-/healthy");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  r = c.Get("/-/ready");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  REQUIRE(c.Get("/api/v1/query?query=up").ok());
  REQUIRE(c.Get("/api/v1/query?query=sum(").ok());
  r = c.Get("/metrics");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->Header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r->body;
  CHECK(m.find("vigil_http_requests_total{handler=\"/api/v1/query\",code=\"200\"} 1\n") != std::string::npos);
  CHECK(m.find("vigil_http_requests_total{handler=\"/api/v1/query\",code=\"400\"} 1\n") != std::string::npos);
  CHECK(m.find("vigil_queries_total{type=\"instant\",outcome=\"success\"} 1\n") != std::string::npos);
  CHECK(m.find("vigil_query_duration_seconds_count{type=\"instant\"} 1\n") != std::string::npos);
  CHECK(m.find("vigil_head_series 3\n") != std::string::npos);
  CHECK(m.find("# TYPE vigil_wal_size_bytes gauge\n") != std::string::npos);
  CHECK(m.find("vigil_head_samples_appended_total 123\n") != std::string::npos);
}

}  // namespace
}  // namespace vigil::server

namespace vigil::server {
namespace {

TEST_CASE("Hostile parameters get JSON answers and never take the server down", "[server][api]") {
  testing::TestServer ts;
  Fill(ts.server->db());
  auto c = ts.Client();
  const char* endpoints[] = {"/api/v1/query",  "/api/v1/query_range", "/api/v1/series",
                             "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/status/tsdb",
                             "/api/v1/format_query", "/api/v1/parse_query", "/api/v1/metadata"};
  const char* values[] = {"", "NaN", "-Inf", "1e308", "-1e308", "9223372036854775807",
                          "-292273086-05-16T16:47:06Z", "0.0000001", "%00", "%FF%FE", "{", "}}",
                          "up[1y:1ms]", "x offset 10000000y", "up @ 1e300", "((((((((((1))))))))))",
                          "label_replace(up,\"a\",\"$1\",\"job\",\"(.*\")", "\xC3\x28"};
  const char* params[] = {"query", "time", "start", "end", "step", "timeout", "limit", "match[]",
                          "lookback_delta"};
  int requests = 0;
  for (const char* e : endpoints) {
    for (const char* p : params) {
      for (const char* v : values) {
        std::string target = std::string(e) + "?query=up&start=0&end=60&step=15&" + p + "=" +
                             UrlEncode(v);
        auto r = c.Get(target);
        CAPTURE(target);
        REQUIRE(r.ok());
        auto j = Json(r->body);
        CHECK((j["status"].str() == "success" || j["status"].str() == "error"));
        CHECK(r->status < 500);
        ++requests;
      }
    }
  }
  auto r = c.Get("/-/healthy");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  WARN(requests << " hostile requests answered");
}

}  // namespace
}  // namespace vigil::server

namespace vigil::server {
namespace {

TEST_CASE("Range query cache: repeated and sliding queries answer as uncached ones, and writes "
          "into cached steps are seen",
          "[server][api][cache]") {
  TestServer ts;
  storage::Db* db = ts.server->db();
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t base = now - now % 60'000 - 3 * 3'600'000;  // three hours ago, on the minute
  {
    auto app = db->NewAppender();
    for (int64_t t = base; t <= base + 2 * 3'600'000; t += 15'000) {
      for (const char* job : {"api", "web"}) {
        REQUIRE(app->Append(L({{"__name__", "req_total"}, {"job", job}}), t,
                            static_cast<double>((t - base) / 1000) * (job[0] == 'a' ? 1 : 2))
                    .ok());
      }
    }
    REQUIRE(app->Commit().ok());
  }
  auto c = ts.Client();
  const auto range = [&](int64_t start, int64_t end, bool nocache) {
    auto r = c.Get("/api/v1/query_range?query=" + UrlEncode("sum by (job) (rate(req_total[5m]))") +
                   "&start=" + std::to_string(start / 1000) + "&end=" + std::to_string(end / 1000) +
                   "&step=60" + (nocache ? "&nocache=1" : ""));
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return r->body;
  };
  const int64_t s0 = base + 600'000, e0 = base + 90 * 60'000;
  const std::string first = range(s0, e0, false);
  CHECK(range(s0, e0, false) == first);  // from the cache
  CHECK(range(s0, e0, true) == first);
  // Slid by 30 minutes: cached steps joined with new ones, as an uncached query answers.
  CHECK(range(s0 + 1'800'000, e0 + 1'800'000, false) == range(s0 + 1'800'000, e0 + 1'800'000, true));
  REQUIRE(ts.server->api()->range_cache() != nullptr);
  CHECK(ts.server->api()->range_cache()->stats().hits >= 2);

  // A backfilled series inside the cached steps: the next answer includes it.
  {
    auto app = db->NewAppender();
    for (int64_t t = base; t <= base + 2 * 3'600'000; t += 15'000) {
      REQUIRE(app->Append(L({{"__name__", "req_total"}, {"job", "batch"}}), t,
                          static_cast<double>((t - base) / 1000) * 3)
                  .ok());
    }
    REQUIRE(app->Commit().ok());
  }
  const std::string after = range(s0, e0, false);
  CHECK(after != first);
  CHECK(after == range(s0, e0, true));
  CHECK(Json(after)["data"]["result"].size() == 3);

  // Instant queries at an old time: the cached answer is the uncached one, and a backfill is seen.
  const auto instant = [&](int64_t t, bool nocache) {
    auto r = c.Get("/api/v1/query?query=" + UrlEncode("sum by (job) (rate(req_total[5m]))") +
                   "&time=" + std::to_string(t / 1000) + (nocache ? "&nocache=1" : ""));
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return r->body;
  };
  const int64_t ti = base + 3'600'000;
  // A query text too long to parse on an I/O thread: answered by the handler, cached the same.
  {
    const std::string long_text = "sum by (job) (rate(req_total[5m]))" + std::string(20 << 10, ' ');
    std::string first_long;
    for (int i = 0; i < 2; ++i) {
      auto r = c.PostForm("/api/v1/query", "query=" + UrlEncode(long_text) + "&time=" + std::to_string(ti / 1000));
      REQUIRE(r.ok());
      REQUIRE(r->status == 200);
      if (i == 0) first_long = r->body;
      CHECK(r->body == first_long);
    }
    CHECK(Json(first_long)["data"]["result"].size() == 3);
  }
  const uint64_t hits_before = ts.server->api()->range_cache()->stats().hits;
  const std::string i1 = instant(ti, false);
  CHECK(instant(ti, false) == i1);
  CHECK(instant(ti, true) == i1);
  CHECK(ts.server->api()->range_cache()->stats().hits == hits_before + 1);
  CHECK(Json(i1)["data"]["result"].size() == 3);
  {
    auto app = db->NewAppender();
    for (int64_t t = base; t <= base + 2 * 3'600'000; t += 15'000) {
      REQUIRE(app->Append(L({{"__name__", "req_total"}, {"job", "cron"}}), t, static_cast<double>(t - base)).ok());
    }
    REQUIRE(app->Commit().ok());
  }
  const std::string i2 = instant(ti, false);
  CHECK(Json(i2)["data"]["result"].size() == 4);
  CHECK(i2 == instant(ti, true));
}

}  // namespace
}  // namespace vigil::server
