#include "query/models/anomaly_band.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "query/models/state_codec.h"

namespace vigil::query::models {

namespace {
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kWeekMs = 7 * kDayMs;
// Mean absolute deviation → standard deviation of a normal distribution (√(π/2)).
constexpr double kMadToSigma = 1.2533141373155;
// The seasonal predictor draws the band when its recent error is below this share of the level
// predictor's (the daily profile must earn its keep).
constexpr double kSeasonalAdvantage = 0.9;
constexpr double kSurpriseBinWidth = 0.1;
// Rate of the short-term mean of surprisal (about ten points).
constexpr double kShortRate = 0.1;
// Histories fade with a time constant of this many points (≈ a week at 5-minute steps), so a
// noisier past regime does not excuse surprises forever.
constexpr double kHistoryDecay = 1.0 / 2000;
constexpr double kHistoryGrowth = 1 / (1 - kHistoryDecay);
// Beyond the largest value seen, the tail keeps falling by e^-kBeyond per unit of ln(1 + z).
constexpr double kBeyond = 4.0;
// Drift score: rate of the running mean of the signed error in spreads (about fifty points), the
// clip of each error, and the histogram's bins per spread of that mean: linear bins of 0.05 σ, so
// the clip (3 σ) lands in bin 60 of 64 and no logarithm is needed.
constexpr double kDriftRate = 0.02;
constexpr double kDriftClip = 3.0;
constexpr double kDriftBins = 20.0;
// Record score: a deviation counts as a record when it exceeds the largest earlier one on its side
// by this factor; the largest fades with a time constant of this many points (ten histories); its
// tail falls with the square of the excess ratio; deviations below this share of the larger of
// the two records are rounding noise around a flat series, not records.
constexpr double kRecordMargin = 1.1;
constexpr double kRecordDecay = 1.0 / 20000;
constexpr double kRecordFloor = 1e-3;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t FloorMod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}
}  // namespace

AnomalyBand::AnomalyBand(const BandOptions& options) : options_(options) {
  if (options_.step_ms > 0) Init(options_.step_ms);
}

void AnomalyBand::Init(int64_t step_ms) {
  options_.step_ms = step_ms;
  daily_bucket_ms_ = std::max<int64_t>(step_ms, kDayMs / kMaxDailyBuckets);
  if (options_.daily && daily_bucket_ms_ < kDayMs) {
    daily_.assign(static_cast<size_t>(kDayMs / daily_bucket_ms_), static_cast<float>(kNaN));
  }
  if (options_.weekly && step_ms <= kHourMs)
    weekly_.assign(kWeeklyBuckets, static_cast<float>(kNaN));
  initialised_ = true;
}

uint32_t AnomalyBand::DailyBucket(int64_t t_ms) const {
  return static_cast<uint32_t>(FloorMod(t_ms, kDayMs) / daily_bucket_ms_) %
         static_cast<uint32_t>(daily_.size());
}

uint32_t AnomalyBand::WeeklyBucket(int64_t t_ms) const {
  return static_cast<uint32_t>(FloorMod(t_ms, kWeekMs) / kHourMs);
}

double AnomalyBand::SeasonalExpected(int64_t t_ms) const {
  double e = slow_level_;
  if (!daily_.empty()) {
    const float d = daily_[DailyBucket(t_ms)];
    if (!std::isnan(d)) e += d;
  }
  if (!weekly_.empty()) {
    const float w = weekly_[WeeklyBucket(t_ms)];
    if (!std::isnan(w)) e += w;
  }
  return e;
}

double AnomalyBand::Sigma(double mad) const {
  const double floor = 1e-9 + 1e-6 * std::max(std::abs(fast_level_), std::abs(slow_level_));
  return std::max(kMadToSigma * mad, floor);
}

BandPoint AnomalyBand::Band(double expected, double sigma) const {
  const double half = options_.sensitivity * sigma;
  return {expected, expected - half, expected + half, 0};
}

bool AnomalyBand::UseSeasonal() const {
  return seasonal_ready_ && seasonal_err_ < kSeasonalAdvantage * fast_err_;
}

