#pragma once

// Replays a `timestamp,value` series through Vigil's streaming models one row at a time, exactly
// as a continuous query would see it: each output row uses only that row and earlier ones.

#include <cstdint>
#include <vector>

#include "query/models/anomaly_band.h"
#include "query/models/holt_winters.h"
#include "tools/nab/corpus.h"

namespace vigil::nab {

// The anomaly score of every row.
std::vector<double> ReplayAnomalyScores(const SeriesCsv& series,
                                        const query::models::BandOptions& options);

// Row i holds the forecast for row i made `horizon` rows earlier (after feeding rows ≤ i −
// horizon); NaN for the first `horizon` rows.
std::vector<query::models::ForecastPoint> ReplayForecast(
    const SeriesCsv& series, const query::models::ForecastOptions& options);

// Figures of `ForecastScores` for one file or, combined, for a corpus.
struct ForecastAccuracy {
  double mase_model = 0;   // mean |error| / in-sample seasonal-naive scale
  double mase_naive = 0;   // forecast = the value `horizon` rows earlier
  double mase_snaive = 0;  // forecast = the value one season earlier
  int64_t covered = 0;     // rows inside [lower, upper]
  int64_t rows = 0;        // rows evaluated
};

// Evaluates rows from `season_rows` on (where every method has a forecast). The scale is the mean
// |y_t − y_{t−season_rows}| over the same rows (in-sample seasonal naive).
ForecastAccuracy EvaluateForecast(const SeriesCsv& series,
                                  const std::vector<query::models::ForecastPoint>& forecasts,
                                  uint32_t horizon, uint32_t season_rows);

}  // namespace vigil::nab
