// vigil-admin forecast-eval [DIR] [--horizon H] [--category NAME] [--verbose]
//   Replays every file of DIR/data/NAME (default ../shared/datasets/nab-dev, realAWSCloudwatch)
//   through the streaming Holt-Winters model with default options and prints H-step-ahead MASE
//   (scaled by the in-sample seasonal naive of one day) for the model, naive and seasonal naive,
//   as geometric means over the files, the model's ratio to the better baseline, and how often the
//   nominal 95 % interval covered the value.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tools/nab/corpus.h"
#include "tools/nab/replay.h"
#include "tools/vigil-admin/command.h"

namespace {

namespace nab = vigil::nab;
namespace qm = vigil::query::models;

int ForecastEval(int argc, char** argv) {
  std::string dir = std::string(VIGIL_DATASETS_DIR) + "/nab-dev";
  std::string category = "realAWSCloudwatch";
  long horizon = 12;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--horizon") == 0 && i + 1 < argc) {
      horizon = std::strtol(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--category") == 0 && i + 1 < argc) {
      category = argv[++i];
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      verbose = true;
    } else if (argv[i][0] != '-') {
      dir = argv[i];
    } else {
      std::fprintf(
          stderr,
          "usage: vigil-admin forecast-eval [DIR] [--horizon H] [--category NAME] [--verbose]\n");
      return 2;
    }
  }
  if (horizon < 1 || horizon > 288) {
    std::fprintf(stderr, "vigil-admin forecast-eval: --horizon must be in 1..288\n");
    return 2;
  }
  vigil::FileSystem* fs = vigil::DefaultFileSystem();
  const std::string data = vigil::JoinPath(vigil::JoinPath(dir, "data"), category);
  auto names = fs->ListDir(data);
  if (!names.ok()) {
    std::fprintf(stderr, "vigil-admin forecast-eval: %s\n", names.status().ToString().c_str());
    return 1;
  }
  std::sort(names->begin(), names->end());
  qm::ForecastOptions options;
  options.horizon = static_cast<uint32_t>(horizon);
  double log_model = 0, log_naive = 0, log_snaive = 0;
  int64_t covered = 0, rows = 0;
  int files = 0;
  for (const std::string& name : *names) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".csv") != 0) continue;
    auto series = nab::ReadSeriesCsv(fs, vigil::JoinPath(data, name));
    if (!series.ok()) {
      std::fprintf(stderr, "vigil-admin forecast-eval: %s\n", series.status().ToString().c_str());
      return 1;
    }
    // One day of rows at the series' own step (NAB's files are 5-minute series).
    const int64_t step =
        series->timestamps.size() > 1 ? series->timestamps[1] - series->timestamps[0] : 300;
    const uint32_t season = static_cast<uint32_t>(86400 / std::max<int64_t>(step, 1));
    const auto forecasts = nab::ReplayForecast(*series, options);
    const nab::ForecastAccuracy acc =
        nab::EvaluateForecast(*series, forecasts, options.horizon, season);
    if (acc.rows == 0 || acc.mase_model <= 0 || acc.mase_naive <= 0 || acc.mase_snaive <= 0) {
      std::fprintf(stderr, "vigil-admin forecast-eval: %s: too short or constant, skipped\n",
                   name.c_str());
      continue;
    }
    if (verbose) {
      std::printf("%-45s model %.3f naive %.3f snaive %.3f ratio %.3f coverage %.3f\n",
                  name.c_str(), acc.mase_model, acc.mase_naive, acc.mase_snaive,
                  acc.mase_model / std::min(acc.mase_naive, acc.mase_snaive),
                  static_cast<double>(acc.covered) / static_cast<double>(acc.rows));
    }
    log_model += std::log(acc.mase_model);
    log_naive += std::log(acc.mase_naive);
    log_snaive += std::log(acc.mase_snaive);
    covered += acc.covered;
    rows += acc.rows;
    ++files;
  }
  if (files == 0) {
    std::fprintf(stderr, "vigil-admin forecast-eval: no usable .csv files in %s\n", data.c_str());
    return 1;
  }
  const double gm_model = std::exp(log_model / files);
  const double gm_naive = std::exp(log_naive / files);
  const double gm_snaive = std::exp(log_snaive / files);
  std::printf("%s: %d files, horizon %ld rows, MASE scaled by in-sample seasonal naive (1 day)\n",
              category.c_str(), files, horizon);
  std::printf("geometric mean MASE: model %.4f  naive %.4f  seasonal naive %.4f\n", gm_model,
              gm_naive, gm_snaive);
  std::printf("model / better baseline: %.4f (target <= 0.9)\n",
              gm_model / std::min(gm_naive, gm_snaive));
  std::printf("nominal %.0f%% interval coverage: %.4f over %lld points (target 0.90-0.98)\n",
              100 * options.coverage, static_cast<double>(covered) / static_cast<double>(rows),
              static_cast<long long>(rows));
  return 0;
}

vigil::admin::CommandRegistration reg{
    "forecast-eval",
    "forecast-eval [DIR] [--horizon H] [--category NAME] [--verbose]  MASE and interval coverage",
    &ForecastEval};

}  // namespace
