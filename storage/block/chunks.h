#pragma once

// Chunk segment files `chunks/NNNNNN` (storage/docs/format/chunks.md): an 8-byte header, then
// frames of uvarint length, chunk bytes and the low 32 bits of their XXH3-64. Internal to
// storage/block.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/block/file_view.h"
#include "storage/block/types.h"

namespace vigil::storage::block {

// "000001" for segment 1.
std::string SegmentName(uint32_t segment);

// Appends chunks to segments of at most `max_segment_size` bytes (a lone chunk larger than that
// gets a segment of its own). Thread safety: none.
class ChunkWriter {
 public:
  ChunkWriter(FileSystem* fs, std::string dir, uint64_t max_segment_size);
  ~ChunkWriter();

  // Appends one chunk; returns its ref. REQUIRES: !chunk.empty().
  Result<ChunkRef> Write(std::string_view chunk);
  // Syncs and closes the open segment.
  Status Finish();

 private:
  Status Cut();

  FileSystem* fs_;
  std::string dir_;
  uint64_t max_segment_size_;
  uint32_t segment_ = 0;
  std::unique_ptr<WritableFile> file_;
  std::string frame_;
};

// Read access to every segment of a block. Thread safety: immutable after Open().
class ChunkReader {
 public:
  // Opens chunks/000001.. (names must be consecutive from 1) and checks their headers.
  static Result<ChunkReader> Open(FileSystem* fs, const std::string& dir);

  // The chunk bytes at `ref`, after checking the frame bounds and its checksum. The view is valid
  // while this reader lives.
  Result<std::string_view> Chunk(ChunkRef ref) const;

  // Walks every frame of every segment, checking lengths and checksums to the end of each file.
  // Returns the number of chunks.
  Result<uint64_t> Verify() const;

  size_t num_segments() const { return segments_.size(); }

 private:
  std::vector<FileView> segments_;  // segments_[i] is segment i + 1
};

}  // namespace vigil::storage::block
