#include "query/models/holt_winters.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "query/models/state_codec.h"

namespace vigil::query::models {

namespace {
constexpr double kMadToSigma = 1.2533141373155;
// Season detection: a seasonal peak of the autocorrelation must reach kMinSeasonAcf and rise
// kMinSeasonRise above the lowest autocorrelation at a shorter lag (noise makes small bumps).
constexpr double kMinSeasonAcf = 0.5;
constexpr double kMinSeasonRise = 0.3;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// z such that a normal variable lies within ±z with probability `coverage` (bisection on erfc).
double TwoSidedQuantile(double coverage) {
  coverage = std::clamp(coverage, 1e-6, 1 - 1e-12);
  double lo = 0, hi = 40;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    if (1 - std::erfc(mid / std::sqrt(2.0)) < coverage) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}
}  // namespace

uint32_t DetectSeasonPoints(const std::vector<double>& values, uint32_t min_lag) {
  const size_t n = values.size();
  if (n < 2 * static_cast<size_t>(min_lag) + 2) return 0;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(n);
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  if (var <= 0) return 0;
  const size_t max_lag = n / 2;
  std::vector<double> acf(max_lag + 2, 0.0);
  for (size_t lag = 1; lag <= max_lag + 1 && lag < n; ++lag) {
    double s = 0;
    for (size_t i = lag; i < n; ++i) s += (values[i] - mean) * (values[i - lag] - mean);
    acf[lag] = s / var;
  }
  uint32_t best = 0;
  double best_acf = kMinSeasonAcf;
  double lowest = acf[1];
  for (size_t lag = 2; lag <= max_lag; ++lag) {
    lowest = std::min(lowest, acf[lag]);
    if (lag < min_lag) continue;
    const bool peak = acf[lag] >= acf[lag - 1] && acf[lag] >= acf[lag + 1];
    if (peak && acf[lag] - lowest >= kMinSeasonRise && acf[lag] > best_acf) {
      best_acf = acf[lag];
      best = static_cast<uint32_t>(lag);
    }
  }
  return best;
}

HoltWinters::HoltWinters(const ForecastOptions& options) : options_(options) {
  options_.horizon = std::clamp<uint32_t>(options_.horizon, 1, kMaxHorizon);
  options_.detect_points = std::clamp<uint32_t>(options_.detect_points, 16, kMaxWarmup);
}

uint32_t HoltWinters::Slot(int64_t t_ms) const {
  const int64_t m = static_cast<int64_t>(season_.size());
  const int64_t r = FloorDiv(t_ms, options_.step_ms) % m;
  return static_cast<uint32_t>(r < 0 ? r + m : r);
}

void HoltWinters::StartSeason(uint32_t points) { season_.assign(points, static_cast<float>(kNaN)); }

double HoltWinters::Expected(uint32_t h) const {
  double damp = 0, f = 1;
  for (uint32_t j = 1; j <= std::min<uint32_t>(h, 512); ++j) {
    f *= options_.phi;
    damp += f;
  }
  double e = level_ + trend_ * damp;
  if (!season_.empty()) {
    const float s = season_[Slot(last_t_ms_ + static_cast<int64_t>(h) * options_.step_ms)];
    if (!std::isnan(s)) e += s;
  }
  return e;
}

void HoltWinters::DetectSeason() {
  detecting_ = false;
  const uint32_t m = DetectSeasonPoints(warmup_);
  if (m >= 2 && m <= kMaxSeasonPoints) {
    StartSeason(m);
    // Seed each slot with the mean deviation of its points from the buffer's mean.
    const size_t n = warmup_.size();
    double mean = 0;
    for (double v : warmup_) mean += v;
    mean /= static_cast<double>(n);
    std::vector<double> sum(m, 0.0);
    std::vector<uint32_t> count(m, 0);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t slot = Slot(last_t_ms_ - static_cast<int64_t>(n - 1 - i) * options_.step_ms);
      sum[slot] += warmup_[i] - mean;
      ++count[slot];
    }
    for (uint32_t s = 0; s < m; ++s) {
      if (count[s] > 0) season_[s] = static_cast<float>(sum[s] / count[s]);
    }
    // The level has been following the seasonal swing; restart it from the latest deseasonalised
    // value.
    level_ = warmup_.back() - season_[Slot(last_t_ms_)];
    trend_ = 0;
  }
  options_.season_ms = static_cast<int64_t>(m) * options_.step_ms;  // 0 when none was found
  warmup_.clear();
  warmup_.shrink_to_fit();
}

