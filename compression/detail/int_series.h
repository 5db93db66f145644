#pragma once

// The integer series coder shared by the adaptive encodings: it stores the timestamps of every
// adaptive chunk and the integers of kIntDoubleDelta and kDecimal (compression/docs/int_series.md).
// A series x_0..x_{n-1} is stored as x_0, a mode, a step S and n-1 residuals that are bit-packed
// with one width per series plus an exception list (patched frame of reference):
//   kDelta: r_j = x_j - x_{j-1} - S
//   kGrid:  r_j = x_j - x_0 - j*S
//   kDod:   r_j = d_j - d_{j-1}, d_j = x_j - x_{j-1}, d_0 = S
// All arithmetic wraps modulo 2^64, so every int64 sequence round-trips. The decoder is
// IntSeriesReader (int_series_reader.h).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "compression/detail/bit_writer.h"
#include "compression/detail/bits.h"

namespace vigil::compression::detail {

enum class SeriesMode : uint8_t { kDelta = 0, kGrid = 1, kDod = 2 };

struct IntSeriesPlan {
  uint64_t first = 0;
  SeriesMode mode = SeriesMode::kDelta;
  uint64_t step = 0;
  unsigned width = 0;       // base width of every residual, 0..64
  unsigned exc_width = 0;   // high bits stored per exception
  uint32_t exc_count = 0;
  unsigned rice_k = 0;      // Rice parameter of the exception index gaps
  uint64_t exc_bits = 0;    // length of the exception list
  uint64_t bits = 0;        // size of the whole section
  std::vector<uint64_t> residuals;  // zigzagged, n-1 of them
};

// Chooses the cheapest mode and width for `xs` (1 <= n <= 65535 values, as wrapped uint64).
// `quick`: only delta and grid with the median step are tried (not a zero-step grid, not
// delta-of-delta), about half the work, for chunks that live in memory for a few hours.
IntSeriesPlan PlanIntSeries(std::span<const uint64_t> xs, bool quick = false);
void WriteIntSeries(const IntSeriesPlan& plan, BitWriter& w);

}  // namespace vigil::compression::detail
