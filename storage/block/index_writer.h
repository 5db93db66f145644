#pragma once

// Writes the index file of a block (storage/docs/format/index.md). Internal to storage/block.

#include <span>
#include <string>
#include <vector>

#include "compression/block_codec.h"
#include "storage/base/file_system.h"
#include "storage/block/types.h"
#include "storage/labels.h"

namespace vigil::storage::block {

struct IndexSeries {
  Labels labels;
  std::vector<ChunkMeta> chunks;  // refs set, data ignored
};

struct IndexWriterOptions {
  // kNone writes version 1 (every section plain); kZstd / kLz4 write version 3: the series section
  // compressed in pieces of 16 KiB and every other section compressed as a whole (kept plain when
  // larger than 16 MiB), at `level` (storage/docs/format/index.md).
  compression::BlockCodec series_compression = compression::BlockCodec::kNone;
  int level = 3;
  // With a codec: 2 writes version 2 (only the series section compressed), for golden files.
  int version = 3;
};

// Writes, syncs and closes the index at `path`. `series` are in strictly increasing label order;
// their positions are their ids. InvalidArgument when a section would exceed the 4 GiB that its
// 32-bit offsets can address.
Status WriteIndex(FileSystem* fs, const std::string& path, std::span<const IndexSeries> series,
                  const IndexWriterOptions& options = {});

// The index bytes for `series` (what WriteIndex writes), for tests and tools.
Result<std::string> BuildIndex(std::span<const IndexSeries> series, const IndexWriterOptions& options = {});

}  // namespace vigil::storage::block
