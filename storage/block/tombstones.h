#pragma once

// The `tombstones` file of a block (storage/docs/format/tombstones.md): deleted time ranges per
// block series id. A block is written with an empty tombstones file; deletes later replace it
// atomically (WriteFileAtomic), and compaction applies them.

#include <map>
#include <string>
#include <string_view>

#include "storage/base/file_system.h"
#include "storage/block/types.h"

namespace vigil::storage {

// Deleted intervals per series; series without deletions are absent. Interval lists follow the
// Intervals invariant (sorted, merged).
using TombstoneMap = std::map<BlockSeriesId, Intervals>;

// The whole file: header, entries, checksum.
std::string EncodeTombstones(const TombstoneMap& tombstones);
// Parses a whole file; Corruption naming `path` and the offset on any defect (bad magic or
// version, checksum, truncation, unsorted ids or intervals).
Result<TombstoneMap> DecodeTombstones(std::string_view file, const std::string& path);

// Reads / atomically replaces `<block_dir>/tombstones`.
Result<TombstoneMap> ReadTombstones(FileSystem* fs, const std::string& block_dir);
Status WriteTombstones(FileSystem* fs, const std::string& block_dir, const TombstoneMap& tombstones);

}  // namespace vigil::storage
