#pragma once

// Writes one immutable block directory (storage/docs/format/block.md):
//
//   <parent>/<id>.tmp/{chunks/000001.., index, meta.json, tombstones}
//     -> every file synced, chunks/ and <id>.tmp/ synced
//     -> renamed to <parent>/<id>/, <parent> synced.
//
// A crash or an error at any step leaves either no <id>/ or a complete one; a leftover
// <id>.tmp/ is removed by the writer on error when it can, otherwise by Db::Open.
//
// Usage:
//   VIGIL_ASSIGN_OR_RETURN(auto w, BlockWriter::Create(fs, dir, options));
//   for each series in label order: VIGIL_RETURN_IF_ERROR(w->AddSeries(labels, chunks));
//   VIGIL_ASSIGN_OR_RETURN(BlockMeta meta, w->Finish());

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compression/block_codec.h"
#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/block/format.h"
#include "storage/block/meta.h"
#include "storage/block/types.h"
#include "storage/labels.h"

namespace vigil::storage {

namespace block {
class ChunkWriter;
struct IndexSeries;
}  // namespace block

struct BlockWriterOptions {
  // Block id; empty means NewBlockId(clock->NowMillis()). Tests set it for deterministic output.
  std::string id;
  Clock* clock = nullptr;  // SystemClock() when null
  // The block's range [min_time, max_time). Unset: from the chunks (max_time = last max_t + 1).
  // When set, every chunk must lie inside it.
  std::optional<int64_t> min_time;
  std::optional<int64_t> max_time;
  int compaction_level = 1;
  std::vector<std::string> compaction_sources;
  // A chunk segment is cut before it would exceed this (capped at 4 GiB).
  uint64_t max_segment_size = block::kDefaultSegmentSize;
  // kNone writes plain chunk segments (version 1); kZstd / kLz4 compress them in pieces of
  // 64 KiB (version 2, storage/docs/format/chunks.md) at `chunk_compression_level`.
  compression::BlockCodec chunk_compression = compression::BlockCodec::kNone;
  int chunk_compression_level = 3;
  // kNone writes a version 1 index; kZstd / kLz4 write version 3 (storage/docs/format/index.md):
  // the series section in pieces of 16 KiB, every other section whole, at
  // `index_compression_level`.
  compression::BlockCodec index_compression = compression::BlockCodec::kNone;
  int index_compression_level = 3;
  // With index compression: 3 (every section compressed) or 2 (only the series section), for
  // golden files of that version.
  int index_version = 3;
};

// Thread safety: none; one writer per thread. Destroying an unfinished writer removes <id>.tmp/.
class BlockWriter {
 public:
  // Creates <parent_dir>/<id>.tmp/ (replacing a leftover of that name). `fs` must outlive the
  // writer. AlreadyExists if <parent_dir>/<id>/ exists.
  static Result<std::unique_ptr<BlockWriter>> Create(FileSystem* fs, std::string parent_dir,
                                                     BlockWriterOptions options);
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Adds a series and its chunks (their bytes are copied during the call).
  // REQUIRES, else InvalidArgument: labels non-empty and greater than the previous series';
  // chunks non-empty with min_t <= max_t, num_samples > 0, sorted by time and disjoint
  // (chunk[i].max_t < chunk[i+1].min_t), inside the options' range if set. A series without
  // chunks is skipped. Errors are sticky: Finish() returns the first.
  Status AddSeries(const Labels& labels, std::span<const ChunkMeta> chunks);

  // Writes index, meta.json and tombstones and publishes the block. Returns its meta.
  Result<BlockMeta> Finish();

  const std::string& id() const { return id_; }
  // <parent_dir>/<id>, where the block appears after Finish().
  std::string final_dir() const;

 private:
  BlockWriter(FileSystem* fs, std::string parent_dir, BlockWriterOptions options, std::string id);
  Status Publish(BlockMeta* meta);
  Status WriteSmallFile(const std::string& path, std::string_view data);
  // Writes the pending series' chunks, series that share chunk times next to each other.
  Status FlushGroup();

  // Compressed segments (version 2) only: the series of one metric name are held back, up to
  // about kMaxGroupBytes of chunk bytes, and written grouped by their chunk times (min_t, max_t and
  // sample count of every chunk). Series scraped together (one target's counters, a histogram's
  // buckets) then sit next to each other in the pieces, and the piece compressor stores their
  // identical timestamp columns once. Order inside a group and between groups (by first member)
  // stays the label order; a series' chunks stay together. The index is unaffected: it stores a
  // ref per chunk.
  struct PendingSeries {
    size_t index;       // into series_
    uint64_t times;     // hash of the chunk times
    size_t first_byte;  // into pending_bytes_
    size_t first_size;  // into pending_sizes_
  };
  // A reader walks a group's series in label order, which sweeps the group's pieces once per
  // series of a target; the group must fit in the pieces a ChunkReader keeps (with room for the
  // partial pieces at its ends and one more series), or each sweep decompresses them all again
  // (compaction reads without the shared cache). 12 pieces: 768 KiB.
  static constexpr size_t kMaxGroupBytes = (block::kChunkPieceCacheSize - 4) * block::kPieceSize;
  static_assert(kMaxGroupBytes >= 8 * block::kPieceSize);
  std::vector<PendingSeries> pending_;
  std::string pending_bytes_;
  std::vector<uint32_t> pending_sizes_;  // per chunk
  std::string group_name_;

  FileSystem* fs_;
  std::string parent_dir_;
  BlockWriterOptions options_;
  std::string id_;
  std::string tmp_dir_;
  std::unique_ptr<block::ChunkWriter> chunks_;
  std::vector<block::IndexSeries> series_;
  BlockStats stats_;
  int64_t min_t_ = INT64_MAX, max_t_ = INT64_MIN;
  Status status_;
  bool finished_ = false;
};

}  // namespace vigil::storage
