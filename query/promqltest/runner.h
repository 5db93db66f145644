#pragma once

// The promqltest script runner: executes Prometheus' `load` / `clear` / `eval` test scripts
// (format: ../shared/conformance/promql/README.md, query/promqltest/README.md) against the Vigil
// engine and an in-memory store, and reports per eval: passed, failed (with the reason) or
// skipped (with the reason; evals needing native histograms are counted apart).
//
// Thread safety: RunScript keeps no global state; scripts may run concurrently.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "query/engine.h"

namespace vigil::query::promqltest {

struct EvalFailure {
  int line = 0;  // 1-based line of the eval command
  std::string expr;
  std::string message;  // expected vs got
};

struct ScriptReport {
  std::string name;
  int passed = 0;
  int failed = 0;
  int skipped_native = 0;  // data or query needs native histograms
  int skipped_other = 0;
  std::map<std::string, int> skip_reasons;
  std::vector<EvalFailure> failures;
  int Total() const { return passed + failed + skipped_native + skipped_other; }
};

struct RunnerOptions {
  EngineOptions engine;
  // Also run each instant eval as a range query around its time and compare the middle step
  // (Prometheus' step-invariance check).
  bool check_range_mode = true;
};

// Runs one script. Commands that cannot be parsed count as failed evals (load errors fail the
// evals that follow until the next clear).
ScriptReport RunScript(std::string_view name, std::string_view text, const RunnerOptions& options);

// Reads and runs a file; the report's name is the file name without directories.
Result<ScriptReport> RunScriptFile(const std::string& path, const RunnerOptions& options);

}  // namespace vigil::query::promqltest
