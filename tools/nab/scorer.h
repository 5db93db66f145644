#pragma once

// NAB (Numenta Anomaly Benchmark) scoring, as specified in
// ../shared/datasets/nab-dev/SCORING.md: anomaly windows, the scaled sigmoid that rewards early
// detections and discounts false positives just after a window, the three application profiles,
// the exhaustive corpus-wide threshold optimisation and the normalisation between the null and the
// perfect detector. Pure computation; thread-compatible.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::nab {

// A cost matrix (profiles.json). A_TN is never used by NAB and not kept.
struct Profile {
  std::string_view name;
  double tp_weight;
  double fp_weight;
  double fn_weight;
};

// standard, reward_low_FP_rate, reward_low_FN_rate (NAB v1.1 values).
std::span<const Profile> Profiles();

// σ(y) = 2 / (1 + e^(5y)) − 1 for y ≤ 3, −1 beyond.
double ScaledSigmoid(double y);

// A ground-truth window: inclusive row indices into its file.
struct Window {
  int64_t first_row;
  int64_t last_row;
};

// One data file of the corpus: the detector's score per row and the file's windows.
struct ScoredFile {
  std::string name;
  std::vector<double> scores;   // one per row, in row order
  std::vector<Window> windows;  // sorted, disjoint
};

// Rows with index below this are excluded from scoring: min(floor(0.15 n), 750).
int64_t ProbationaryRows(int64_t rows);

// Raw score S(θ) of the whole corpus under `profile` (a row detects iff score ≥ θ).
double RawScore(std::span<const ScoredFile> corpus, const Profile& profile, double threshold);

// NAB score = 100 (S − S_null) / (S_perfect − S_null), S_null = −A_FN · #windows,
// S_perfect = A_TP · #windows.
double NormalisedScore(double raw, size_t windows, const Profile& profile);

struct Optimum {
  double threshold = 0;  // the lowest score that detects, or +inf when detecting nothing is best
  double raw = 0;
  double score = 0;        // normalised
  int64_t detections = 0;  // scorable rows with score ≥ threshold
};

// The threshold maximising S over the whole corpus, found exactly: scorable rows sorted by score
// descending, added one group of equal scores at a time (SCORING.md §7). O(N log N).
Optimum OptimiseThreshold(std::span<const ScoredFile> corpus, const Profile& profile);

size_t CountWindows(std::span<const ScoredFile> corpus);

}  // namespace vigil::nab
