#pragma once

// Writes what a Querier returns as one block: the head flush, compaction, CleanTombstones and
// Db::Snapshot all go through here, so every block is written by one code path (series in label
// order, samples re-encoded with the adaptive encoder, chunks of at most `chunk_samples`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compression/block_codec.h"
#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/block/meta.h"
#include "storage/querier.h"

namespace vigil::storage {

struct WriteBlockOptions {
  int64_t min_time = 0;  // the range [min_time, max_time) to write; samples outside are skipped
  int64_t max_time = 0;
  // 0: one block for the whole range. Otherwise one block per aligned range of this many ms
  // (floor(t / split) * split) that holds samples, its range clipped to [min_time, max_time).
  int64_t split_range_ms = 0;
  int compaction_level = 1;
  std::vector<std::string> sources;
  uint32_t chunk_samples = 120;
  // Blocks of compaction level >= compress_from_level get their chunk segments compressed in
  // 64 KiB pieces with `chunk_compression` (storage/docs/format/chunks.md, version 2), and their
  // index's series section in 16 KiB pieces with the same codec (index.md, version 2). Every
  // level by default: blocks only hold data the head has let go (older than about 2 h), which
  // dashboards read less often than the head, and it halves their chunk bytes. kNone (or a
  // level above any block's) keeps version 1 segments and index.
  compression::BlockCodec chunk_compression = compression::BlockCodec::kZstd;
  int chunk_compression_level = 3;
  int compress_from_level = 1;
  Clock* clock = nullptr;  // for the block id; SystemClock() when null
};

// Publishes blocks <parent_dir>/<new id>/ holding every series `q` selects (all of them) with
// their samples in the range, in one pass over `q`. Returns the metas of the blocks written (none
// if there is no sample in the range), in range order. `q` should cover at least
// [min_time, max_time - 1]. On error, blocks already published stay (they are complete).
Result<std::vector<BlockMeta>> WriteBlocks(FileSystem* fs, const std::string& parent_dir,
                                           Querier* q, const WriteBlockOptions& options);

// The start of the aligned range of `range` ms holding t (floor division).
int64_t AlignDown(int64_t t, int64_t range);

}  // namespace vigil::storage
