// Vigil's model functions over range vectors (query/docs/vigil-functions.md): each step replays
// the window's samples through the same streaming models the continuous queries keep
// (query/models/), so an ad-hoc query or a backtest shows what a CQ would have drawn.
#include <algorithm>
#include <cmath>

#include "query/eval/functions.h"
#include "query/models/anomaly_band.h"
#include "query/models/holt_winters.h"

namespace vigil::query::eval {

namespace {

namespace qm = query::models;

// The window's sample interval: its span divided by the number of gaps, at least 1 ms.
int64_t WindowStep(const Window& w) {
  return std::max<int64_t>(1, (w.ts[w.n - 1] - w.ts[0]) / static_cast<int64_t>(w.n - 1));
}

enum class Part { kValue, kLower, kUpper, kScore };

bool Forecast(const Window& w, const double* args, double* out, Part part) {
  if (w.n < 3) return false;
  const double horizon_s = args[0], season_s = args[1];
  qm::ForecastOptions o;
  o.step_ms = WindowStep(w);
  o.season_ms = season_s > 0    ? static_cast<int64_t>(season_s * 1000)
                : season_s == 0 ? 0
                                : qm::ForecastOptions::kAutoSeason;
  const double target = static_cast<double>(w.eval_t) + horizon_s * 1000;
  const double steps =
      std::round((target - static_cast<double>(w.ts[w.n - 1])) / static_cast<double>(o.step_ms));
  o.horizon = static_cast<uint32_t>(
      std::clamp(steps, 1.0, static_cast<double>(qm::HoltWinters::kMaxHorizon)));
  // An automatic season is looked for in the first two thirds of the window.
  o.detect_points =
      static_cast<uint32_t>(std::min<size_t>(w.n * 2 / 3, qm::HoltWinters::kMaxWarmup));
  qm::HoltWinters model(o);
  for (size_t i = 0; i < w.n; ++i) model.Update(w.ts[i], w.vs[i]);
  const qm::ForecastPoint f = model.Forecast(o.horizon);
  *out = part == Part::kLower ? f.lower : part == Part::kUpper ? f.upper : f.value;
  return !std::isnan(*out);
}

bool Band(const Window& w, const double* args, double* out, Part part) {
  if (w.n < 3) return false;
  qm::BandOptions o;
  o.step_ms = WindowStep(w);
  if (part != Part::kScore) o.sensitivity = args[0];
  o.warmup = static_cast<uint32_t>(std::min<size_t>(o.warmup, w.n / 4));
  qm::AnomalyBand band(o);
  qm::BandPoint p;
  for (size_t i = 0; i < w.n; ++i) p = band.Update(w.ts[i], w.vs[i]);
  switch (part) {
    case Part::kValue:
      *out = p.expected;
      break;
    case Part::kLower:
      *out = p.lower;
      break;
    case Part::kUpper:
      *out = p.upper;
      break;
    case Part::kScore:
      *out = p.score;
      break;
  }
  return !std::isnan(*out);
}

}  // namespace

bool VigilForecast(const Window& w, const double* args, double* out) {
  return Forecast(w, args, out, Part::kValue);
}
bool VigilForecastLower(const Window& w, const double* args, double* out) {
  return Forecast(w, args, out, Part::kLower);
}
bool VigilForecastUpper(const Window& w, const double* args, double* out) {
  return Forecast(w, args, out, Part::kUpper);
}
bool VigilAnomalyExpected(const Window& w, const double* args, double* out) {
  return Band(w, args, out, Part::kValue);
}
bool VigilAnomalyLower(const Window& w, const double* args, double* out) {
  return Band(w, args, out, Part::kLower);
}
bool VigilAnomalyUpper(const Window& w, const double* args, double* out) {
  return Band(w, args, out, Part::kUpper);
}
bool VigilAnomalyScore(const Window& w, const double* args, double* out) {
  return Band(w, args, out, Part::kScore);
}

Status CheckModelArgs(std::string_view name, double a0, double a1) {
  if (name.starts_with("vigil_forecast")) {
    if (!(a0 >= 0) || !std::isfinite(a0)) {
      return Status::InvalidArgument(std::string(name) +
                                     ": horizon_seconds must be a finite number >= 0, got " +
                                     std::to_string(a0));
    }
    if (std::isnan(a1) || std::isinf(a1)) {
      return Status::InvalidArgument(std::string(name) +
                                     ": season_seconds must be finite (0: none, < 0: automatic)");
    }
  } else if (name != "vigil_anomaly_score") {
    if (!(a0 > 0) || !std::isfinite(a0)) {
      return Status::InvalidArgument(std::string(name) +
                                     ": sensitivity must be a finite number > 0, got " +
                                     std::to_string(a0));
    }
  }
  return Status::OK();
}

}  // namespace vigil::query::eval
