#include <catch2/catch.hpp>

#include "tools/vigil/api.h"
#include "tools/vigil/render.h"

using namespace vigil::shell;

namespace {

QueryResult Decode(std::string_view data_json, bool range = false) {
  auto data = JsonValue::Parse(data_json);
  REQUIRE(data.ok());
  QueryResult r;
  r.data = *data;
  REQUIRE(DecodeQueryData(r.data, &r).ok());
  r.range = range;
  return r;
}

const char* kVector =
    R"({"resultType":"vector","result":[)"
    R"({"metric":{"__name__":"up","job":"api","instance":"a:9100"},"value":[1700000000,"1"]},)"
    R"({"metric":{"__name__":"up","job":"db"},"value":[1700000000,"0.5"]}]})";

}  // namespace

TEST_CASE("Instant vectors print labels as columns when they fit", "[tools][shell][render]") {
  QueryResult r = Decode(kVector);
  RenderOptions o;
  o.width = 80;
  CHECK(RenderTable(r, o) ==
        "__name__  instance  job  value\n"
        "────────  ────────  ───  ─────\n"
        "up        a:9100    api      1\n"
        "up                  db     0.5\n");
  o.width = 25;  // too narrow: one series column
  CHECK(RenderTable(r, o) ==
        "series                            value\n"
        "────────────────────────────────  ─────\n"
        "up{instance=\"a:9100\", job=\"api\"}      1\n"
        "up{job=\"db\"}                        0.5\n");
}

TEST_CASE("Scalars, strings and empty results", "[tools][shell][render]") {
  RenderOptions o;
  CHECK(RenderTable(Decode(R"({"resultType":"scalar","result":[4,"2"]})"), o) ==
        "scalar\n──────\n     2\n");
  CHECK(RenderTable(Decode(R"({"resultType":"string","result":[4,"hi"]})"), o) ==
        "string\n──────\nhi\n");
  CHECK(RenderTable(Decode(R"({"resultType":"vector","result":[]})"), o) == "(no data)\n");
  CHECK(RenderCsv(Decode(R"({"resultType":"scalar","result":[4.5,"2"]})")) ==
        "timestamp,value\n4.500,2\n");
}

TEST_CASE("Range results: a column per series, or a row per sample", "[tools][shell][render]") {
  QueryResult r = Decode(
      R"({"resultType":"matrix","result":[)"
      R"({"metric":{"__name__":"rps","job":"api"},"values":[[1700000000,"1"],[1700000060,"2"]]},)"
      R"({"metric":{"__name__":"rps","job":"db"},"values":[[1700000060,"30"]]}]})",
      true);
  RenderOptions o;
  o.width = 80;
  CHECK(RenderTable(r, o) ==
        "time                 {job=\"api\"}  {job=\"db\"}\n"
        "───────────────────  ───────────  ──────────\n"
        "2023-11-14 22:13:20            1\n"
        "2023-11-14 22:14:20            2          30\n");
  o.width = 40;
  CHECK(RenderTable(r, o) ==
        "series          time                 value\n"
        "──────────────  ───────────────────  ─────\n"
        "rps{job=\"api\"}  2023-11-14 22:13:20      1\n"
        "                2023-11-14 22:14:20      2\n"
        "rps{job=\"db\"}   2023-11-14 22:14:20     30\n");
  CHECK(RenderCsv(r) ==
        "__name__,job,timestamp,value\n"
        "rps,api,1700000000.000,1\n"
        "rps,api,1700000060.000,2\n"
        "rps,db,1700000060.000,30\n");
}

TEST_CASE("CSV quotes fields per RFC 4180 and JSON is the API's data", "[tools][shell][render]") {
  QueryResult r =
      Decode(R"({"resultType":"vector","result":[)"
             R"({"metric":{"path":"/a,b","q":"say \"hi\""},"value":[1700000000.5,"NaN"]}]})");
  CHECK(RenderCsv(r) == "path,q,timestamp,value\n\"/a,b\",\"say \"\"hi\"\"\",1700000000.500,NaN\n");
  CHECK(
      RenderJson(r) ==
      R"({"resultType":"vector","result":[{"metric":{"path":"/a,b","q":"say \"hi\""},"value":[1700000000.5,"NaN"]}]})"
      "\n");
}

TEST_CASE("The footer gives counts, range and timing", "[tools][shell][render]") {
  QueryResult r = Decode(kVector);
  r.elapsed_ms = 12.34;
  CHECK(RenderFooter(r) == "2 series, 2 samples · 12.3ms");
  r.range = true;
  r.start_ms = 1'700'000'000'000;
  r.end_ms = 1'700'003'600'000;
  r.step_ms = 60'000;
  CHECK(RenderFooter(r) ==
        "2 series, 2 samples · 2023-11-14 22:13:20 → 2023-11-14 23:13:20 step 1m · 12.3ms");
}

