// `vigil` as scripts use it: -e, -f, stdin, formats and exit codes.
#include <catch2/catch.hpp>

#include "tests/tools/shell/shell_test_util.h"
#include "tools/vigil/json.h"

using namespace vigil::shell;
using namespace vigil::shell::testing;

namespace {

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), VIGIL_SHELL_BINARY);
  return args;
}

}  // namespace

TEST_CASE("vigil: usage errors exit 2 and name the problem", "[tools][shell][cli]") {
  RunResult r = Run(Vigil({"--format", "xml", "-e", "up"}));
  CHECK(r.exit_code == 2);
  CHECK(r.err == "vigil: --format: unknown format 'xml' (table, csv, json or chart)\n");
  r = Run(Vigil({"--bogus"}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown option '--bogus'"));
  r = Run(Vigil({"--url", "ftp://x", "-e", "up"}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("only http:// and https://"));
  r = Run(Vigil({"--start", "-1h", "-e", "up"}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("needs both --start and --end"));
  r = Run(Vigil({"--token", "a", "--token-file", "/nonexistent", "-e", "up"}));
  CHECK(r.exit_code == 2);
  r = Run(Vigil({"--help"}));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--token-file FILE"));
}

TEST_CASE("vigil: an unreachable server is an error with exit code 1", "[tools][shell][cli]") {
  int port = FreePort();  // nothing listens there
  RunResult r = Run(Vigil({"--url", "http://127.0.0.1:" + std::to_string(port), "-e", "up"}));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("cannot connect to http://127.0.0.1:" + std::to_string(port)));
  CHECK_THAT(r.err, Catch::Contains("Connection refused"));
  CHECK(r.out.empty());
}

TEST_CASE("vigil -e: table, CSV and JSON output from a live server",
          "[.][live][tools][shell][cli]") {
  LiveServer& server = SharedLiveServer();
  const KnownData& d = server.data();
  std::string at = std::to_string(d.end_s);
  std::vector<std::string> base = {"--url", server.url(), "--time", at, "--width", "100"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return Vigil(a);
  };

  SECTION("table") {
    RunResult r = Run(with({"-e", "demo_requests", "-e", "demo_latency_seconds"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("__name__       instance  job  value\n"
                                        "─────────────  ────────  ───  ─────\n"
                                        "demo_requests  a         api  "));
    CHECK_THAT(r.out, Catch::Contains("demo_requests  b         api     80\n"
                                      "2 series, 2 samples · "));
    CHECK_THAT(r.out, Catch::Contains("__name__              instance  job  value\n"
                                      "────────────────────  ────────  ───  ─────\n"
                                      "demo_latency_seconds  c         db    0.25\n"
                                      "1 series, 1 sample · "));
    r = Run(with({"-q", "-e", "sum(demo_requests{instance=\"b\"}) * 2"}));
    CHECK(r.out == "value\n─────\n  160\n");
  }
  SECTION("CSV") {
    RunResult r = Run(with({"--format", "csv", "-e", "demo_latency_seconds", "-e", "2 * 3"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "__name__,instance,job,timestamp,value\ndemo_latency_seconds,c,db," + at +
                       ".000,0.25\ntimestamp,value\n" + at + ".000,6\n");
    // A range query: one row per sample.
    r = Run(Vigil({"--url", server.url(), "--format", "csv", "--start", std::to_string(d.start_s),
                   "--end", std::to_string(d.start_s + 120), "--step", "1m", "-e",
                   "demo_requests{instance=\"b\"}"}));
    REQUIRE(r.exit_code == 0);
    std::string t0 = std::to_string(d.start_s);
    CHECK(r.out ==
          "__name__,instance,job,timestamp,value\n"
          "demo_requests,b,api," +
              t0 +
              ".000,20\n"
              "demo_requests,b,api," +
              std::to_string(d.start_s + 60) +
              ".000,21\n"
              "demo_requests,b,api," +
              std::to_string(d.start_s + 120) + ".000,22\n");
  }
  SECTION("JSON") {
    RunResult r = Run(with({"--format", "json", "-e", "demo_latency_seconds"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.ends_with("\n"));
    auto doc = JsonValue::Parse(r.out);
    REQUIRE(doc.ok());
    CHECK(doc->StringOr("resultType") == "vector");
    const auto& result = doc->Find("result")->array();
    REQUIRE(result.size() == 1);
    CHECK(result[0].Find("metric")->StringOr("instance") == "c");
    CHECK(result[0].Find("value")->array()[1].str() == "0.25");
    CHECK(result[0].Find("value")->array()[0].number() == double(d.end_s));
  }
  SECTION("errors: exit code 1 and the position marked") {
    RunResult r = Run(with({"-e", "demo_requests )", "-e", "demo_latency_seconds"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("parse error"));
    std::string caret = r.err.find("1:15:") != std::string::npos ? std::string(16, ' ') + "^"
                                                                 : std::string(17, ' ') + "^";
    CHECK_THAT(r.err, Catch::Contains("\n  demo_requests )\n" + caret + "\n"));
    // The statement after the failing one still ran.
    CHECK_THAT(r.out, Catch::Contains("demo_latency_seconds  c"));
  }
  SECTION("statements from stdin and -f, with meta commands") {
    std::string script =
        "# a comment\n"
        "\\format csv\n"
        "sum(\n"
        "  demo_requests{instance=\"b\"}\n"
        ")\n"
        "demo_latency_seconds * \\\n"
        "  4\n";
    RunResult r = Run(with({"-q"}), script);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "timestamp,value\n" + at + ".000,80\ninstance,job,timestamp,value\nc,db," + at +
                       ".000,1\n");
    TempDir dir;
    std::ofstream(dir.path() + "/q.promql") << "\\labels demo_requests\nnope(\n";
    r = Run(with({"-q", "-f", dir.path() + "/q.promql"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("instance       2  a, b"));
    CHECK_THAT(r.err, Catch::Contains("q.promql: the statement from line 2 is not finished"));
  }
  SECTION("a meta command's error is marked under its selector") {
    RunResult r = Run(with({"-q", "-e", "\\series demo_requests{job=}"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("parse error"));
    CHECK_THAT(r.err, Catch::Contains("\n  demo_requests{job=}\n"));
    CHECK(std::count(r.err.begin(), r.err.end(), '^') == 1);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 3);  // message, query, caret
  }
  SECTION("status and continuous queries") {
    RunResult r = Run(with({"-q", "-e", "\\status", "-e", "\\cq"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("server "));
    CHECK_THAT(r.out, Catch::Contains("round trip "));
    CHECK_THAT(r.out, Catch::Contains("head numSeries "));
    CHECK_THAT(r.out, Catch::Contains("demo_requests (2 series)"));
    CHECK_THAT(r.out, Catch::EndsWith("(no continuous queries)\n"));
    r = Run(with({"-e", "\\cq show nope"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("nope"));
  }
  SECTION("continuous queries through the CQ API") {
    RunResult r = Run(with({"-q", "-e",
                            "\\cq create shell_double kind=record interval=1s "
                            "demo_latency_seconds * 2",
                            "-e", "\\cq", "-e", "\\cq show shell_double"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("name            shell_double\n"
                                        "kind            record\n"
                                        "expr            demo_latency_seconds * 2\n"
                                        "interval        1s\n"));
    CHECK_THAT(r.out, Catch::Contains("\nshell_double  record     1s  "));
    r = Run(with({"-e", "\\cq drop shell_double", "-e", "\\cq show shell_double"}));
    CHECK(r.exit_code == 1);  // the second statement fails: it is gone
    CHECK_THAT(r.err, Catch::Contains("shell_double"));
    // A bad expression is marked under the expression.
    r = Run(with({"-e", "\\cq create shell_bad interval=1m sum(demo_requests"}));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("\n  sum(demo_requests\n"));
    CHECK_THAT(r.err, Catch::Contains("^"));
  }
  SECTION("meta commands in scripts") {
    RunResult r = Run(with({"-q", "-e", "\\metrics demo", "-e", "\\series demo_requests"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("demo:forecast\ndemo:lower\ndemo:upper\n"
                                        "demo_latency_seconds\ndemo_requests\n"));
    CHECK_THAT(r.out, Catch::EndsWith("__name__       instance  job\n"
                                      "─────────────  ────────  ───\n"
                                      "demo_requests  a         api\n"
                                      "demo_requests  b         api\n"));
  }
}
