#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "query/promqltest/runner.h"

namespace vigil::query::promqltest {
namespace {

// Vigil's own promqltest scripts (tests/query/testdata/*.test): every eval must pass.
TEST_CASE("Vigil's PromQL scripts pass", "[query][promqltest]") {
  const std::string dir = std::string(VIGIL_SOURCE_DIR) + "/tests/query/testdata";
  int files = 0, evals = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".test") continue;
    ++files;
    auto r = RunScriptFile(e.path().string(), RunnerOptions{});
    REQUIRE(r.ok());
    evals += r->Total();
    for (const auto& f : r->failures) {
      FAIL_CHECK(r->name << ":" << f.line << ": " << f.expr << "\n    " << f.message);
    }
    CHECK(r->skipped_native + r->skipped_other == 0);
    CHECK(r->passed == r->Total());
  }
  CHECK(files > 0);
  WARN("Vigil scripts: " << files << " files, " << evals << " evals");
}

TEST_CASE("Runner reports failures, skips and error expectations", "[query][promqltest]") {
  const char* script = R"(
load 1m
  m{a="1"} 1 2 3
  h {{schema:0 sum:1 count:1}}

eval instant at 2m m
  m{a="1"} 3

# wrong on purpose
eval instant at 2m m
  m{a="1"} 4

eval instant at 1m h
  {} 1

eval instant at 1m m +
  expect fail

eval range from 0 to 2m step 1m m * 2
  {a="1"} 2 4 6
)";
  ScriptReport r = RunScript("inline", script, RunnerOptions{});
  CHECK(r.passed == 3);
  CHECK(r.failed == 1);
  CHECK(r.skipped_native == 1);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].line == 10);
}

}  // namespace
}  // namespace vigil::query::promqltest