namespace {

QueryResult LineData(bool with_band) {
  std::string json = R"({"resultType":"matrix","result":[)";
  auto series = [&](const char* name, const char* job, auto f) {
    json += std::string(R"({"metric":{"__name__":")") + name + R"(","job":")" + job +
            R"("},"values":[)";
    for (int i = 0; i <= 60; ++i) {
      if (i > 0) json += ",";
      json += "[" + std::to_string(1700000000 + i * 60) + ",\"" + std::to_string(f(i)) + "\"]";
    }
    json += "]},";
  };
  series("load", "api", [](int i) { return double(i); });
  series("load", "db", [](int i) { return 60.0 - i; });
  if (with_band) {
    series("load:upper", "api", [](int i) { return i + 10.0; });
    series("load:lower", "api", [](int i) { return i - 10.0; });
  }
  json.pop_back();
  json += "]}";
  QueryResult r = Decode(json, true);
  r.start_ms = 1'700'000'000'000;
  r.end_ms = r.start_ms + 3'600'000;
  r.step_ms = 60'000;
  return r;
}

int CountOf(const std::string& s, std::string_view needle) {
  int n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Charts draw braille lines with axes, time labels and a legend",
          "[tools][shell][render][chart]") {
  QueryResult r = LineData(false);
  RenderOptions o;
  o.width = 80;
  o.chart_height = 10;
  std::string chart = RenderChart(r, o);
  INFO(chart);
  std::vector<std::string> lines;
  for (size_t p = 0, q; p < chart.size(); p = q + 1) {
    q = chart.find('\n', p);
    lines.push_back(chart.substr(p, q - p));
  }
  REQUIRE(lines.size() == 10 + 2 + 2);
  // y axis: max at the top, min at the bottom, labels right-aligned.
  CHECK(lines[0].starts_with("  60 ┤"));
  CHECK(lines[9].starts_with("   0 ┤"));
  CHECK(lines[1].starts_with("     │"));
  // The falling line starts top-left and the rising one ends top-right (and the reverse below).
  auto braille_at_start = [](const std::string& l) { return l.substr(l.find("┤") + 3, 3) >= "⠁"; };
  CHECK(braille_at_start(lines[0]));
  CHECK(braille_at_start(lines[9]));
  CHECK(lines[0].ends_with("⠤"));
  CHECK(lines[9].find("⠤") != std::string::npos);
  // They cross in the middle rows.
  CHECK(lines[4].find("⠉") != std::string::npos);
  CHECK(lines[10].starts_with("     └"));
  CHECK(lines[11].find("22:20") != std::string::npos);
  CHECK(lines[11].find("23:00") != std::string::npos);
  CHECK(lines[12] == "  ━━ {job=\"api\"}");
  CHECK(lines[13] == "  ━━ {job=\"db\"}");
  CHECK(CountOf(chart, "░") == 0);
  CHECK(CountOf(chart, "\033[") == 0);  // no colour unless asked
  o.color = true;
  CHECK(CountOf(RenderChart(r, o), "\033[36m") > 0);
}

TEST_CASE("Charts shade a forecast band between :upper and :lower",
          "[tools][shell][render][chart]") {
  QueryResult r = LineData(true);
  RenderOptions o;
  o.width = 80;
  o.chart_height = 12;
  std::string chart = RenderChart(r, o);
  INFO(chart);
  CHECK(CountOf(chart, "░") > 100);
  CHECK(chart.find("░░ load:lower/:upper{job=\"api\"} (band)") != std::string::npos);
  // The band's own series are not drawn as lines nor listed as lines.
  CHECK(chart.find("━━ load:upper") == std::string::npos);
  CHECK(CountOf(chart, "━━") == 2);
}

TEST_CASE("Charts need a range; gaps break lines", "[tools][shell][render][chart]") {
  RenderOptions o;
  std::string text = RenderChart(Decode(kVector), o);
  CHECK_THAT(text, Catch::Contains("a chart needs a range query"));
  QueryResult r = Decode(
      R"({"resultType":"matrix","result":[{"metric":{},"values":[[0,"0"],[60,"1"],[600,"1"]]}]})",
      true);
  r.start_ms = 0;
  r.end_ms = 600'000;
  r.step_ms = 60'000;
  o.width = 40;
  o.chart_height = 4;
  std::string chart = RenderChart(r, o);
  INFO(chart);
  // The top row holds the point at 60s and the lone point at 600s, with blank columns between.
  std::string top = chart.substr(0, chart.find('\n'));
  CHECK(top.find("     ") != std::string::npos);
}

