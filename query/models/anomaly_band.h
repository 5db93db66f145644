#pragma once

// A streaming anomaly band for one series: an expected value with lower and upper bounds at a
// chosen sensitivity, and an anomaly score in [0, 1] per point. Constant work per point.
//
// Two robust predictors run side by side and the one with the smaller recent absolute error draws
// the band:
//   * level: an exponentially weighted level (fast; follows non-seasonal series and level shifts);
//   * seasonal: a slow level plus a daily profile (one bucket per step, at most 288 per day) plus a
//     weekly profile (hour-of-week buckets) — additive Holt-Winters without trend, indexed by the
//     sample's timestamp so that gaps keep the phase.
// Updates are Huber-clipped at `huber_k` spreads, so a spike or an incident moves the model by at
// most a bounded step per point: an anomaly does not drag the band after it. A run of
// `shift_run` consecutive points beyond the band on the same side is a level shift and re-levels
// both predictors. The spread is a robust, running mean absolute deviation (MAD-like) of the
// clipped errors, scaled to a normal standard deviation.
//
// Score: 1 − p, where p is the smallest of four tail probabilities, each calibrated on the
// series' own history (a spiky series' usual spikes do not alert) and so comparable across series:
//   * point: z = |value − expected| / spread; p is the share of earlier points (a fading histogram of
//     ln(1 + z), about 2000 points long) that were at least as surprising; beyond the largest
//     earlier z, p keeps falling exponentially;
//   * frequency: the same for a ten-point mean of −ln p(point), so a change in how often a series
//     surprises (denser spikes, a noisier regime) scores even when no single point is extreme;
//   * drift: the same for a fifty-point mean of the signed error in spreads (clipped at ±3; linear
//     bins of 0.05), so a sustained shift of one or two spreads scores although no single point
//     leaves the band;
//   * record: a deviation at least 10 % beyond the largest one seen on the same side (a maximum
//     fading over about 20 000 points) has p = (previous largest / deviation)² / (n + 1), n = the
//     points in the history (≤ 2000). This one is in the series' own units, so it still ranks
//     bursts when the spread of a mostly flat series makes every burst's z enormous.
// Scores are 0 during the warm-up and debounced: after a point scores ≥ alert_score, the next
// `quiet_points` scores are multiplied by quiet_factor.
//
// Thread-compatible: one object per series; callers serialise access.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::query::models {

struct BandOptions {
  // Expected interval between samples; 0 infers it from the first two samples.
  int64_t step_ms = 0;
  bool daily = true;
  bool weekly = true;
  // Half-width of the band in robust standard deviations (≈ normal quantile: 3 → 99.7 %).
  double sensitivity = 3.0;

  // Learning rates per point (level) and per visit of a seasonal bucket.
  double fast_alpha = 0.1;
  double slow_alpha = 0.005;
  double daily_gamma = 0.3;
  double weekly_gamma = 0.1;
  double spread_beta = 0.02;
  double huber_k = 2.5;
  uint32_t shift_run = 12;
  // Points before the band is considered warm.
  uint32_t warmup = 288;
  // Debouncing: after a point scores ≥ alert_score, the next quiet_points points have their
  // scores multiplied by quiet_factor (one incident, one alert).
  double alert_score = 0.999;
  uint32_t quiet_points = 288;
  double quiet_factor = 0.5;
};

struct BandPoint {
  double expected = 0;
  double lower = 0;
  double upper = 0;
  double score = 0;  // of the value just fed; 0 for Predict()
};

// A fading histogram of ln(1 + x) in bins of 0.1 (the last one open-ended), for tail
// probabilities. It keeps suffix sums: at_least[k] is the weight of the points in bin k or above,
// so a tail is one read and adding a point touches only the bins up to its own (usually few).
// Weights are in units of `scale`, the weight of the next point.
struct SurpriseHistogram {
  static constexpr size_t kBins = 64;
  float at_least[kBins] = {};
  double total = 0;
  double scale = 1;
  uint32_t top = 0;  // highest bin ever filled
};

class AnomalyBand {
 public:
  explicit AnomalyBand(const BandOptions& options = {});

  // Feeds one sample and returns the band predicted before seeing it, and its score.
  // Non-finite values (NaN, stale markers, ±Inf) are skipped and score 0.
  // REQUIRES: t_ms not older than the previous sample's.
  BandPoint Update(int64_t t_ms, double value);

  // The band for timestamp t_ms (≥ the last sample's) without learning anything.
  BandPoint Predict(int64_t t_ms) const;

  uint64_t points() const { return points_; }
  const BandOptions& options() const { return options_; }

  // Versioned binary state (query/docs/model-state-format.md), options included.
  std::string Serialize() const;
  static Result<AnomalyBand> Deserialize(std::string_view frame);

  static constexpr uint32_t kMaxDailyBuckets = 288;
  static constexpr uint32_t kWeeklyBuckets = 168;

 private:
  void Init(int64_t step_ms);
  uint32_t DailyBucket(int64_t t_ms) const;
  uint32_t WeeklyBucket(int64_t t_ms) const;
  double SeasonalExpected(int64_t t_ms) const;
  BandPoint Band(double expected, double sigma) const;
  double Sigma(double mad) const;
  bool UseSeasonal() const;
  double Surprise(double z);
  void FinishFirstDay();
  void TrackShift(double r, double sigma, int32_t* run, double* run_sum, double* level) const;

  BandOptions options_;
  bool initialised_ = false;
  uint64_t points_ = 0;
  int64_t start_ms_ = 0;
  int64_t last_t_ms_ = 0;
  bool seasonal_ready_ = false;  // the first day has been seen; the seasonal predictor runs
  int64_t daily_bucket_ms_ = 0;
  double fast_level_ = 0;
  double fast_mad_ = 0;
  double slow_level_ = 0;
  double seasonal_mad_ = 0;
  double fast_err_ = 0;  // running mean |error| of each predictor (model choice)
  double seasonal_err_ = 0;
  // Signed count and error sum of consecutive out-of-band points, per predictor.
  int32_t fast_run_ = 0;
  double fast_run_sum_ = 0;
  int32_t seasonal_run_ = 0;
  double seasonal_run_sum_ = 0;
  uint32_t quiet_left_ = 0;
  SurpriseHistogram point_hist_;
  SurpriseHistogram short_hist_;
  double short_surprisal_ = 0;
  // Largest deviation above and below the expected value so far (fading), for the record score.
  double record_up_ = 0;
  double record_down_ = 0;
  // Running mean of the clipped signed error in spreads, and the histogram of its magnitude.
  double drift_ = 0;
  SurpriseHistogram drift_hist_;
  std::vector<float> daily_;  // NaN: bucket not seen yet
  std::vector<float> weekly_;
};

}  // namespace vigil::query::models
