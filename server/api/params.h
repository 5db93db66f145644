#pragma once

// Parameters of the Prometheus HTTP API, parsed as Prometheus parses them, with its error texts.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/request.h"
#include "storage/base/status.h"
#include "storage/matcher.h"

namespace vigil::server {

// Bounds used when start / end are absent (Prometheus' MinTime / MaxTime).
inline constexpr int64_t kApiMinTime = std::numeric_limits<int64_t>::min() / 2;
inline constexpr int64_t kApiMaxTime = std::numeric_limits<int64_t>::max() / 2;

// A time given as float seconds since the epoch ("1435781451.781", rounded to milliseconds) or as
// RFC 3339 ("2015-07-01T20:10:51.781Z", "2015-07-01T22:10:51+02:00"). Returns milliseconds.
// Error: `cannot parse "<s>" to a valid timestamp`.
Result<int64_t> ParseApiTime(std::string_view s);

// A duration given as float seconds ("15", "0.5") or in PromQL syntax ("1m30s"). Returns
// milliseconds (sub-millisecond parts are dropped). Error: `cannot parse "<s>" to a valid
// duration`.
Result<int64_t> ParseApiDuration(std::string_view s);

// Milliseconds since the epoch as RFC 3339 with milliseconds ("2015-07-01T20:10:51.781Z").
std::string FormatRfc3339(int64_t ms);

// The form value `name` as a time, or default_ms when absent or empty. Errors are
// `invalid parameter "<name>": ...`.
Result<int64_t> TimeParam(const HttpRequest& req, std::string_view name, int64_t default_ms);

// `limit`: absent or empty -> 0 (no limit); negative or not an integer -> error.
Result<int64_t> LimitParam(const HttpRequest& req);

// Every match[] value parsed as a series selector (`up{job="x"}`), each into storage matchers.
// Errors: `invalid parameter "match[]": <parser's message>`.
Result<std::vector<std::vector<storage::Matcher>>> MatchParams(const HttpRequest& req);

}  // namespace vigil::server