TEST_CASE("Axis values are short", "[tools][shell][render]") {
  CHECK(FormatAxisValue(0) == "0");
  CHECK(FormatAxisValue(1500) == "1.5k");
  CHECK(FormatAxisValue(24'800'000) == "24.8M");
  CHECK(FormatAxisValue(0.25) == "0.25");
  CHECK(FormatAxisValue(-3e9) == "-3G");
  CHECK(FormatAxisValue(0.00003) == "3e-05");
}

TEST_CASE("Continuous queries and recording rules from /api/v1/rules", "[tools][shell][render]") {
  auto data = JsonValue::Parse(
      R"({"groups":[{"name":"bands","file":"rules.yml","rules":[)"
      R"({"name":"heap:upper","query":"heap * 1.2","health":"ok","evaluationTime":0.000078537,)"
      R"("lastEvaluation":"2026-11-27T07:03:23.302354828Z","type":"recording"},)"
      R"({"name":"heap:lower","query":"heap * 0.8","health":"err","lastError":"boom",)"
      R"("evaluationTime":0.0125,"lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"}],)"
      R"("interval":5,"limit":0}]})");
  REQUIRE(data.ok());
  RenderOptions o;
  auto table = RenderRules(*data, "", o);
  REQUIRE(table.ok());
  CHECK(*table ==
        "group  name        every  health  last run               took  query\n"
        "─────  ──────────  ─────  ──────  ───────────────────  ──────  ──────────\n"
        "bands  heap:upper     5s  ok      2026-11-27 07:03:23    79µs  heap * 1.2\n"
        "bands  heap:lower     5s  err     never                12.5ms  heap * 0.8\n");
  auto one = RenderRules(*data, "heap:lower", o);
  REQUIRE(one.ok());
  CHECK(*one ==
        "name            heap:lower\n"
        "group           bands\n"
        "type            recording\n"
        "interval        5s\n"
        "query           heap * 0.8\n"
        "health          err\n"
        "last evaluation never\n"
        "evaluation time 12.5ms\n"
        "last error      boom\n");
  CHECK(RenderRules(*data, "nope", o).status().IsNotFound());
  CHECK(*RenderRules(*JsonValue::Parse(R"({"groups":[]})"), "", o) == "(no continuous queries)\n");
  CHECK_FALSE(RenderRules(*JsonValue::Parse(R"({"x":1})"), "", o).ok());
}

TEST_CASE("Continuous queries from /api/v1/cq", "[tools][shell][render]") {
  const char* one =
      R"j({"name":"rps","kind":"forecast","expr":"sum(rate(x[5m]))","interval":60,"season":"auto",)j"
      R"("horizon":3600,"coverage":0.95,"labels":{},"group":"vigil_cq","lastEvaluation":1700000000,)"
      R"("nextEvaluation":1700000060,"lagSeconds":0.5,"evaluations":12,"failures":1,"skipped":0,)"
      R"("lastError":"boom","evaluationTime":0.0021,"series":3})";
  auto obj = JsonValue::Parse(one);
  REQUIRE(obj.ok());
  RenderOptions o;
  auto text = RenderCqs(*obj, o);
  REQUIRE(text.ok());
  CHECK(*text ==
        "name            rps\n"
        "kind            forecast\n"
        "expr            sum(rate(x[5m]))\n"
        "interval        1m\n"
        "season          auto\n"
        "horizon         1h\n"
        "coverage        0.95\n"
        "group           vigil_cq\n"
        "series          3\n"
        "last evaluation 2023-11-14 22:13:20\n"
        "next evaluation 2023-11-14 22:14:20\n"
        "lag             500ms\n"
        "evaluations     12\n"
        "failures        1\n"
        "skipped         0\n"
        "evaluation time 2.10ms\n"
        "last error      boom\n");
  auto list = JsonValue::Parse(std::string("[") + one + "]");
  REQUIRE(list.ok());
  text = RenderCqs(*list, o);
  REQUIRE(text.ok());
  CHECK(*text ==
        "name  kind      every  series  last run               lag  failures  expr\n"
        "────  ────────  ─────  ──────  ───────────────────  ─────  ────────  "
        "───────────────────────────────\n"
        "rps   forecast     1m       3  2023-11-14 22:13:20  500ms         1  "
        "sum(rate(x[5m]))  (error: boom)\n");
  CHECK(*RenderCqs(*JsonValue::Parse("[]"), o) == "(no continuous queries)\n");
  CHECK_FALSE(RenderCqs(*JsonValue::Parse("3"), o).ok());
}
