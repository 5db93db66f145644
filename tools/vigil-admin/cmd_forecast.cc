// vigil-admin forecast FILE.csv --horizon H [--season auto|none|SECONDS] [--coverage C]
//   Replays a `timestamp,value` CSV through Vigil's streaming Holt-Winters model one row at a time
//   and prints `timestamp,value,forecast,lower,upper`: the forecast for a row was made H rows
//   earlier from the rows up to that point (empty for the first H rows).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "query/models/holt_winters.h"
#include "tools/nab/corpus.h"
#include "tools/nab/replay.h"
#include "tools/vigil-admin/command.h"

namespace {

namespace qm = vigil::query::models;

// Shortest text that reads back as the same double.
std::string Num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

constexpr const char* kUsage =
    "usage: vigil-admin forecast FILE.csv --horizon H [--season auto|none|SECONDS] [--coverage "
    "C]\n";

int Forecast(int argc, char** argv) {
  const char* path = nullptr;
  qm::ForecastOptions options;
  long horizon = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--horizon") == 0 && i + 1 < argc) {
      horizon = std::strtol(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--season") == 0 && i + 1 < argc) {
      const char* s = argv[++i];
      if (std::strcmp(s, "auto") == 0) {
        options.season_ms = qm::ForecastOptions::kAutoSeason;
      } else if (std::strcmp(s, "none") == 0) {
        options.season_ms = 0;
      } else {
        const long seconds = std::strtol(s, nullptr, 10);
        if (seconds <= 0) {
          std::fprintf(stderr, "vigil-admin forecast: --season takes auto, none or seconds > 0\n");
          return 2;
        }
        options.season_ms = seconds * 1000;
      }
    } else if (std::strcmp(argv[i], "--coverage") == 0 && i + 1 < argc) {
      options.coverage = std::strtod(argv[++i], nullptr);
      if (!(options.coverage > 0 && options.coverage < 1)) {
        std::fprintf(stderr, "vigil-admin forecast: --coverage must be in (0, 1)\n");
        return 2;
      }
    } else if (argv[i][0] != '-' && path == nullptr) {
      path = argv[i];
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (path == nullptr || horizon < 1 || horizon > static_cast<long>(qm::HoltWinters::kMaxHorizon)) {
    std::fputs(kUsage, stderr);
    if (path != nullptr)
      std::fprintf(stderr, "--horizon must be in 1..%u\n", qm::HoltWinters::kMaxHorizon);
    return 2;
  }
  options.horizon = static_cast<uint32_t>(horizon);
  auto series = vigil::nab::ReadSeriesCsv(vigil::DefaultFileSystem(), path);
  if (!series.ok()) {
    std::fprintf(stderr, "vigil-admin forecast: %s\n", series.status().ToString().c_str());
    return 1;
  }
  const auto forecasts = vigil::nab::ReplayForecast(*series, options);
  std::printf("timestamp,value,forecast,lower,upper\n");
  for (size_t i = 0; i < series->values.size(); ++i) {
    const qm::ForecastPoint& f = forecasts[i];
    std::printf("%s,%s", series->timestamp_text[i].c_str(), Num(series->values[i]).c_str());
    if (std::isnan(f.value)) {
      std::printf(",,,\n");
    } else {
      std::printf(",%s,%s,%s\n", Num(f.value).c_str(), Num(f.lower).c_str(), Num(f.upper).c_str());
    }
  }
  return 0;
}

vigil::admin::CommandRegistration reg{"forecast",
                                      "forecast FILE.csv --horizon H [--season auto|none|SECONDS] "
                                      "[--coverage C]  streaming forecasts",
                                      &Forecast};

}  // namespace