namespace {
// Empirical tail probability of x among the earlier values in `h`, then adds x. One
// pseudo-observation at +∞ keeps the estimate above zero: a value beyond every earlier one gets
// 1 / (n + 1) times e^(−kBeyond · its excess over the largest), so the longer a series' history,
// and the further a value lies beyond it, the more it stands out. Fading is lazy: each new point
// weighs 1/(1 − kHistoryDecay) times more than the previous one (renormalised before the weights
// leave float range).
// `u` is the value's position in bins (≥ 0; the integer part is the bin).
double TailUpdate(SurpriseHistogram& h, double u) {
  constexpr size_t kBins = SurpriseHistogram::kBins;
  const size_t bin = std::min<size_t>(static_cast<size_t>(u), kBins - 1);
  const double frac = bin == kBins - 1 ? 0.5 : u - static_cast<double>(bin);
  const double above = bin + 1 < kBins ? h.at_least[bin + 1] : 0.0;
  const double in_bin = static_cast<double>(h.at_least[bin]) - above;
  const double excess = (u - static_cast<double>(h.top + 1)) * kSurpriseBinWidth;
  const double beyond = excess > 0 ? std::exp(-kBeyond * excess) : 1.0;
  const double tail = (above + (1 - frac) * in_bin + beyond * h.scale) / (h.total + h.scale);
  const float w = static_cast<float>(h.scale);
  for (size_t k = 0; k <= bin; ++k) h.at_least[k] += w;
  h.total += h.scale;
  h.top = std::max<uint32_t>(h.top, static_cast<uint32_t>(bin));
  h.scale *= kHistoryGrowth;
  if (h.scale > 1e15) {
    const double k = 1 / h.scale;
    for (float& c : h.at_least) c = static_cast<float>(c * k);
    h.total *= k;
    h.scale = 1;
  }
  // Above zero: −ln(tail) must stay finite (a value far beyond every earlier one can make the
  // extrapolated tail underflow).
  return std::clamp(tail, 1e-300, 1.0);
}

// Position of x ≥ 0 on the logarithmic bins of the point and frequency histograms: ln(1 + x) in
// steps of 0.1; x beyond 1e300 (an error over a spread near zero) counts as 1e300, NaN as 0.
double LogBins(double x) {
  return std::log1p(x > 0 ? std::min(x, 1e300) : 0.0) / kSurpriseBinWidth;
}

}  // namespace

double AnomalyBand::Surprise(double z) {
  const double tail = TailUpdate(point_hist_, LogBins(z));
  // Short-term mean surprisal: a change in how often the series surprises (denser spikes, a noisier
  // regime) is an anomaly even when no single point is extreme.
  short_surprisal_ += kShortRate * (-std::log(tail) - short_surprisal_);
  const double short_tail = TailUpdate(short_hist_, LogBins(short_surprisal_));
  return 1 - std::min(tail, short_tail);
}

void AnomalyBand::FinishFirstDay() {
  for (float& d : daily_) {
    if (!std::isnan(d)) d = static_cast<float>(d - slow_level_);
  }
  seasonal_mad_ = fast_mad_;
  seasonal_err_ = fast_err_;
  seasonal_ready_ = true;
}

BandPoint AnomalyBand::Predict(int64_t t_ms) const {
  if (points_ == 0) return {kNaN, kNaN, kNaN, 0};
  if (UseSeasonal()) return Band(SeasonalExpected(t_ms), Sigma(seasonal_mad_));
  return Band(fast_level_, Sigma(fast_mad_));
}

void AnomalyBand::TrackShift(double r, double sigma, int32_t* run, double* run_sum,
                             double* level) const {
  if (std::abs(r) <= options_.sensitivity * sigma) {
    *run = 0;
    *run_sum = 0;
    return;
  }
  const int32_t sign = r > 0 ? 1 : -1;
  if (*run * sign <= 0) {
    *run = 0;
    *run_sum = 0;
  }
  *run += sign;
  *run_sum += r;
  if (static_cast<uint32_t>(std::abs(*run)) >= options_.shift_run) {
    *level += *run_sum / std::abs(*run);
    *run = 0;
    *run_sum = 0;
  }
}

