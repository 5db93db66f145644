#pragma once

// Values shared by the block writer, reader and querier.

#include <cstdint>
#include <string_view>
#include <vector>

namespace vigil::storage {

// Dense id of a series inside one block: 0..n-1 in label order. Postings hold these ids.
using BlockSeriesId = uint32_t;
// Sorted, unique block series ids.
using PostingsList = std::vector<BlockSeriesId>;

// Where a chunk lives in a block: segment number (from 1) << 32 | byte offset of its frame.
using ChunkRef = uint64_t;
inline constexpr ChunkRef MakeChunkRef(uint32_t segment, uint32_t offset) {
  return (static_cast<uint64_t>(segment) << 32) | offset;
}
inline constexpr uint32_t ChunkRefSegment(ChunkRef ref) { return static_cast<uint32_t>(ref >> 32); }
inline constexpr uint32_t ChunkRefOffset(ChunkRef ref) { return static_cast<uint32_t>(ref); }

// One chunk of a series. Writer input: `data` holds the encoded chunk (compression/chunk.h) and
// `ref` is ignored. Reader output: `ref` locates the chunk and `data` is empty (read it with
// BlockReader::Chunk(ref)). Times are inclusive milliseconds.
struct ChunkMeta {
  int64_t min_t = 0;
  int64_t max_t = 0;
  uint32_t num_samples = 0;
  ChunkRef ref = 0;
  std::string_view data;
};

// A deleted time range, inclusive at both ends.
struct Interval {
  int64_t min_t = 0;
  int64_t max_t = 0;

  bool Contains(int64_t t) const { return t >= min_t && t <= max_t; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted by min_t, non-overlapping and non-adjacent (AddInterval keeps them so).
using Intervals = std::vector<Interval>;

// Adds `iv` to `*ivs`, merging it with overlapping or adjacent intervals. REQUIRES: min_t <= max_t.
void AddInterval(Intervals* ivs, Interval iv);

}  // namespace vigil::storage
