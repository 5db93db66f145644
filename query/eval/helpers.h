#pragma once

// Small shared pieces of the evaluator: quantiles, label printing, hashing. Internal to query/.

#include <string>
#include <string_view>
#include <vector>

#include "storage/labels.h"

namespace vigil::query::eval {

// Prometheus' quantile over values (sorted in place, NaN first): linear interpolation between the
// closest ranks; NaN for no values or q NaN, -Inf for q < 0, +Inf for q > 1.
double Quantile(double q, std::vector<double>& values);

// Prometheus' labels.String(): {a="b", c="d"} with Go quoting.
std::string LabelsString(const storage::Labels& ls);

// Prometheus' labels.Hash() (xxhash64 of name 0xff value 0xff ...), for limit_ratio.
uint64_t PromLabelsHash(const storage::Labels& ls);

// Whether limit_ratio(ratio, ...) selects a series (ratio in [-1, 1]).
bool RatioSelects(double ratio, const storage::Labels& ls);

// Natural ordering of label values as sort_by_label uses: digit runs compare as numbers.
bool NaturalLess(std::string_view a, std::string_view b);

}  // namespace vigil::query::eval
