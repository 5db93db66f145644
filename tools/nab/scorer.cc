#include "tools/nab/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::nab {

namespace {

constexpr Profile kProfiles[] = {
    {"standard", 1.0, 0.11, 1.0},
    {"reward_low_FP_rate", 1.0, 0.22, 1.0},
    {"reward_low_FN_rate", 1.0, 0.11, 2.0},
};

// Where a scorable row lies with respect to the windows of its file.
struct RowValue {
  int32_t window;  // index of the containing window, or -1 outside every window
  double value;    // v_i (used only when the row is a detection)
};

// v_i for every scorable row of `file` (rows ≥ P), in row order.
std::vector<RowValue> RowValues(const ScoredFile& file, const Profile& profile) {
  const int64_t n = static_cast<int64_t>(file.scores.size());
  const int64_t p = ProbationaryRows(n);
  std::vector<RowValue> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(0, n - p)));
  const double sigma_left = ScaledSigmoid(-1.0);
  size_t next = 0;        // first window whose last row is ≥ i
  int64_t prev_end = -1;  // right edge of the latest window that ended before i
  int64_t prev_width = 0;
  for (int64_t i = p; i < n; ++i) {
    while (next < file.windows.size() && file.windows[next].last_row < i) {
      prev_end = file.windows[next].last_row;
      prev_width = file.windows[next].last_row - file.windows[next].first_row + 1;
      ++next;
    }
    if (next < file.windows.size() && file.windows[next].first_row <= i) {
      const Window& w = file.windows[next];
      const double width = static_cast<double>(w.last_row - w.first_row + 1);
      const double y = -static_cast<double>(w.last_row - i + 1) / width;
      out.push_back(
          {static_cast<int32_t>(next), profile.tp_weight * ScaledSigmoid(y) / sigma_left});
    } else if (prev_end < 0) {
      out.push_back({-1, -profile.fp_weight});
    } else {
      // NAB divides by (width − 1) after a window (SCORING.md §5, NAB issue #366). A one-row
      // window would divide by zero there; treat it as the far side of the sigmoid.
      const double y = prev_width > 1
                           ? static_cast<double>(i - prev_end) / static_cast<double>(prev_width - 1)
                           : std::numeric_limits<double>::infinity();
      out.push_back({-1, profile.fp_weight * ScaledSigmoid(y)});
    }
  }
  return out;
}

}  // namespace

std::span<const Profile> Profiles() { return kProfiles; }

double ScaledSigmoid(double y) {
  if (y > 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

int64_t ProbationaryRows(int64_t rows) {
  return std::min<int64_t>(static_cast<int64_t>(std::floor(0.15 * static_cast<double>(rows))), 750);
}

size_t CountWindows(std::span<const ScoredFile> corpus) {
  size_t n = 0;
  for (const ScoredFile& f : corpus) n += f.windows.size();
  return n;
}

double RawScore(std::span<const ScoredFile> corpus, const Profile& profile, double threshold) {
  double total = 0;
  for (const ScoredFile& file : corpus) {
    const std::vector<RowValue> values = RowValues(file, profile);
    const int64_t p = ProbationaryRows(static_cast<int64_t>(file.scores.size()));
    std::vector<double> best(file.windows.size(), -std::numeric_limits<double>::infinity());
    for (size_t k = 0; k < values.size(); ++k) {
      if (file.scores[static_cast<size_t>(p) + k] < threshold) continue;
      const RowValue& rv = values[k];
      if (rv.window < 0) {
        total += rv.value;
      } else {
        best[static_cast<size_t>(rv.window)] =
            std::max(best[static_cast<size_t>(rv.window)], rv.value);
      }
    }
    for (double b : best) total += std::isinf(b) ? -profile.fn_weight : b;
  }
  return total;
}

double NormalisedScore(double raw, size_t windows, const Profile& profile) {
  const double null_score = -profile.fn_weight * static_cast<double>(windows);
  const double perfect = profile.tp_weight * static_cast<double>(windows);
  if (perfect == null_score) return 0;
  return 100.0 * (raw - null_score) / (perfect - null_score);
}

Optimum OptimiseThreshold(std::span<const ScoredFile> corpus, const Profile& profile) {
  struct Row {
    double score;
    double value;
    int32_t window;  // global window index or -1
  };
  std::vector<Row> rows;
  size_t window_base = 0;
  for (const ScoredFile& file : corpus) {
    const std::vector<RowValue> values = RowValues(file, profile);
    const int64_t p = ProbationaryRows(static_cast<int64_t>(file.scores.size()));
    for (size_t k = 0; k < values.size(); ++k) {
      const RowValue& rv = values[k];
      rows.push_back({file.scores[static_cast<size_t>(p) + k], rv.value,
                      rv.window < 0
                          ? -1
                          : static_cast<int32_t>(window_base + static_cast<size_t>(rv.window))});
    }
    window_base += file.windows.size();
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.score > b.score; });

  const size_t windows = window_base;
  std::vector<double> best(windows, -std::numeric_limits<double>::infinity());
  double fp_sum = 0;
  double tp_sum = 0;  // Σ best over windows detected so far
  size_t detected_windows = 0;
  auto current = [&] {
    return fp_sum + tp_sum - profile.fn_weight * static_cast<double>(windows - detected_windows);
  };
  Optimum opt;
  opt.threshold = std::numeric_limits<double>::infinity();
  opt.raw = current();
  for (size_t i = 0; i < rows.size();) {
    size_t j = i;
    for (; j < rows.size() && rows[j].score == rows[i].score; ++j) {
      const Row& r = rows[j];
      if (r.window < 0) {
        fp_sum += r.value;
        continue;
      }
      double& b = best[static_cast<size_t>(r.window)];
      if (std::isinf(b)) {
        ++detected_windows;
        tp_sum += r.value;
        b = r.value;
      } else if (r.value > b) {
        tp_sum += r.value - b;
        b = r.value;
      }
    }
    const double s = current();
    if (s > opt.raw) {
      opt.raw = s;
      opt.threshold = rows[i].score;
      opt.detections = static_cast<int64_t>(j);
    }
    i = j;
  }
  opt.score = NormalisedScore(opt.raw, windows, profile);
  return opt;
}

}  // namespace vigil::nab