BandPoint AnomalyBand::Update(int64_t t_ms, double value) {
  if (!std::isfinite(value)) {
    BandPoint p = Predict(t_ms);
    p.score = 0;
    return p;
  }
  if (points_ == 0) {
    fast_level_ = slow_level_ = value;
    start_ms_ = last_t_ms_ = t_ms;
    points_ = 1;
    if (initialised_ && !daily_.empty()) daily_[DailyBucket(t_ms)] = static_cast<float>(value);
    return {value, value, value, 0};
  }
  if (!initialised_) {
    Init(t_ms > last_t_ms_ ? t_ms - last_t_ms_ : 60'000);
    if (!daily_.empty()) daily_[DailyBucket(start_ms_)] = static_cast<float>(slow_level_);
  }
  last_t_ms_ = std::max(last_t_ms_, t_ms);
  ++points_;

  const bool warm = points_ > options_.warmup;
  const double k = options_.huber_k;
  const double step = static_cast<double>(options_.step_ms);
  if (!seasonal_ready_ && t_ms - start_ms_ >= kDayMs) FinishFirstDay();

  // Predictions made before seeing the value.
  const double sigma_fast = Sigma(fast_mad_);
  const double sigma_seasonal = Sigma(seasonal_mad_);
  const bool use_seasonal = UseSeasonal();
  const double seasonal_expected = SeasonalExpected(t_ms);
  const double r_fast = value - fast_level_;
  const double r_seasonal = value - seasonal_expected;
  const double expected = use_seasonal ? seasonal_expected : fast_level_;
  const double sigma = use_seasonal ? sigma_seasonal : sigma_fast;
  const double r = value - expected;
  BandPoint out = Band(expected, sigma);

  const double z = std::abs(r) / sigma;
  double score = warm ? Surprise(z) : 0.0;
  // Drift: a sustained shift of a spread or two that no single point reveals.
  drift_ += kDriftRate * (std::clamp(r / sigma, -kDriftClip, kDriftClip) - drift_);
  if (warm) {
    // Its own warm-up: the drift history must hold `warmup` points (it starts empty when a state
    // of format version 1 is loaded).
    const bool drift_ready = drift_hist_.total >= options_.warmup * drift_hist_.scale;
    const double drift_tail = TailUpdate(drift_hist_, kDriftBins * std::abs(drift_));
    if (drift_ready) score = std::max(score, 1 - drift_tail);
  }
  // Record: a deviation well beyond every earlier one on its side, in the series' own units.
  {
    double& record = r > 0 ? record_up_ : record_down_;
    const double a = std::abs(r);
    if (warm && record > 0 && a > kRecordMargin * record &&
        a > kRecordFloor * std::max(record_up_, record_down_)) {
      const double n = std::min(static_cast<double>(points_), 1 / kHistoryDecay);
      const double ratio = a / record;
      score = std::max(score, 1 - 1 / (ratio * ratio * (n + 1)));
    }
    record = std::max(a, record * (1 - kRecordDecay));
  }
  if (quiet_left_ > 0) {
    --quiet_left_;
    score *= options_.quiet_factor;
  } else if (score >= options_.alert_score) {
    quiet_left_ = options_.quiet_points;
  }
  out.score = score;

  // Learning. Before warm-up the errors are not clipped (the spread is still being learned).
  auto clip = [&](double err, double s) { return warm ? std::clamp(err, -k * s, k * s) : err; };
  const double beta = options_.spread_beta;
  // Model choice over about a day of points, on unclipped errors (a clipped error would hide
  // exactly the misses that tell the two predictors apart).
  const double err_beta = std::max(step / static_cast<double>(kDayMs), 1e-3);
  const double c_fast = clip(r_fast, sigma_fast);
  fast_mad_ += beta * (std::abs(c_fast) - fast_mad_);
  fast_err_ += err_beta * (std::abs(r_fast) - fast_err_);
  fast_level_ += options_.fast_alpha * c_fast;

  if (!seasonal_ready_) {
    // First day: the slow level is the plain mean so far, each daily bucket the mean of its points.
    slow_level_ += (value - slow_level_) / static_cast<double>(points_);
    if (!daily_.empty()) {
      float& d = daily_[DailyBucket(t_ms)];
      if (std::isnan(d)) {
        d = static_cast<float>(value);
      } else {
        const double nth = static_cast<double>(FloorMod(t_ms, daily_bucket_ms_)) / step + 1;
        d = static_cast<float>(d + (value - d) / std::max(1.0, nth));
      }
    }
    return out;
  }

  const double c_seasonal = clip(r_seasonal, sigma_seasonal);
  seasonal_mad_ += beta * (std::abs(c_seasonal) - seasonal_mad_);
  seasonal_err_ += err_beta * (std::abs(r_seasonal) - seasonal_err_);
  const double slow_alpha = options_.slow_alpha;
  slow_level_ += slow_alpha * c_seasonal;
  if (!daily_.empty()) {
    float& d = daily_[DailyBucket(t_ms)];
    const double per_point =
        options_.daily_gamma * std::min(1.0, step / static_cast<double>(daily_bucket_ms_));
    if (std::isnan(d)) {
      d = static_cast<float>(value - slow_level_);
    } else {
      d = static_cast<float>(d + per_point * (1 - slow_alpha) * c_seasonal);
    }
  }
  if (!weekly_.empty()) {
    float& w = weekly_[WeeklyBucket(t_ms)];
    const double per_point =
        options_.weekly_gamma * std::min(1.0, step / static_cast<double>(kHourMs));
    if (std::isnan(w)) w = 0;
    w = static_cast<float>(w + per_point * (1 - slow_alpha) * c_seasonal);
  }

  // Level shifts: a run of points beyond a predictor's band on one side moves its level to the
  // new regime.
  if (warm) {
    TrackShift(r_fast, sigma_fast, &fast_run_, &fast_run_sum_, &fast_level_);
    TrackShift(r_seasonal, sigma_seasonal, &seasonal_run_, &seasonal_run_sum_, &slow_level_);
  }
  return out;
}

}  // namespace vigil::query::models

