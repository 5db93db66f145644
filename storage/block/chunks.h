#pragma once

// Chunk segment files `chunks/NNNNNN` (storage/docs/format/chunks.md). Two versions:
//   1  plain: an 8-byte header, then frames of uvarint length, chunk bytes and the low 32 bits of
//      their XXH3-64. A chunk ref is segment << 32 | frame offset.
//   2  compressed: the same frames (without their checksums) gathered into pieces of about 64 KiB
//      that are compressed one by one (compression/block_codec.h), each with a checksum, and a
//      piece table at the end. A chunk ref is segment << 32 | piece << 16 | offset in the piece.
// Internal to storage/block.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compression/block_codec.h"
#include "storage/base/file_system.h"
#include "storage/block/file_view.h"
#include "storage/block/types.h"

namespace vigil::storage::block {

class PieceCache;

// "000001" for segment 1.
std::string SegmentName(uint32_t segment);

struct ChunkWriterOptions {
  // A segment is cut before it would exceed this (capped at 4 GiB).
  uint64_t max_segment_size = uint64_t{512} << 20;
  // kNone writes version 1 segments; kZstd or kLz4 write version 2 (compressed pieces).
  compression::BlockCodec codec = compression::BlockCodec::kNone;
  int level = 3;  // compression level (see compression::CompressBlock)
};

// Appends chunks to segments. Thread safety: none.
class ChunkWriter {
 public:
  ChunkWriter(FileSystem* fs, std::string dir, ChunkWriterOptions options);
  ~ChunkWriter();

  // Appends one chunk; returns its ref. REQUIRES: !chunk.empty(). In version 2 the chunk reaches
  // the file when its piece is full or at Finish().
  Result<ChunkRef> Write(std::string_view chunk);
  // Writes what is pending, syncs and closes the open segment.
  Status Finish();

 private:
  Status Cut();
  Status FlushPiece();
  Status FinishSegment();

  FileSystem* fs_;
  std::string dir_;
  ChunkWriterOptions options_;
  uint32_t segment_ = 0;
  std::unique_ptr<WritableFile> file_;
  std::string frame_;
  // Version 2 state of the open segment.
  std::string piece_;                  // frames of the piece being filled
  std::vector<uint32_t> piece_offsets_;  // file offsets of the pieces written so far
  std::string compressed_;
};

// A chunk's bytes and what keeps them valid: for a compressed piece of a version 2 segment the
// decompressed piece that holds them; otherwise nothing (they view the segment file, valid while
// the reader lives): version 1 frames and version 2 pieces stored uncompressed (kNone).
struct ChunkData {
  std::string_view bytes;
  std::shared_ptr<const std::string> piece;
};

// Read access to every segment of a block. Thread safety: safe for concurrent use after Open().
class ChunkReader {
 public:
  ChunkReader();
  ~ChunkReader();
  ChunkReader(ChunkReader&&) noexcept;
  ChunkReader& operator=(ChunkReader&&) noexcept;

  // Opens chunks/000001.. (names must be consecutive from 1) and checks their headers (and the
  // piece tables of version 2 segments).
  static Result<ChunkReader> Open(FileSystem* fs, const std::string& dir);

  // The chunk at `ref`, after checking the frame bounds and its checksum (version 1) or the
  // piece's checksum (version 2). A compressed piece is decompressed on first use and kept in a
  // small cache; a piece stored uncompressed is read in place, its checksum checked at its first
  // use by this reader.
  Result<ChunkData> Chunk(ChunkRef ref) const;

  // Walks every frame of every segment (every piece of version 2 segments, decompressed),
  // checking lengths and checksums to the end of each file. Returns the number of chunks.
  Result<uint64_t> Verify() const;

  size_t num_segments() const { return segments_.size(); }
  // Version 2 pieces in all segments.
  size_t num_pieces() const {
    size_t n = 0;
    for (const Segment& s : segments_) n += s.pieces.size();
    return n;
  }
  // Version 2 pieces decompressed so far by this reader.
  uint64_t pieces_decompressed() const;

 private:
  struct Segment {
    FileView view;
    uint8_t version = 0;
    std::vector<uint32_t> pieces;  // version 2: file offsets of the pieces
    uint64_t table_start = 0;      // version 2: where the piece table begins
    // Version 2, per piece: what a first read found (PieceState), so later reads of a compressed
    // piece go straight to the cache and an uncompressed one is checksummed once.
    std::unique_ptr<std::atomic<uint8_t>[]> piece_state;
  };

  // For a piece stored uncompressed, its bytes in the file (checksum checked once); nullopt for a
  // compressed piece.
  Result<std::optional<std::string_view>> PlainPiece(const Segment& s, uint32_t piece) const;

  std::vector<Segment> segments_;  // segments_[i] is segment i + 1
  std::unique_ptr<PieceCache> cache_;  // decompressed version 2 pieces
};

}  // namespace vigil::storage::block
