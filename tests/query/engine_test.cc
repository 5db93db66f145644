#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "query/engine.h"
#include "query/promqltest/mem_storage.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "storage/head/head.h"

namespace vigil::query {
namespace {

using promqltest::MemStorage;

storage::Labels L(std::initializer_list<storage::Label> l) { return storage::Labels::FromPairs(l); }

// Serves queries from a Head, as the server will from the Db.
class HeadQueryable final : public Queryable {
 public:
  explicit HeadQueryable(storage::Head* head) : head_(head) {}
  Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) override {
    return head_->NewQuerier(min_t, max_t);
  }

 private:
  storage::Head* head_;
};

void Fill(MemStorage* s, int series, int samples, int64_t interval) {
  for (int i = 0; i < series; ++i) {
    auto ls = L({{"__name__", "x"}, {"job", i % 2 ? "a" : "b"}, {"i", std::to_string(i)}});
    for (int k = 0; k < samples; ++k) s->Add(ls, k * interval, k * 1.0);
  }
}

TEST_CASE("Instant and range queries return typed results", "[query][engine]") {
  MemStorage s;
  Fill(&s, 4, 100, 15000);
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(s, "sum by (job) (rate(x[5m]))", 1200000);
  REQUIRE(r.ok());
  REQUIRE(r->IsVector());
  auto& v = std::get<VectorValue>(r->value);
  REQUIRE(v.size() == 2);
  CHECK(std::fabs(v[0].point.v - 2.0 / 15) < 1e-9);
  CHECK(v[0].point.t == 1200000);

  auto sc = engine.InstantQuery(s, "1 + 2", 0);
  REQUIRE(sc.ok());
  CHECK(std::get<ScalarValue>(sc->value).point.v == 3);

  auto str = engine.InstantQuery(s, "\"hi\"", 0);
  REQUIRE(str.ok());
  CHECK(std::get<StringValue>(str->value).value == "hi");

  auto rg = engine.RangeQuery(s, "x{i=\"1\"}", 0, 600000, 60000);
  REQUIRE(rg.ok());
  auto& m = std::get<MatrixValue>(rg->value);
  REQUIRE(m.size() == 1);
  CHECK(m[0].points.size() == 11);
  CHECK(m[0].points[10].v == 40);

  auto bad = engine.RangeQuery(s, "x[5m]", 0, 60000, 60000);
  CHECK(bad.status().IsInvalidArgument());
  auto parse = engine.InstantQuery(s, "sum(", 0);
  CHECK(parse.status().IsInvalidArgument());
}

TEST_CASE("max_samples fails the query with ResourceExhausted", "[query][engine]") {
  MemStorage s;
  Fill(&s, 10, 100, 15000);
  EngineOptions o;
  o.max_samples = 500;
  Engine engine(o);
  auto r = engine.RangeQuery(s, "x", 0, 1500000, 15000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  CHECK(r.status().message().find("too many samples") != std::string::npos);
  // The engine stays usable.
  auto ok = engine.InstantQuery(s, "count(x)", 100000);
  REQUIRE(ok.ok());
}

TEST_CASE("Cancellation and timeout stop a query", "[query][engine]") {
  MemStorage s;
  Fill(&s, 50, 2000, 15000);
  QueryContext ctx;
  ctx.cancelled = true;
  Engine engine(EngineOptions{});
  auto r = engine.RangeQuery(s, "sum(rate(x[5m]))", 0, 30000000, 15000, &ctx);
  CHECK(r.status().code() == StatusCode::kCancelled);

  EngineOptions o;
  o.timeout_ms = 1;
  Engine slow(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto t = slow.RangeQuery(s, "sum(rate(x[5m])) + sum(x)", 0, 30000000, 15000);
  if (!t.ok()) CHECK(t.status().code() == StatusCode::kDeadlineExceeded);
}

TEST_CASE("Queries read through the head's querier", "[query][engine][head]") {
  storage::Head head(storage::HeadOptions{});
  auto app = head.NewAppender(nullptr);
  for (int i = 0; i < 3; ++i) {
    auto ls = L({{"__name__", "up"}, {"instance", std::to_string(i)}});
    for (int k = 0; k <= 20; ++k) REQUIRE(app->Append(ls, k * 30000, i * 10 + k).ok());
  }
  REQUIRE(app->Commit().ok());
  HeadQueryable q(&head);
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(q, "sum(up)", 600000);
  REQUIRE(r.ok());
  CHECK(std::get<VectorValue>(r->value)[0].point.v == 60 + 30);
  auto rr = engine.RangeQuery(q, "max_over_time(up[1m])", 0, 600000, 60000);
  REQUIRE(rr.ok());
  CHECK(std::get<MatrixValue>(rr->value).size() == 3);
  auto stale = engine.InstantQuery(q, "up", 600000 + 5 * 60000);
  REQUIRE(stale.ok());
  CHECK(std::get<VectorValue>(stale->value).empty());
}

TEST_CASE("Aggregations with more group-steps than the series-by-series budget answer the same",
          "[query][engine]") {
  // 4000 groups x 1001 steps of accumulators (~190 MB) take the step-by-step loop; 3 groups the
  // series-by-series one. Both must give each group the sum of its series.
  MemStorage s;
  for (int i = 0; i < 4000; ++i) {
    auto ls = L({{"__name__", "x"}, {"g", std::to_string(i % 3)}, {"i", std::to_string(i)}});
    for (int k = 0; k <= 100; ++k) s.Add(ls, k * 60000, i + k * 0.25);
  }
  Engine engine(EngineOptions{});
  auto many = engine.RangeQuery(s, "sum by (i) (x)", 0, 6000000, 6000);
  auto few = engine.RangeQuery(s, "sum by (g) (x)", 0, 6000000, 6000);
  REQUIRE(many.ok());
  REQUIRE(few.ok());
  const auto& m = std::get<MatrixValue>(many->value);
  REQUIRE(m.size() == 4000);
  for (const Series& sr : m) {
    const double i = std::stod(std::string(sr.labels.Get("i")));
    REQUIRE(sr.points.size() == 1001);
    for (const Point& p : sr.points) REQUIRE(p.v == i + static_cast<double>(p.t / 60000) * 0.25);
  }
  const auto& f = std::get<MatrixValue>(few->value);
  REQUIRE(f.size() == 3);
  for (const Series& sr : f) {
    const int g = std::stoi(std::string(sr.labels.Get("g")));
    const Point& p = sr.points[500];  // t = 3000 s: sample k = 50 of every series
    double want = 0;
    for (int i = g; i < 4000; i += 3) want += i + 50 * 0.25;
    CHECK(p.v == want);
  }
}

// Every value bit for bit (NaN payloads included), labels, timestamps and annotations.
std::string Dump(const QueryResult& r) {
  std::ostringstream o;
  auto bits = [](double v) { return std::bit_cast<uint64_t>(v); };
  if (const auto* v = std::get_if<VectorValue>(&r.value)) {
    for (const Sample& s : *v) o << s.labels.ToString() << " " << s.point.t << " " << bits(s.point.v) << "\n";
  } else if (const auto* m = std::get_if<MatrixValue>(&r.value)) {
    for (const Series& s : *m) {
      o << s.labels.ToString();
      for (const Point& p : s.points) o << " " << p.t << ":" << bits(p.v);
      o << "\n";
    }
  } else if (const auto* sc = std::get_if<ScalarValue>(&r.value)) {
    o << sc->point.t << " " << bits(sc->point.v) << "\n";
  }
  for (const Annotation& a : r.annotations) o << "annotation " << static_cast<int>(a.kind) << " " << a.message << "\n";
  o << "loaded " << r.samples_loaded << "\n";
  return o.str();
}

// sum, avg, ... directly over a range function fold each series into its group as it is made
// (aggregations.cc); `(f(...) * 1)` takes the usual path, all series first. Same bits, same
// annotations, same samples loaded — also when the groups pass the fold budget midway and the
// later groups' series are held and summed step by step.
TEST_CASE("Aggregations folded over a range function answer as over all its series",
          "[query][engine]") {
  MemStorage s;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 40; ++i) {
    // Counters with resets, a gauge (rate() over it: the counter annotation), a stale gap.
    const std::string name = i % 10 == 9 ? "y" : "x_total";
    auto ls = L({{"__name__", name}, {"job", "j" + std::to_string(i % 3)}, {"i", std::to_string(i)},
                 {"k", std::to_string(i % 35)}});
    double v = 0;
    for (int k = 0; k < 400; ++k) {
      if (i % 7 == 3 && k > 100 && k < 130) continue;
      v = rng() % 50 == 0 ? static_cast<double>(rng() % 10) : v + static_cast<double>(rng() % 100) / 4;
      s.Add(ls, k * 15000 + static_cast<int64_t>(i), i % 10 == 9 ? static_cast<double>(rng() % 1000) / 8 : v);
    }
  }
  Engine engine(EngineOptions{});
  const std::vector<std::string> aggs = {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar"};
  const std::vector<std::string> groupings = {"", " by (job)", " without (i)", " by (i)"};
  const std::vector<std::string> funcs = {"rate({__name__=~\"x_total|y\"}[5m])", "increase(x_total[2m])",
                                          "avg_over_time(x_total[3m])", "last_over_time(y[1m])"};
  for (const std::string& agg : aggs) {
    for (const std::string& by : groupings) {
      for (const std::string& f : funcs) {
        const std::string folded = agg + by + " (" + f + ")";
        const std::string usual = agg + by + " (" + f + " * 1)";
        INFO(folded);
        auto a = engine.RangeQuery(s, folded, 0, 6000000, 60000);
        auto b = engine.RangeQuery(s, usual, 0, 6000000, 60000);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        CHECK(Dump(*a) == Dump(*b));
        auto ia = engine.InstantQuery(s, folded, 3000000);
        auto ib = engine.InstantQuery(s, usual, 3000000);
        REQUIRE(ia.ok());
        REQUIRE(ib.ok());
        CHECK(Dump(*ia) == Dump(*ib));
      }
    }
  }
  // 15001 steps of 40-byte accumulators: 27 groups' rows fit in the 16 MiB fold budget. By (i):
  // 40 groups, the last 13 held. By (k) (i % 35, groups first met in label order "0", "1", "10",
  // ...): 35 groups, some with a row still receiving series after the budget is passed.
  for (const std::string& agg : {std::string("sum"), std::string("max"), std::string("avg")}) {
    for (const auto& [by, groups] : {std::pair<std::string, size_t>{"i", 40}, {"k", 35}}) {
      const std::string folded = agg + " by (" + by + ") (rate({__name__=~\"x_total|y\"}[5m]))";
      const std::string usual = agg + " by (" + by + ") (rate({__name__=~\"x_total|y\"}[5m]) * 1)";
      INFO(folded);
      auto a = engine.RangeQuery(s, folded, 0, 6000000, 400);
      auto b = engine.RangeQuery(s, usual, 0, 6000000, 400);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(std::get<MatrixValue>(a->value).size() == groups);
      CHECK(Dump(*a) == Dump(*b));
    }
  }
}

// A range query's rate() and increase() sum counter resets from running sums (functions_range.cc
// ResetSums); each step must still be what an instant query at that time (a window summed sample by
// sample) answers: the same bits when a window holds at most one reset, within 1e-12 relative
// otherwise, and the same bits for series whose running sums are not finite.
TEST_CASE("rate() and increase() of a range query agree with each step's instant query", "[query][engine]") {
  MemStorage s;
  std::mt19937_64 rng(11);
  double counter = 5, gauge = 500;
  int64_t mono_t = 0;
  for (int k = 0; k < 600; ++k) {
    const int64_t t = int64_t{k} * 15000 + static_cast<int64_t>(rng() % 7);
    counter = k % 40 == 39 ? static_cast<double>(rng() % 3) : counter + static_cast<double>(rng() % 1000) / 3.0;
    gauge += static_cast<double>(static_cast<int>(rng() % 2001) - 1000) / 9.0;
    s.Add(L({{"__name__", "c"}, {"kind", "counter"}}), t, counter);
    s.Add(L({{"__name__", "c"}, {"kind", "gauge"}}), t, gauge);
    // Resets from +Inf and from values whose sum overflows: summed window by window.
    s.Add(L({{"__name__", "c"}, {"kind", "inf"}}), t, k % 50 == 10 ? INFINITY : static_cast<double>(k % 50));
    s.Add(L({{"__name__", "c"}, {"kind", "huge"}}), t, k % 2 ? 1.5e308 : 1e307);
    // A counter that never resets (nothing to sum) and one starting at zero (extrapolation stops
    // at the zero point).
    // (with gaps, so that windows start and end far from their samples).
    // Its samples come at irregular intervals of 5-25 s.
    mono_t += 5000 + static_cast<int64_t>(rng() % 20000);
    if ((k < 100 || k >= 130) && k % 37 != 5) {
      s.Add(L({{"__name__", "c"}, {"kind", "monotonic"}}), mono_t, 1e6 + k * 7.25 + static_cast<double>(rng() % 5));
    }
    s.Add(L({{"__name__", "c"}, {"kind", "from_zero"}}), t, k * 0.5);
  }
  EngineOptions o;
  o.parallelism = 1;
  Engine engine(o);
  // The counter resets every 40 samples (10 minutes): windows up to 5m hold at most one reset.
  for (const auto& [expr, one_reset] : std::vector<std::pair<const char*, bool>>{
           {"rate(c[5m])", true}, {"increase(c[5m])", true}, {"rate(c[1h])", false}, {"increase(c[90s])", true}}) {
    INFO(expr);
    auto r = engine.RangeQuery(s, expr, 0, 9000000, 60000);
    REQUIRE(r.ok());
    const auto& m = std::get<MatrixValue>(r->value);
    REQUIRE(m.size() == 6);
    size_t compared = 0, inexact = 0;
    for (const Series& series : m) {
      const std::string kind(series.labels.Get("kind"));
      INFO(kind);
      CHECK(series.points.size() > 100);
      for (const Point& p : series.points) {
        auto i = engine.InstantQuery(s, expr, p.t);
        REQUIRE(i.ok());
        const auto& v = std::get<VectorValue>(i->value);
        auto it = std::find_if(v.begin(), v.end(), [&](const Sample& x) { return x.labels.Get("kind") == kind; });
        REQUIRE(it != v.end());
        const double want = it->point.v;
        ++compared;
        if (kind == "gauge" || (kind == "counter" && !one_reset)) {
          if (kind == "gauge" && std::bit_cast<uint64_t>(want) != std::bit_cast<uint64_t>(p.v)) ++inexact;
          CHECK(std::abs(p.v - want) <= 1e-12 * std::abs(want));
        } else {
          CHECK(std::bit_cast<uint64_t>(want) == std::bit_cast<uint64_t>(p.v));
        }
      }
    }
    CHECK(compared > 400);
    INFO("gauge steps not bit-identical to the sample-by-sample sum: " << inexact);
    CHECK(inexact < compared / 4);
  }
}

// A series longer than what a thread keeps of its decoding buffers (2^18 samples): the buffers are
// released after it and grown again by the next query, which must answer the same.
TEST_CASE("A series longer than the kept buffers answers the same twice", "[query][engine]") {
  MemStorage s;
  const int64_t n = 300000;
  double v = 0;
  for (int64_t k = 0; k < n; ++k) {
    v = k % 1000 == 999 ? 1 : v + 0.5;  // resets now and then
    s.Add(L({{"__name__", "long_total"}}), k * 1000, v);
  }
  EngineOptions o;
  o.parallelism = 1;
  Engine engine(o);
  auto a = engine.RangeQuery(s, "rate(long_total[10m])", 0, n * 1000, 3600000);
  auto b = engine.RangeQuery(s, "rate(long_total[10m])", 0, n * 1000, 3600000);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(Dump(*a) == Dump(*b));
  const auto& m = std::get<MatrixValue>(a->value);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].points.size() > 80);
  for (size_t k = 0; k < m[0].points.size(); k += 10) {
    auto i = engine.InstantQuery(s, "rate(long_total[10m])", m[0].points[k].t);
    REQUIRE(i.ok());
    const auto& vec = std::get<VectorValue>(i->value);
    REQUIRE(vec.size() == 1);
    CHECK(std::bit_cast<uint64_t>(vec[0].point.v) == std::bit_cast<uint64_t>(m[0].points[k].v));
  }
  auto c = engine.InstantQuery(s, "count_over_time(long_total[400000s])", n * 1000);
  REQUIRE(c.ok());
  CHECK(std::get<VectorValue>(c->value).at(0).point.v == static_cast<double>(n));
}

// 600 series (so that series are decoded and windows slid on several threads): counters with
// resets, noisy gauges, stale markers and gaps, under two metric names, one of which does not look
// like a counter.
template <typename AppendFn>
void AppendManySeries(AppendFn append) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 600; ++i) {
    auto ls = L({{"__name__", i % 3 == 0 ? "gauge" : "requests_total"}, {"job", std::to_string(i % 7)},
                 {"i", std::to_string(i)}});
    double v = static_cast<double>(rng() % 1000);
    for (int k = 0; k < 400; ++k) {
      if (i % 11 == 0 && k > 150 && k < 200) continue;  // a gap
      if (i % 3 == 0) {
        v += static_cast<double>(static_cast<int>(rng() % 200) - 100) / 7.0;
      } else {
        v = rng() % 97 == 0 ? 0 : v + static_cast<double>(rng() % 50);  // resets now and then
      }
      double x = v;
      if (i % 13 == 0 && k == 300) x = std::bit_cast<double>(storage::kStaleNaNBits);
      append(ls, int64_t{k} * 15000 + static_cast<int64_t>(i % 5), x);
    }
  }
}

