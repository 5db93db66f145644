// promql-conformance: runs Prometheus' PromQL test scripts unchanged against the Vigil engine
// and prints passed / failed / skipped per file, the core-tier total and its percentage.
//
//   promql-conformance [--verbose] [--no-range-check] [--dir DIR] [FILE.test ...]
//
// Exit status 0 when the core tier reaches the 97 % target, 1 otherwise, 2 on usage errors.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "query/promqltest/runner.h"

namespace {

// The core tier of ../shared/conformance/promql/README.md.
const std::set<std::string> kCore = {
    "literals",
    "selectors",
    "staleness",
    "operators",
    "aggregators",
    "functions",
    "range_queries",
    "subquery",
    "at_modifier",
    "trig_functions",
    "collision",
    "limit",
    "name_label_dropping",
    "histograms",
};

}  // namespace

int main(int argc, char** argv) {
  using vigil::query::promqltest::RunnerOptions;
  using vigil::query::promqltest::ScriptReport;
  bool verbose = false;
  std::string dir = VIGIL_CONFORMANCE_DIR;
  std::vector<std::string> files;
  RunnerOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--verbose") == 0 || std::strcmp(argv[i], "-v") == 0) {
      verbose = true;
    } else if (std::strcmp(argv[i], "--no-range-check") == 0) {
      options.check_range_mode = false;
    } else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: %s [--verbose] [--no-range-check] [--dir DIR] [FILE.test ...]\n",
                   argv[0]);
      return 2;
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".test") files.push_back(e.path().string());
    }
    if (ec) {
      std::fprintf(stderr, "cannot read %s: %s\n", dir.c_str(), ec.message().c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());

  std::vector<ScriptReport> reports;
  for (const std::string& f : files) {
    auto r = vigil::query::promqltest::RunScriptFile(f, options);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 2;
    }
    reports.push_back(std::move(r).value());
  }

  std::printf("%-26s %-6s %7s %7s %7s %9s %7s\n", "file", "tier", "passed", "failed", "native",
              "skip-oth", "evals");
  int core[5] = {0, 0, 0, 0, 0}, all[5] = {0, 0, 0, 0, 0};
  for (const ScriptReport& r : reports) {
    std::string stem = r.name.substr(0, r.name.rfind(".test"));
    const bool is_core = kCore.count(stem) > 0;
    std::printf("%-26s %-6s %7d %7d %7d %9d %7d\n", r.name.c_str(), is_core ? "core" : "other",
                r.passed, r.failed, r.skipped_native, r.skipped_other, r.Total());
    int v[5] = {r.passed, r.failed, r.skipped_native, r.skipped_other, r.Total()};
    for (int k = 0; k < 5; ++k) {
      all[k] += v[k];
      if (is_core) core[k] += v[k];
    }
  }
  std::printf("%-26s %-6s %7d %7d %7d %9d %7d\n", "TOTAL (all files)", "", all[0], all[1], all[2],
              all[3], all[4]);
  std::printf("%-26s %-6s %7d %7d %7d %9d %7d\n", "TOTAL (core tier)", "", core[0], core[1],
              core[2], core[3], core[4]);
  const int core_run = core[0] + core[1];
  const double pct = core_run == 0 ? 0 : 100.0 * core[0] / core_run;
  std::printf(
      "\ncore tier: %d of %d float evals pass = %.2f%% (target 97%%); %d evals need native "
      "histograms and are counted apart\n",
      core[0], core_run, pct, core[2]);
  std::printf("\nskip reasons:\n");
  for (const ScriptReport& r : reports) {
    for (const auto& [reason, n] : r.skip_reasons) {
      std::printf("  %-26s %4d  %s\n", r.name.c_str(), n, reason.c_str());
    }
  }
  if (verbose) {
    std::printf("\nfailures:\n");
    for (const ScriptReport& r : reports) {
      for (const auto& f : r.failures) {
        std::printf("%s:%d: %s\n    %s\n", r.name.c_str(), f.line, f.expr.c_str(),
                    f.message.c_str());
      }
    }
  }
  return pct >= 97.0 ? 0 : 1;
}