namespace vigil::query::models {

// Field order: query/docs/model-state-format.md, "Anomaly band payload".
std::string AnomalyBand::Serialize() const {
  StateWriter w(ModelKind::kAnomalyBand);
  const BandOptions& o = options_;
  w.I64(o.step_ms);
  w.U8(static_cast<uint8_t>((o.daily ? 1 : 0) | (o.weekly ? 2 : 0)));
  w.F64(o.sensitivity);
  w.F64(o.fast_alpha);
  w.F64(o.slow_alpha);
  w.F64(o.daily_gamma);
  w.F64(o.weekly_gamma);
  w.F64(o.spread_beta);
  w.F64(o.huber_k);
  w.U32(o.shift_run);
  w.U32(o.warmup);
  w.F64(o.alert_score);
  w.U32(o.quiet_points);
  w.F64(o.quiet_factor);
  w.U8(static_cast<uint8_t>((initialised_ ? 1 : 0) | (seasonal_ready_ ? 2 : 0)));
  w.I64(static_cast<int64_t>(points_));
  w.I64(start_ms_);
  w.I64(last_t_ms_);
  w.I64(daily_bucket_ms_);
  w.F64(fast_level_);
  w.F64(fast_mad_);
  w.F64(slow_level_);
  w.F64(seasonal_mad_);
  w.F64(fast_err_);
  w.F64(seasonal_err_);
  w.I64(fast_run_);
  w.F64(fast_run_sum_);
  w.I64(seasonal_run_);
  w.F64(seasonal_run_sum_);
  w.U32(quiet_left_);
  w.F64(short_surprisal_);
  w.F64(record_up_);
  w.F64(record_down_);
  w.F64(drift_);
  for (const SurpriseHistogram* h : {&point_hist_, &short_hist_, &drift_hist_}) {
    w.F32s(h->at_least);
    w.F64(h->total);
    w.F64(h->scale);
    w.U32(h->top);
  }
  w.F32s(daily_);
  w.F32s(weekly_);
  return std::move(w).Finish();
}

Result<AnomalyBand> AnomalyBand::Deserialize(std::string_view frame) {
  StateReader r(frame, ModelKind::kAnomalyBand);
  BandOptions o;
  o.step_ms = r.I64("step_ms");
  const uint8_t flags = r.U8("seasons");
  o.daily = (flags & 1) != 0;
  o.weekly = (flags & 2) != 0;
  o.sensitivity = r.F64("sensitivity");
  o.fast_alpha = r.F64("fast_alpha");
  o.slow_alpha = r.F64("slow_alpha");
  o.daily_gamma = r.F64("daily_gamma");
  o.weekly_gamma = r.F64("weekly_gamma");
  o.spread_beta = r.F64("spread_beta");
  o.huber_k = r.F64("huber_k");
  o.shift_run = r.U32("shift_run");
  o.warmup = r.U32("warmup");
  o.alert_score = r.F64("alert_score");
  o.quiet_points = r.U32("quiet_points");
  o.quiet_factor = r.F64("quiet_factor");
  const uint8_t state = r.U8("state_flags");
  VIGIL_RETURN_IF_ERROR(r.status());
  if (o.step_ms < 0) return Status::Corruption("model state: negative step");
  AnomalyBand b(BandOptions{o});  // allocates the profiles when the step is known
  b.initialised_ = (state & 1) != 0;
  b.seasonal_ready_ = (state & 2) != 0;
  b.points_ = static_cast<uint64_t>(r.I64("points"));
  b.start_ms_ = r.I64("start_ms");
  b.last_t_ms_ = r.I64("last_t_ms");
  b.daily_bucket_ms_ = r.I64("daily_bucket_ms");
  b.fast_level_ = r.F64("fast_level");
  b.fast_mad_ = r.F64("fast_mad");
  b.slow_level_ = r.F64("slow_level");
  b.seasonal_mad_ = r.F64("seasonal_mad");
  b.fast_err_ = r.F64("fast_err");
  b.seasonal_err_ = r.F64("seasonal_err");
  b.fast_run_ = static_cast<int32_t>(r.I64("fast_run"));
  b.fast_run_sum_ = r.F64("fast_run_sum");
  b.seasonal_run_ = static_cast<int32_t>(r.I64("seasonal_run"));
  b.seasonal_run_sum_ = r.F64("seasonal_run_sum");
  b.quiet_left_ = r.U32("quiet_left");
  b.short_surprisal_ = r.F64("short_surprisal");
  const bool v1 = r.version() < 2;  // no record or drift fields yet
  if (v1 && !std::isfinite(b.short_surprisal_)) {
    // Version 1 could reach +inf and then NaN here after a value astronomically beyond the
    // spread (a tail that underflowed to 0); the frequency mean restarts instead.
    b.short_surprisal_ = 0;
  } else if (r.status().ok() && !(b.short_surprisal_ >= 0 && std::isfinite(b.short_surprisal_))) {
    return Status::Corruption("model state: short_surprisal out of range");
  }
  if (!v1) {
    b.record_up_ = r.F64("record_up");
    b.record_down_ = r.F64("record_down");
    b.drift_ = r.F64("drift");
    if (r.status().ok() && !(b.record_up_ >= 0 && b.record_down_ >= 0 && std::isfinite(b.drift_))) {
      return Status::Corruption("model state: record or drift fields out of range");
    }
  }
  for (SurpriseHistogram* h : {&b.point_hist_, &b.short_hist_, &b.drift_hist_}) {
    if (v1 && h == &b.drift_hist_) break;
    std::vector<float> bins;
    if (r.F32s(v1 ? "surprise_bins" : "surprise_at_least", SurpriseHistogram::kBins, &bins) &&
        bins.size() != SurpriseHistogram::kBins) {
      return Status::Corruption("model state: surprise histograms must hold " +
                                std::to_string(SurpriseHistogram::kBins) + " bins");
    }
    if (v1) {
      // Version 1 kept each bin's own weight; now each bin holds the weight at or above it.
      double sum = 0;
      for (size_t k = bins.size(); k-- > 0;) {
        sum += bins[k];
        bins[k] = static_cast<float>(sum);
      }
    }
    std::copy(bins.begin(), bins.end(), h->at_least);
    h->total = r.F64("surprise_total");
    h->scale = r.F64("surprise_scale");
    h->top = r.U32("surprise_top");
    if (r.status().ok() &&
        (h->top >= SurpriseHistogram::kBins || !(h->scale >= 1) || !(h->total >= 0))) {
      return Status::Corruption("model state: surprise histogram fields out of range");
    }
  }
  std::vector<float> daily, weekly;
  r.F32s("daily", kMaxDailyBuckets, &daily);
  r.F32s("weekly", kWeeklyBuckets, &weekly);
  VIGIL_RETURN_IF_ERROR(r.Finish());
  if (b.initialised_ != (o.step_ms > 0) || daily.size() != b.daily_.size() ||
      weekly.size() != b.weekly_.size() || (b.initialised_ && b.daily_bucket_ms_ <= 0)) {
    return Status::Corruption("model state: anomaly band profiles do not match its step of " +
                              std::to_string(o.step_ms) + " ms");
  }
  b.daily_ = std::move(daily);
  b.weekly_ = std::move(weekly);
  if (v1 && b.points_ > 0) {
    // Records start from the largest deviation the point histogram has seen (its highest bin, in
    // today's spreads), so that the first deviations after the upgrade are not all records.
    const double z_top = std::expm1((b.point_hist_.top + 1) * kSurpriseBinWidth);
    const double sigma = b.UseSeasonal() ? b.Sigma(b.seasonal_mad_) : b.Sigma(b.fast_mad_);
    b.record_up_ = b.record_down_ = z_top * sigma;
  }
  return b;
}

}  // namespace vigil::query::models