void CheckSerialEqualsParallel(Queryable& q) {
  EngineOptions serial_options;
  serial_options.parallelism = 1;
  EngineOptions parallel_options;
  parallel_options.parallelism = 4;
  Engine serial(serial_options), parallel(parallel_options);
  for (const char* expr : {"rate(requests_total[5m])", "sum by (job) (rate(requests_total[5m]))",
                           "increase(requests_total[2m])", "rate(gauge[5m])", "irate(gauge[1m])",
                           "avg_over_time({__name__=~\".+\"}[10m])", "quantile_over_time(0.9, gauge[7m])",
                           "max_over_time(gauge[30s])", "changes(requests_total[5m])", "resets(requests_total[5m])",
                           "deriv(gauge[5m])", "predict_linear(gauge[10m], 600)", "gauge", "{__name__=~\".+\"}",
                           "count_over_time(requests_total[1m:15s])", "topk(5, last_over_time(gauge[1h]))"}) {
    INFO(expr);
    auto a = serial.RangeQuery(q, expr, 0, 6000000, 60000);
    auto b = parallel.RangeQuery(q, expr, 0, 6000000, 60000);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(Dump(*a).size() > 100);
    CHECK(Dump(*a) == Dump(*b));
    auto ai = serial.InstantQuery(q, expr, 4000000);
    auto bi = parallel.InstantQuery(q, expr, 4000000);
    REQUIRE(ai.ok());
    REQUIRE(bi.ok());
    CHECK(Dump(*ai) == Dump(*bi));
  }
  // The counter hint is raised once, for the first series with a window, on either path.
  auto info = parallel.RangeQuery(q, "rate(gauge[5m])", 0, 600000, 60000);
  REQUIRE(info.ok());
  REQUIRE(info->annotations.size() == 1);
  CHECK(info->annotations[0].message.find("metric might not be a counter") != std::string::npos);
}

