#include "tools/nab/replay.h"

#include <cmath>
#include <limits>

namespace vigil::nab {

namespace qm = query::models;

std::vector<double> ReplayAnomalyScores(const SeriesCsv& series, const qm::BandOptions& options) {
  qm::AnomalyBand band(options);
  std::vector<double> scores;
  scores.reserve(series.values.size());
  for (size_t i = 0; i < series.values.size(); ++i) {
    scores.push_back(band.Update(series.timestamps[i] * 1000, series.values[i]).score);
  }
  return scores;
}

std::vector<qm::ForecastPoint> ReplayForecast(const SeriesCsv& series,
                                              const qm::ForecastOptions& options) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const size_t n = series.values.size();
  const size_t h = options.horizon;
  std::vector<qm::ForecastPoint> out(n, qm::ForecastPoint{nan, nan, nan});
  qm::HoltWinters model(options);
  for (size_t i = 0; i < n; ++i) {
    model.Update(series.timestamps[i] * 1000, series.values[i]);
    if (i + h < n) out[i + h] = model.Forecast(static_cast<uint32_t>(h));
  }
  return out;
}

ForecastAccuracy EvaluateForecast(const SeriesCsv& series,
                                  const std::vector<qm::ForecastPoint>& forecasts, uint32_t horizon,
                                  uint32_t season_rows) {
  ForecastAccuracy acc;
  const std::vector<double>& y = series.values;
  const size_t start = std::max<size_t>(season_rows, horizon);
  double scale = 0, model = 0, naive = 0, snaive = 0;
  for (size_t i = start; i < y.size(); ++i) {
    scale += std::abs(y[i] - y[i - season_rows]);
    model += std::abs(y[i] - forecasts[i].value);
    naive += std::abs(y[i] - y[i - horizon]);
    snaive += std::abs(y[i] - y[i - season_rows]);
    if (y[i] >= forecasts[i].lower && y[i] <= forecasts[i].upper) ++acc.covered;
    ++acc.rows;
  }
  if (acc.rows == 0 || scale == 0) return acc;
  acc.mase_model = model / scale;
  acc.mase_naive = naive / scale;
  acc.mase_snaive = snaive / scale;
  return acc;
}

}  // namespace vigil::nab
