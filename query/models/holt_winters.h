#pragma once

// Streaming forecasts for one series: additive Holt-Winters (level, damped trend, seasonal
// profile) and, without a season, Holt's linear method. Constant work per point, except once at
// the end of the warm-up when an automatic season is detected (autocorrelation over the warm-up
// buffer, O(warm-up²/2), then the buffer is dropped).
//
// Updates are Huber-clipped at `huber_k` one-step spreads, so a spike moves the level by a bounded
// step. Prediction intervals come from running spreads of the realised one-step and `horizon`-step
// errors (the model remembers the forecasts it made `horizon` steps ago), interpolated for other
// horizons: they are calibrated on the series itself rather than on a Gaussian error model.
//
// Thread-compatible: one object per series.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::query::models {

struct ForecastOptions {
  // Expected interval between samples; 0 infers it from the first two samples.
  int64_t step_ms = 0;
  // Season length: kAutoSeason detects it, 0 disables the seasonal term (Holt's linear method).
  int64_t season_ms = kAutoSeason;
  static constexpr int64_t kAutoSeason = -1;
  // The horizon (in steps) whose realised errors calibrate the intervals; 1..kMaxHorizon.
  uint32_t horizon = 12;
  // Two-sided coverage of the prediction interval, e.g. 0.95.
  double coverage = 0.95;
  double alpha = 0.2;  // level
  double beta = 0.01;  // trend
  double phi = 0.95;   // trend damping per step
  double gamma = 0.2;  // season, per visit of a seasonal slot
  double spread_beta = 0.01;
  double huber_k = 2.0;
  // Automatic season: the warm-up buffer holds this many points (at most kMaxWarmup); only
  // seasons up to half of it can be found.
  uint32_t detect_points = 2 * 288 + 24;
};

struct ForecastPoint {
  double value = 0;
  double lower = 0;
  double upper = 0;
};

class HoltWinters {
 public:
  static constexpr uint32_t kMaxHorizon = 4096;
  static constexpr uint32_t kMaxSeasonPoints = 10080;  // a week of minutes
  static constexpr uint32_t kMaxWarmup = 2 * kMaxSeasonPoints + 64;

  explicit HoltWinters(const ForecastOptions& options = {});

  // Feeds one sample. Non-finite values are skipped. REQUIRES: t_ms ≥ the previous sample's.
  void Update(int64_t t_ms, double value);

  // Forecast `h` ≥ 1 steps after the last sample. NaNs before the first sample.
  ForecastPoint Forecast(uint32_t h) const;

  uint64_t points() const { return points_; }
  // Season in points (0: none or not yet known).
  uint32_t season_points() const { return static_cast<uint32_t>(season_.size()); }
  const ForecastOptions& options() const { return options_; }

  std::string Serialize() const;
  static Result<HoltWinters> Deserialize(std::string_view frame);

 private:
  double Expected(uint32_t h) const;
  uint32_t Slot(int64_t t_ms) const;
  void StartSeason(uint32_t points);
  void DetectSeason();
  double IntervalSigma(uint32_t h) const;

  ForecastOptions options_;
  uint64_t points_ = 0;
  int64_t last_t_ms_ = 0;
  double level_ = 0;
  double trend_ = 0;
  double mad1_ = 0;  // running mean |one-step error|
  double madh_ = 0;  // running mean |horizon-step error|
  std::vector<float> season_;
  std::vector<double> warmup_;   // values while an automatic season is being detected
  std::vector<double> pending_;  // ring: forecast for t + horizon made at each of the last steps
  uint32_t pending_pos_ = 0;
  uint32_t pending_count_ = 0;
  bool detecting_ = false;
};

// Season length, in points, of `values` by autocorrelation: the lag in [min_lag, n/2] with the
// highest autocorrelation among local peaks that rise at least 0.3 above the lowest value at a
// shorter lag and reach 0.5; 0 when none does.
uint32_t DetectSeasonPoints(const std::vector<double>& values, uint32_t min_lag = 4);

}  // namespace vigil::query::models