TEST_CASE("Queries over many series give the same answer on one thread and on several", "[query][engine][head]") {
  storage::Head head(storage::HeadOptions{});
  auto app = head.NewAppender(nullptr);
  AppendManySeries([&](const storage::Labels& ls, int64_t t, double v) { REQUIRE(app->Append(ls, t, v).ok()); });
  REQUIRE(app->Commit().ok());
  HeadQueryable q(&head);
  CheckSerialEqualsParallel(q);
}

TEST_CASE("Queries over many series in blocks give the same answer on one thread and on several",
          "[query][engine][db]") {
  auto fs = NewMemFileSystem();
  storage::DbOptions o;
  o.fs = fs.get();
  o.background_compaction = false;
  o.retention_ms = 0;
  auto db = storage::Db::Open(o, "/db");
  REQUIRE(db.ok());
  {
    auto app = (*db)->NewAppender();
    AppendManySeries([&](const storage::Labels& ls, int64_t t, double v) { REQUIRE(app->Append(ls, t, v).ok()); });
    REQUIRE(app->Commit().ok());
  }
  REQUIRE((*db)->Compact().ok());
  REQUIRE(!(*db)->Blocks().empty());
  DbQueryable q(db->get());
  CheckSerialEqualsParallel(q);
}

}  // namespace
}  // namespace vigil::query
