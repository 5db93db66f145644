#pragma once

// Continuous-query definitions (server/docs/continuous-queries.md): what a CQ computes, how they
// persist in the data directory (`cq/definitions.yaml`), and Prometheus rule files (recording rules
// become `record` CQs). Pure data and parsing; thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/base/status.h"

namespace vigil::server::cq {

enum class CqKind : uint8_t { kRecord, kForecast, kAnomaly };

std::string_view KindName(CqKind kind);  // "record", "forecast", "anomaly"
Result<CqKind> ParseKind(std::string_view name);

struct CqDefinition {
  // record: the output metric name. forecast / anomaly: the prefix of `<name>:forecast`, ...
  std::string name;
  std::string expr;  // PromQL evaluated as an instant query at each aligned time
  int64_t interval_ms = 60'000;
  CqKind kind = CqKind::kRecord;
  // forecast: season (−1 automatic, 0 none) and how far ahead the forecast is written.
  int64_t season_ms = -1;
  int64_t horizon_ms = 3'600'000;
  // forecast: nominal coverage of [lower, upper]; anomaly: band half-width in robust σ.
  double coverage = 0.95;
  double sensitivity = 3.0;
  // Labels added to (or replacing those of) every output series.
  std::vector<std::pair<std::string, std::string>> labels;
  std::string group;  // the rule group a definition came from ("" for API-created CQs)

  bool operator==(const CqDefinition&) const = default;
};

// Name: a metric name without a colon for forecast / anomaly (the outputs append `:<part>`), any
// valid metric name for record; the expression parses; interval ≥ 1 s; parameters in range.
Status Validate(const CqDefinition& def);

// The definitions file: YAML `{version: 1, cqs: [{name, kind, expr, interval, ...}]}` (durations
// in milliseconds). Decode validates every entry and names the failing one.
std::string EncodeDefinitions(const std::vector<CqDefinition>& defs);
Result<std::vector<CqDefinition>> DecodeDefinitions(std::string_view yaml);

// A Prometheus rule file (`groups: [{name, interval, rules: [{record, expr, labels}]}]`). Every
// recording rule becomes a record CQ with its group's interval (default `default_interval_ms`);
// alerting rules are refused (InvalidArgument naming group and rule), as are unknown keys.
Result<std::vector<CqDefinition>> ParseRuleFile(std::string_view yaml, int64_t default_interval_ms);

// One CQ given as a flat set of string parameters (HTTP form or JSON fields): name, expr, kind,
// interval (PromQL duration), season (auto | none | duration), horizon (duration), coverage,
// sensitivity, labels ("a=b,c=d").
Result<CqDefinition> DefinitionFromParams(
    const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace vigil::server::cq