void HoltWinters::Update(int64_t t_ms, double value) {
  if (!std::isfinite(value)) return;
  if (points_ == 0) {
    level_ = value;
    last_t_ms_ = t_ms;
    points_ = 1;
    if (options_.step_ms > 0) {
      if (options_.season_ms > 0) {
        StartSeason(static_cast<uint32_t>(
            std::clamp<int64_t>(options_.season_ms / options_.step_ms, 2, kMaxSeasonPoints)));
      }
      detecting_ = options_.season_ms == ForecastOptions::kAutoSeason;
      if (detecting_) warmup_.push_back(value);
    } else {
      warmup_.push_back(value);  // first value, kept until the step is known
    }
    return;
  }
  if (options_.step_ms <= 0) {
    options_.step_ms = t_ms > last_t_ms_ ? t_ms - last_t_ms_ : 60'000;
    if (options_.season_ms > 0) {
      StartSeason(static_cast<uint32_t>(
          std::clamp<int64_t>(options_.season_ms / options_.step_ms, 2, kMaxSeasonPoints)));
    }
    detecting_ = options_.season_ms == ForecastOptions::kAutoSeason;
    if (!detecting_) warmup_.clear();
  }
  const int64_t gap = t_ms - last_t_ms_;
  const uint32_t h = static_cast<uint32_t>(
      std::clamp<int64_t>((gap + options_.step_ms / 2) / options_.step_ms, 1, kMaxHorizon));
  if (points_ == 1) {
    // Holt's usual start: the trend of the first two points.
    trend_ = (value - level_) / static_cast<double>(h);
  }
  const double predicted = Expected(h);
  const double err = value - predicted;

  // Realised error of the forecast made `horizon` points ago.
  const uint32_t horizon = options_.horizon;
  if (pending_count_ == horizon) {
    const double old = pending_[pending_pos_];
    madh_ += options_.spread_beta * (std::abs(value - old) - madh_);
  }

  const double sigma1 = std::max(kMadToSigma * mad1_, 1e-12);
  const bool warm = points_ > 32;
  const double c =
      warm ? std::clamp(err, -options_.huber_k * sigma1, options_.huber_k * sigma1) : err;
  const double rate = warm ? options_.spread_beta : 1.0 / static_cast<double>(points_);
  mad1_ += rate * (std::abs(err) - mad1_);
  if (pending_count_ < horizon && warm) madh_ = mad1_ * std::sqrt(static_cast<double>(horizon));

  double damp = 0, f = 1;
  for (uint32_t j = 1; j <= std::min<uint32_t>(h, 512); ++j) {
    f *= options_.phi;
    damp += f;
  }
  const double alpha = options_.alpha;
  level_ = level_ + trend_ * damp + alpha * c;
  trend_ = trend_ * f + alpha * options_.beta * c;
  last_t_ms_ = t_ms;
  if (!season_.empty()) {
    float& s = season_[Slot(t_ms)];
    if (std::isnan(s)) {
      s = static_cast<float>(value - level_);
    } else {
      s = static_cast<float>(s + options_.gamma * (1 - alpha) * c);
    }
  }
  ++points_;
  if (detecting_) {
    warmup_.push_back(value);
    if (warmup_.size() >= options_.detect_points) DetectSeason();
  }

  if (pending_.size() != horizon) pending_.assign(horizon, 0.0);
  pending_[pending_pos_] = Expected(horizon);
  pending_pos_ = (pending_pos_ + 1) % horizon;
  pending_count_ = std::min(pending_count_ + 1, horizon);
}

double HoltWinters::IntervalSigma(uint32_t h) const {
  const double s1 = kMadToSigma * mad1_;
  const double sh = kMadToSigma * madh_;
  const uint32_t horizon = options_.horizon;
  if (horizon <= 1) return s1 * std::sqrt(static_cast<double>(h));
  const double slope = (sh * sh - s1 * s1) / static_cast<double>(horizon - 1);
  const double var = s1 * s1 + std::max(0.0, slope) * static_cast<double>(h - 1);
  return std::sqrt(std::max(var, 0.0));
}

ForecastPoint HoltWinters::Forecast(uint32_t h) const {
  if (points_ == 0) return {kNaN, kNaN, kNaN};
  h = std::clamp<uint32_t>(h, 1, kMaxHorizon);
  if (options_.step_ms <= 0) return {level_, kNaN, kNaN};
  const double e = Expected(h);
  const double half = TwoSidedQuantile(options_.coverage) * IntervalSigma(h);
  return {e, e - half, e + half};
}

}  // namespace vigil::query::models

