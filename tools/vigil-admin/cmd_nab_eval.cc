// vigil-admin nab-eval [DIR] [--threshold T] [--reference DETECTOR] [--per-file]
//   Runs Vigil's streaming anomaly detector over every file of a NAB-style directory (default
//   ../shared/datasets/nab-dev), scores it with NAB's procedure (tools/nab/scorer.h) and prints,
//   per profile, the score with the threshold optimised over the corpus (an oracle, as NAB does)
//   and the score at a threshold fixed in advance (default kFixedThreshold). With --reference it
//   scores DIR/reference_scores/DETECTOR_anomaly_scores.csv.gz instead. With --per-file it also
//   prints, at the standard profile's optimised threshold, each file's raw score, its detections
//   outside windows (false positives, with their first rows) and where in each window the first
//   detection fell (0.00 = its first row, 0.99 = its last) or MISS.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tools/nab/corpus.h"
#include "tools/nab/replay.h"
#include "tools/nab/scorer.h"
#include "tools/vigil-admin/command.h"

namespace {

namespace nab = vigil::nab;

// A round level with a meaning, not fitted to the corpus: a point alerts when fewer
// than one point in a thousand of the series' history was as surprising.
constexpr double kFixedThreshold = 0.999;

constexpr const char* kUsage =
    "usage: vigil-admin nab-eval [DIR] [--threshold T] [--reference DETECTOR] [--per-file]\n";

void PrintPerFile(const std::vector<nab::ScoredFile>& files, const nab::Profile& profile,
                  double threshold) {
  std::printf("\nper file at the %.*s threshold %.6f:\n", static_cast<int>(profile.name.size()),
              profile.name.data(), threshold);
  for (const nab::ScoredFile& f : files) {
    const double raw = nab::RawScore(std::span<const nab::ScoredFile>(&f, 1), profile, threshold);
    const int64_t n = static_cast<int64_t>(f.scores.size());
    const int64_t first = nab::ProbationaryRows(n);
    auto in_window = [&](int64_t i) {
      for (const nab::Window& w : f.windows) {
        if (i >= w.first_row && i <= w.last_row) return true;
      }
      return false;
    };
    int64_t fp = 0;
    std::string fp_rows;
    for (int64_t i = first; i < n; ++i) {
      if (f.scores[static_cast<size_t>(i)] < threshold || in_window(i)) continue;
      if (++fp <= 5) fp_rows += " " + std::to_string(i);
    }
    std::printf("  %-58s raw %7.3f  FP %3lld%s%s%s", f.name.c_str(), raw,
                static_cast<long long>(fp), fp > 0 ? " (rows" : "", fp_rows.c_str(),
                fp > 5 ? " ...)" : fp > 0 ? ")" : "");
    for (const nab::Window& w : f.windows) {
      int64_t hit = -1;
      for (int64_t i = std::max(first, w.first_row); i <= w.last_row; ++i) {
        if (f.scores[static_cast<size_t>(i)] >= threshold) {
          hit = i;
          break;
        }
      }
      std::printf("  W[%lld..%lld] ", static_cast<long long>(w.first_row),
                  static_cast<long long>(w.last_row));
      if (hit < 0) {
        std::printf("MISS");
      } else {
        std::printf("%.2f", static_cast<double>(hit - w.first_row) /
                                static_cast<double>(w.last_row - w.first_row + 1));
      }
    }
    std::printf("\n");
  }
}

int NabEval(int argc, char** argv) {
  std::string dir = std::string(VIGIL_DATASETS_DIR) + "/nab-dev";
  double threshold = kFixedThreshold;
  std::string reference;
  bool per_file = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
      threshold = std::strtod(argv[++i], nullptr);
    } else if (std::strcmp(argv[i], "--reference") == 0 && i + 1 < argc) {
      reference = argv[++i];
    } else if (std::strcmp(argv[i], "--per-file") == 0) {
      per_file = true;
    } else if (argv[i][0] != '-') {
      dir = argv[i];
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  vigil::FileSystem* fs = vigil::DefaultFileSystem();
  auto corpus = nab::LoadCorpus(fs, dir);
  if (!corpus.ok()) {
    std::fprintf(stderr, "vigil-admin nab-eval: %s\n", corpus.status().ToString().c_str());
    return 1;
  }
  std::vector<nab::ScoredFile> files;
  if (reference.empty()) {
    for (const nab::CorpusFile& f : *corpus) {
      files.push_back({f.key, nab::ReplayAnomalyScores(f.series, {}), f.windows});
    }
  } else {
    const std::string path = dir + "/reference_scores/" + reference + "_anomaly_scores.csv.gz";
    auto text = nab::ReadMaybeGzip(fs, path);
    if (!text.ok()) {
      std::fprintf(stderr, "vigil-admin nab-eval: %s\n", text.status().ToString().c_str());
      return 1;
    }
    auto scores = nab::ParseReferenceScores(*text);
    if (!scores.ok()) {
      std::fprintf(stderr, "vigil-admin nab-eval: %s: %s\n", path.c_str(),
                   scores.status().ToString().c_str());
      return 1;
    }
    for (const nab::CorpusFile& f : *corpus) {
      auto it = scores->find(f.key);
      if (it == scores->end() || it->second.size() != f.series.values.size()) {
        std::fprintf(stderr, "vigil-admin nab-eval: %s: no or wrong number of scores for %s\n",
                     path.c_str(), f.key.c_str());
        return 1;
      }
      files.push_back({f.key, it->second, f.windows});
    }
  }
  const size_t windows = nab::CountWindows(files);
  std::printf(
      "detector %s on %s: %zu files, %zu windows\n",
      reference.empty() ? "vigil (query/models AnomalyBand, default options)" : reference.c_str(),
      dir.c_str(), files.size(), windows);
  std::printf("%-20s %12s %10s %10s   %14s %10s\n", "profile", "opt. thresh", "raw", "score",
              "fixed thresh", "score");
  for (const nab::Profile& p : nab::Profiles()) {
    const nab::Optimum opt = nab::OptimiseThreshold(files, p);
    const double fixed_raw = nab::RawScore(files, p, threshold);
    std::printf("%-20.*s %12.6f %10.3f %10.2f   %14.6f %10.2f\n", static_cast<int>(p.name.size()),
                p.name.data(), opt.threshold, opt.raw, opt.score, threshold,
                nab::NormalisedScore(fixed_raw, windows, p));
  }
  if (per_file) {
    const nab::Profile& standard = nab::Profiles()[0];
    PrintPerFile(files, standard, nab::OptimiseThreshold(files, standard).threshold);
  }
  return 0;
}

vigil::admin::CommandRegistration reg{
    "nab-eval",
    "nab-eval [DIR] [--threshold T] [--reference DETECTOR] [--per-file]  NAB scores of the "
    "streaming detector",
    &NabEval};

}  // namespace
