#pragma once

#include <cstdint>

namespace vigil::storage {

// Dense, process-local identifier of a series in the head. Refs are assigned in increasing order
// starting at 1 and are never reused while the process runs; 0 means "no series". Protocol handlers
// keep the ref an Appender returned so that the next append skips hashing the labels. A ref is
// persisted in the WAL and stays valid across a restart that replays that WAL.
using SeriesRef = uint64_t;
inline constexpr SeriesRef kNoSeriesRef = 0;

// The Prometheus stale marker: a NaN with this exact bit pattern. Storage keeps it bit-exactly.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

}  // namespace vigil::storage
