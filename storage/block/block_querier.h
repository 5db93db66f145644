#pragma once

// A Querier (storage/querier.h) over one block.

#include <cstdint>
#include <memory>

#include "storage/block/block_reader.h"
#include "storage/querier.h"

namespace vigil::storage {

// Selects series of `reader` and their samples with timestamps in [min_t, max_t] (inclusive),
// minus the block's tombstones as of this call. Series whose chunks all lie outside the range or
// inside deleted intervals are not returned. The querier, its series sets and iterators share
// ownership of the reader. A chunk whose checksum fails ends its iterator with Corruption.
std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<const BlockReader> reader, int64_t min_t,
                                         int64_t max_t);

}  // namespace vigil::storage