namespace vigil::query::models {

// Field order: query/docs/model-state-format.md, "Holt-Winters payload".
std::string HoltWinters::Serialize() const {
  StateWriter w(ModelKind::kHoltWinters);
  const ForecastOptions& o = options_;
  w.I64(o.step_ms);
  w.I64(o.season_ms);
  w.U32(o.horizon);
  w.F64(o.coverage);
  w.F64(o.alpha);
  w.F64(o.beta);
  w.F64(o.phi);
  w.F64(o.gamma);
  w.F64(o.spread_beta);
  w.F64(o.huber_k);
  w.U32(o.detect_points);
  w.I64(static_cast<int64_t>(points_));
  w.I64(last_t_ms_);
  w.F64(level_);
  w.F64(trend_);
  w.F64(mad1_);
  w.F64(madh_);
  w.U8(detecting_ ? 1 : 0);
  w.U32(pending_pos_);
  w.U32(pending_count_);
  w.F32s(season_);
  // The warm-up and pending buffers keep full precision (F64 each).
  w.U32(static_cast<uint32_t>(warmup_.size()));
  for (double v : warmup_) w.F64(v);
  w.U32(static_cast<uint32_t>(pending_.size()));
  for (double v : pending_) w.F64(v);
  return std::move(w).Finish();
}

Result<HoltWinters> HoltWinters::Deserialize(std::string_view frame) {
  StateReader r(frame, ModelKind::kHoltWinters);
  ForecastOptions o;
  o.step_ms = r.I64("step_ms");
  o.season_ms = r.I64("season_ms");
  o.horizon = r.U32("horizon");
  o.coverage = r.F64("coverage");
  o.alpha = r.F64("alpha");
  o.beta = r.F64("beta");
  o.phi = r.F64("phi");
  o.gamma = r.F64("gamma");
  o.spread_beta = r.F64("spread_beta");
  o.huber_k = r.F64("huber_k");
  o.detect_points = r.U32("detect_points");
  VIGIL_RETURN_IF_ERROR(r.status());
  if (o.horizon < 1 || o.horizon > kMaxHorizon || o.detect_points > kMaxWarmup) {
    return Status::Corruption("model state: Holt-Winters horizon or warm-up out of range");
  }
  HoltWinters m(o);
  m.points_ = static_cast<uint64_t>(r.I64("points"));
  m.last_t_ms_ = r.I64("last_t_ms");
  m.level_ = r.F64("level");
  m.trend_ = r.F64("trend");
  m.mad1_ = r.F64("mad1");
  m.madh_ = r.F64("madh");
  m.detecting_ = r.U8("detecting") != 0;
  m.pending_pos_ = r.U32("pending_pos");
  m.pending_count_ = r.U32("pending_count");
  r.F32s("season", kMaxSeasonPoints, &m.season_);
  const uint32_t warmup = r.U32("warmup_count");
  if (r.status().ok() && warmup > kMaxWarmup) {
    return Status::Corruption("model state: Holt-Winters warm-up buffer of " +
                              std::to_string(warmup) + " values exceeds " +
                              std::to_string(kMaxWarmup));
  }
  for (uint32_t i = 0; i < warmup && r.status().ok(); ++i) m.warmup_.push_back(r.F64("warmup"));
  const uint32_t pending = r.U32("pending_count_values");
  if (r.status().ok() && pending != 0 && pending != o.horizon) {
    return Status::Corruption("model state: Holt-Winters pending ring holds " +
                              std::to_string(pending) + " forecasts for a horizon of " +
                              std::to_string(o.horizon));
  }
  for (uint32_t i = 0; i < pending && r.status().ok(); ++i) m.pending_.push_back(r.F64("pending"));
  VIGIL_RETURN_IF_ERROR(r.Finish());
  if (m.pending_pos_ >= std::max<uint32_t>(o.horizon, 1) || m.pending_count_ > o.horizon ||
      (m.pending_count_ > 0 && m.pending_.empty()) ||
      (!m.season_.empty() && (o.step_ms <= 0 || m.season_.size() < 2))) {
    return Status::Corruption("model state: Holt-Winters fields are inconsistent");
  }
  return m;
}

}  // namespace vigil::query::models
