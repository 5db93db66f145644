#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>

#include "query/engine.h"
#include "server/cq/api.h"
#include "server/cq/definition.h"
#include "server/cq/manager.h"
#include "storage/base/clock.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"

namespace vigil::server::cq {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'700'000'000'000 - 1'700'000'000'000 % (10 * kMin);

TEST_CASE("CQ definitions validate, round-trip and parse rule files", "[server][cq]") {
  CqDefinition d;
  d.name = "latency";
  d.expr = "rate(x[5m])";
  d.kind = CqKind::kAnomaly;
  d.labels = {{"team", "core"}};
  REQUIRE(Validate(d).ok());
  Result<std::vector<CqDefinition>> back = DecodeDefinitions(EncodeDefinitions({d}));
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  CHECK((*back)[0] == d);

  CqDefinition bad = d;
  bad.name = "a:b";
  CHECK(Validate(bad).message().find("without ':'") != std::string::npos);
  bad = d;
  bad.expr = "sum(";
  CHECK(Validate(bad).IsInvalidArgument());
  bad = d;
  bad.interval_ms = 10;
  CHECK_FALSE(Validate(bad).ok());

  Result<std::vector<CqDefinition>> rules = ParseRuleFile(R"(
groups:
  - name: g1
    interval: 30s
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
        labels:
          source: rules
)",
                                                          60'000);
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 1);
  CHECK((*rules)[0].interval_ms == 30'000);
  CHECK((*rules)[0].group == "g1");
  CHECK((*rules)[0].labels.at(0).second == "rules");

  Result<std::vector<CqDefinition>> alert = ParseRuleFile(R"(
groups:
  - name: g
    rules:
      - alert: High
        expr: x > 1
)",
                                                          60'000);
  REQUIRE_FALSE(alert.ok());
  CHECK(alert.status().message().find("alerting rules are not supported") != std::string::npos);
  CHECK_FALSE(ParseRuleFile("groups: [ {", 60'000).ok());

  Result<CqDefinition> p = DefinitionFromParams({{"name", "f"},
                                                 {"expr", "x"},
                                                 {"kind", "forecast"},
                                                 {"interval", "5m"},
                                                 {"season", "1d"},
                                                 {"horizon", "1h"}});
  REQUIRE(p.ok());
  CHECK(p->season_ms == 86'400'000);
  CHECK_FALSE(DefinitionFromParams({{"name", "f"}, {"expr", "x"}, {"bogus", "1"}}).ok());
}

struct Fixture {
  std::unique_ptr<MemFileSystem> fs = NewMemFileSystem();
  ManualClock clock{kT0};
  std::unique_ptr<storage::Db> db;

  void OpenDb() {
    storage::DbOptions o;
    o.fs = fs.get();
    o.clock = &clock;
    o.background_compaction = false;
    auto r = storage::Db::Open(o, "/data");
    REQUIRE(r.ok());
    db = std::move(*r);
  }
  void Write(int64_t t, double v) {
    auto app = db->NewAppender();
    REQUIRE(
        app->Append(storage::Labels::FromPairs({{"__name__", "load"}, {"host", "a"}}), t, v).ok());
    REQUIRE(app->Commit().ok());
  }
  std::unique_ptr<CqManager> OpenManager() {
    CqManagerOptions o;
    o.data_dir = "/data";
    o.fs = fs.get();
    o.clock = &clock;
    auto r = CqManager::Open(db.get(), o);
    REQUIRE(r.ok());
    return std::move(*r);
  }
  // The value of `expr` at t (one series expected), NaN if none.
  double Query(const std::string& expr, int64_t t) {
    struct Q : query::Queryable {
      storage::Db* db;
      Result<std::unique_ptr<storage::Querier>> Querier(int64_t a, int64_t b) override {
        return db->NewQuerier(a, b);
      }
    } q;
    q.db = db.get();
    query::Engine engine{query::EngineOptions{}};
    auto r = engine.InstantQuery(q, expr, t);
    REQUIRE(r.ok());
    const auto& v = std::get<query::VectorValue>(r->value);
    return v.size() == 1 ? v[0].point.v : NAN;
  }
};

TEST_CASE("record CQ evaluates on aligned times and catches up within its bound", "[server][cq]") {
  Fixture f;
  f.OpenDb();
  auto m = f.OpenManager();
  CqDefinition d;
  d.name = "load:doubled";
  d.expr = "load * 2";
  REQUIRE(m->Create(d).ok());
  CHECK(m->Create(d).code() == StatusCode::kAlreadyExists);
  for (int i = 0; i <= 10; ++i) {
    f.clock.SetMillis(kT0 + i * kMin);
    f.Write(kT0 + i * kMin, i);
    m->RunDue();
  }
  Result<CqStatus> s = m->Describe("load:doubled");
  REQUIRE(s.ok());
  CHECK(s->evaluations == 11);
  CHECK(s->failures == 0);
  CHECK(s->lag_ms == 0);
  CHECK(f.Query("load:doubled", kT0 + 10 * kMin) == 20);
  CHECK(f.Query("load:doubled{host=\"a\"}", kT0 + 5 * kMin) == 10);

  // Downtime of 100 minutes: at most max_catchup (60) evaluations run, 40 are skipped.
  f.clock.SetMillis(kT0 + 110 * kMin);
  m->RunDue();
  s = m->Describe("load:doubled");
  CHECK(s->evaluations == 11 + 60);
  CHECK(s->skipped == 40);
  CHECK(m->MetricsText().find(
            "vigil_cq_evaluations_skipped_total{cq=\"load:doubled\",kind=\"record\"} 40") !=
        std::string::npos);
  CHECK(m->RuleGroupsJson().find("\"name\":\"load:doubled\"") != std::string::npos);
  REQUIRE(m->Drop("load:doubled").ok());
  CHECK(m->Drop("load:doubled").IsNotFound());
}

TEST_CASE("a failing CQ records its error", "[server][cq]") {
  Fixture f;
  f.OpenDb();
  auto m = f.OpenManager();
  CqDefinition d;
  d.name = "s";
  d.expr = "load[5m]";  // a range vector cannot be recorded
  REQUIRE(m->Create(d).ok());
  f.clock.SetMillis(kT0 + kMin);
  m->RunDue();
  Result<CqStatus> s = m->Describe("s");
  CHECK(s->evaluations == 2);  // at kT0 (created on an aligned time) and kT0 + 1m
  CHECK(s->failures == 2);
  CHECK(m->RuleGroupsJson().find("\"health\":\"err\"") != std::string::npos);
  CHECK(s->last_error.find("instant vector or a scalar") != std::string::npos);
}

TEST_CASE("anomaly CQ band survives a restart with its state", "[server][cq]") {
  Fixture f;
  f.OpenDb();
  auto m = f.OpenManager();
  CqDefinition d;
  d.name = "load_band";
  d.expr = "load";
  d.kind = CqKind::kAnomaly;
  REQUIRE(m->Create(d).ok());
  auto value = [](int i) { return 50 + 10 * std::sin(i / 10.0) + (i % 3); };
  for (int i = 1; i <= 400; ++i) {
    f.clock.SetMillis(kT0 + i * kMin);
    f.Write(kT0 + i * kMin, value(i));
    m->RunDue();
  }
  const double upper_before = f.Query("load_band:upper", kT0 + 400 * kMin);
  REQUIRE(std::isfinite(upper_before));
  CHECK(f.Query("load_band:lower", kT0 + 400 * kMin) < value(400));
  REQUIRE(m->Stop().ok());
  REQUIRE(m->SaveState().ok());
  const CqStatus before = *m->Describe("load_band");

  // A second manager (as after a restart) continues from the saved state.
  m.reset();
  auto again = f.OpenManager();
  Result<CqStatus> s = again->Describe("load_band");
  REQUIRE(s.ok());
  CHECK(s->series == 1);
  CHECK(s->next_eval_ms == before.next_eval_ms);
  // A fresh model with no state for comparison.
  CqDefinition fresh = d;
  fresh.name = "fresh_band";
  REQUIRE(again->Create(fresh).ok());
  f.clock.SetMillis(kT0 + 401 * kMin);
  f.Write(kT0 + 401 * kMin, value(401));
  again->RunDue();
  const double kept = f.Query("load_band:upper", kT0 + 401 * kMin);
  const double learning = f.Query("fresh_band:upper", kT0 + 401 * kMin);
  REQUIRE(std::isfinite(kept));
  // The restored band continues smoothly; the fresh one has no spread yet.
  CHECK(std::abs(kept - upper_before) < 5);
  CHECK(kept != learning);
}

TEST_CASE("CQ HTTP surface creates, lists, describes and drops", "[server][cq]") {
  Fixture f;
  f.OpenDb();
  auto m = f.OpenManager();
  ApiResponse r = HandleCqRequest(*m, "POST", "/api/v1/cq",
                                  {{"name", "load_fc"},
                                   {"expr", "load"},
                                   {"kind", "forecast"},
                                   {"interval", "1m"},
                                   {"season", "none"},
                                   {"horizon", "10m"}},
                                  "");
  CHECK(r.status == 200);
  CHECK(r.body.find("\"name\":\"load_fc\"") != std::string::npos);
  CHECK(HandleCqRequest(*m, "POST", "/api/v1/cq", {{"name", "load_fc"}, {"expr", "load"}}, "")
            .status == 409);
  r = HandleCqRequest(*m, "POST", "/api/v1/cq", {{"name", "x"}, {"expr", "sum("}}, "");
  CHECK(r.status == 400);
  CHECK(r.body.find("\"errorType\":\"bad_data\"") != std::string::npos);
  CHECK(HandleCqRequest(*m, "GET", "/api/v1/cq", {}, "").body.find("load_fc") != std::string::npos);
  CHECK(HandleCqRequest(*m, "GET", "/api/v1/cq/load_fc", {}, "").status == 200);
  CHECK(HandleCqRequest(*m, "GET", "/api/v1/cq/nope", {}, "").status == 404);
  r = HandleCqRequest(*m, "POST", "/api/v1/cq/rules", {},
                      "groups:\n  - name: g\n    rules:\n      - record: r1\n        expr: load\n");
  CHECK(r.status == 200);
  CHECK(m->Describe("r1").ok());
  CHECK(HandleCqRequest(*m, "POST", "/api/v1/cq/rules", {}, "groups: [").status == 400);
  CHECK(HandleCqRequest(*m, "DELETE", "/api/v1/cq/load_fc", {}, "").status == 200);
  CHECK(HandleCqRequest(*m, "DELETE", "/api/v1/cq/load_fc", {}, "").status == 404);
  CHECK(HandleCqRequest(*m, "PATCH", "/api/v1/cq/r1", {}, "").status == 405);

  // Definitions persist: a new manager over the same directory knows r1.
  m.reset();
  auto again = f.OpenManager();
  CHECK(again->Describe("r1").ok());
  CHECK_FALSE(again->Describe("load_fc").ok());
}

TEST_CASE("forecast CQ writes forecasts ahead of time", "[server][cq]") {
  Fixture f;
  f.OpenDb();
  auto m = f.OpenManager();
  CqDefinition d;
  d.name = "load_fc";
  d.expr = "load";
  d.kind = CqKind::kForecast;
  d.season_ms = 0;
  d.horizon_ms = 5 * kMin;
  REQUIRE(m->Create(d).ok());
  for (int i = 1; i <= 100; ++i) {
    f.clock.SetMillis(kT0 + i * kMin);
    f.Write(kT0 + i * kMin, 10 + (i % 2));
    m->RunDue();
  }
  const double fc = f.Query("load_fc:forecast", kT0 + 105 * kMin);
  CHECK(std::abs(fc - 10.5) < 0.6);
  CHECK(f.Query("load_fc:lower", kT0 + 105 * kMin) < fc);
  CHECK(f.Query("load_fc:upper", kT0 + 105 * kMin) > fc);
  CHECK(m->Describe("load_fc")->series == 1);
}

}  // namespace
}  // namespace vigil::server::cq
