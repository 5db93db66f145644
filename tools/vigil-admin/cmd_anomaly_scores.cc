// vigil-admin anomaly-scores FILE.csv [--sensitivity S] [--band]
//   Replays a `timestamp,value` CSV through Vigil's streaming anomaly band one row at a time and
//   prints `timestamp,value,anomaly_score` (with --band also expected,lower,upper), each row using
//   only that row and earlier ones.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "query/models/anomaly_band.h"
#include "tools/nab/corpus.h"
#include "tools/vigil-admin/command.h"

namespace {

namespace qm = vigil::query::models;

// Shortest text that reads back as the same double.
std::string Num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

int AnomalyScores(int argc, char** argv) {
  const char* path = nullptr;
  qm::BandOptions options;
  bool band = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sensitivity") == 0 && i + 1 < argc) {
      options.sensitivity = std::strtod(argv[++i], nullptr);
      if (!(options.sensitivity > 0)) {
        std::fprintf(stderr, "vigil-admin anomaly-scores: --sensitivity must be > 0\n");
        return 2;
      }
    } else if (std::strcmp(argv[i], "--band") == 0) {
      band = true;
    } else if (argv[i][0] != '-' && path == nullptr) {
      path = argv[i];
    } else {
      std::fprintf(stderr,
                   "usage: vigil-admin anomaly-scores FILE.csv [--sensitivity S] [--band]\n");
      return 2;
    }
  }
  if (path == nullptr) {
    std::fprintf(stderr, "usage: vigil-admin anomaly-scores FILE.csv [--sensitivity S] [--band]\n");
    return 2;
  }
  auto series = vigil::nab::ReadSeriesCsv(vigil::DefaultFileSystem(), path);
  if (!series.ok()) {
    std::fprintf(stderr, "vigil-admin anomaly-scores: %s\n", series.status().ToString().c_str());
    return 1;
  }
  qm::AnomalyBand model(options);
  std::printf(band ? "timestamp,value,anomaly_score,expected,lower,upper\n"
                   : "timestamp,value,anomaly_score\n");
  for (size_t i = 0; i < series->values.size(); ++i) {
    const qm::BandPoint p = model.Update(series->timestamps[i] * 1000, series->values[i]);
    std::printf("%s,%s,%.9f", series->timestamp_text[i].c_str(), Num(series->values[i]).c_str(),
                p.score);
    if (band) {
      std::printf(",%s,%s,%s", Num(p.expected).c_str(), Num(p.lower).c_str(), Num(p.upper).c_str());
    }
    std::printf("\n");
  }
  return 0;
}

vigil::admin::CommandRegistration reg{
    "anomaly-scores",
    "anomaly-scores FILE.csv [--sensitivity S] [--band]  streaming anomaly score per row",
    &AnomalyScores};

}  // namespace
