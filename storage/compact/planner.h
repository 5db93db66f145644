#pragma once

// Which blocks to compact next (storage/README.md, "Lifecycle"). Pure functions over block
// metadata, so the plan is testable without files.

#include <cstdint>
#include <span>
#include <vector>

#include "storage/block/meta.h"

namespace vigil::storage {

// The level ranges: block_range x 1, 3, 12, 36, 108, ... (2 h, 6 h, 24 h, 72 h, 9 d ... with the
// default), keeping those not above the cap: 10 % of retention_ms, or 31 days without time
// retention. The first entry (the level-0 range) is always present.
std::vector<int64_t> CompactionRanges(int64_t block_range_ms, int64_t retention_ms);

// The indexes (into `blocks`) of the next group to merge, or none. In order of preference:
//   1. blocks whose ranges overlap (a straggler block, a snapshot): the first group of
//      transitively overlapping blocks;
//   2. for each range r of `ranges`, smallest first: two or more blocks lying inside one aligned
//      range [k*r, (k+1)*r), if that range has ended before the newest block's end (so the range
//      holding the newest data is left alone until it is complete) or `force` is set.
std::vector<size_t> PlanCompaction(std::span<const BlockMeta* const> blocks,
                                   std::span<const int64_t> ranges, bool force);

}  // namespace vigil::storage
