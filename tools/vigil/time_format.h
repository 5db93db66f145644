#pragma once

// Times and durations as the operator types and reads them.
//
// ParseTime accepts:  now | now-1h | now+5m | -1h30m | +5m   (relative to `now_ms`)
//                     2026-11-27T05:00:00Z | 2026-11-27T05:00:00.250+01:00 | 2026-11-27 05:00:00
//                     (RFC 3339; a space may replace 'T'; no zone means UTC) | 2026-11-27
//                     1700000000 | 1700000000.5   (Unix seconds)
// Durations use Prometheus' syntax (1h30m, 15s, 500ms).

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace vigil::shell {

Result<int64_t> ParseTime(std::string_view text, int64_t now_ms);

// A query step: a Prometheus duration ("15s") or a number of seconds ("15", "0.5"). Must be > 0.
Result<int64_t> ParseStep(std::string_view text);

// True when `text` is relative to the current time ("now", "-1h", ...), so that it is resolved
// again for every query.
bool IsRelativeTime(std::string_view text);

// "2026-11-27 05:49:28" in UTC, with ".250" when the millisecond part is not zero.
std::string FormatTimestamp(int64_t ms);
// Compact duration: "1h30m", "15s", "250ms", "0s".
std::string FormatDuration(int64_t ms);
// Elapsed time for result footers: "850µs", "12.3ms", "1.52s".
std::string FormatElapsed(double ms);

}  // namespace vigil::shell
