#pragma once

// Expanding notation of promqltest series values: `1 2+3x4 _ _x2 stale 5x3 -1-1x2 {{...}}`.
// Internal to query/promqltest.

#include <optional>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::query::promqltest {

struct SeqValue {
  enum Kind : uint8_t { kFloat, kOmitted, kStale, kHistogram } kind = kFloat;
  double v = 0;
};

// Expands a values string into one entry per interval slot.
Result<std::vector<SeqValue>> ParseValues(std::string_view text);

// A plain number as Prometheus writes it in scripts (Inf, NaN, exponents, hex integers).
std::optional<double> ParseNumber(std::string_view s);

// Splits `metric{a="b"} 1 2 3` into the series part and the values part.
bool SplitSeriesLine(std::string_view line, std::string_view* series, std::string_view* values);

}  // namespace vigil::query::promqltest
