#pragma once

// Constants of the block file formats: magic numbers, versions, names and fixed sizes. Every value
// here is part of the on-disk format (storage/docs/format/block.md, index.md, chunks.md,
// tombstones.md); change one only together with its doc, its version and the golden files.
// Internal to storage/block.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::storage::block {

// Names inside a block directory `<id>/` (see also storage/file_names.h).
inline constexpr std::string_view kMetaFileName = "meta.json";
inline constexpr std::string_view kIndexFileName = "index";
inline constexpr std::string_view kChunksDirName = "chunks";
inline constexpr std::string_view kTombstonesFileName = "tombstones";
// Chunk segments are chunks/000001, chunks/000002, ...: six digits, counted from 1.
inline constexpr int kSegmentNameDigits = 6;

// Every binary block file starts with the same 8-byte header: 4 magic bytes, a version byte and
// three zero bytes reserved for flags.
inline constexpr size_t kFileHeaderSize = 8;
inline constexpr std::string_view kChunksMagic = "VGCK";
inline constexpr std::string_view kIndexMagic = "VGIX";
inline constexpr std::string_view kTombstonesMagic = "VGTS";
inline constexpr uint8_t kChunksVersion = 1;            // plain frames
inline constexpr uint8_t kChunksVersionCompressed = 2;  // frames in compressed pieces
inline constexpr uint8_t kIndexVersion = 1;            // plain series section
inline constexpr uint8_t kIndexVersionCompressed = 2;  // series section in compressed pieces
inline constexpr uint8_t kIndexVersionFramed = 3;      // version 2, other sections framed too
inline constexpr uint8_t kTombstonesVersion = 1;
inline constexpr int kMetaVersion = 1;

// Chunk framing: uvarint length, chunk bytes, 4-byte checksum.
inline constexpr size_t kChunkChecksumSize = 4;
// Default cap of one chunk segment. Chunk refs keep the offset in 32 bits, so a segment never
// exceeds 4 GiB whatever the option says.
inline constexpr uint64_t kDefaultSegmentSize = uint64_t{512} << 20;
inline constexpr uint64_t kMaxSegmentSize = uint64_t{1} << 32;
// Largest chunk the reader accepts (a chunk holds at most 65535 samples).
inline constexpr uint64_t kMaxChunkSize = uint64_t{16} << 20;
// Version 2 segments: frames are gathered into pieces of at most kPieceSize uncompressed bytes
// (a larger lone frame gets a piece of its own), each stored as compressed length (fixed32),
// checksum (fixed32) and one compression/block_codec.h frame. Chunk refs keep the piece number
// and the offset in the piece in 16 bits each.
inline constexpr uint64_t kPieceSize = uint64_t{64} << 10;
inline constexpr size_t kPieceHeaderSize = 8;
inline constexpr uint64_t kMaxPiecesPerSegment = uint64_t{1} << 16;
inline constexpr uint64_t kMaxPieceRawSize = kMaxChunkSize + 16 + kPieceSize;
// Decompressed chunk pieces a ChunkReader keeps.
inline constexpr size_t kChunkPieceCacheSize = 16;

// Index version 2: the series section holds whole series entries gathered into pieces of at most
// kIndexPieceSize uncompressed bytes (a larger lone entry gets a piece of its own), each one
// compression/block_codec.h frame, after a table of (uncompressed start, frame offset) pairs.
// Series offsets stay offsets into the uncompressed entries.
inline constexpr uint64_t kIndexPieceSize = uint64_t{16} << 10;
inline constexpr size_t kIndexPieceHeaderSize = 8;   // piece count, uncompressed size (fixed32)
inline constexpr size_t kIndexPieceEntrySize = 8;    // uncompressed start, frame offset (fixed32)
inline constexpr size_t kIndexPieceCacheSize = 16;   // decompressed series pieces a reader keeps
// Index version 3: every section but the series section starts with a byte saying how it is
// stored: kSectionFramed and one compression/block_codec.h frame (only sections of at most
// kMaxFramedSectionSize bytes, which readers hold decompressed in memory), or kSectionPlain and
// the section's bytes (read in place).
inline constexpr uint8_t kSectionPlain = 0;
inline constexpr uint8_t kSectionFramed = 1;
inline constexpr uint64_t kMaxFramedSectionSize = uint64_t{16} << 20;

// Index sections, in file order. The TOC at the end of the index lists them in this order.
enum IndexSection : int {
  kSymbols = 0,        // sorted unique strings
  kSeries = 1,         // per series: label refs and chunk metas
  kSeriesOffsets = 2,  // fixed32 per series: its entry's offset in kSeries
  kLabelValues = 3,    // per label name: its sorted values
  kPostings = 4,       // per label pair: the sorted ids of its series
  kPostingsTable = 5,  // fixed-width entries sorted by (name, value) pointing into kPostings
  kNumIndexSections = 6,
};
inline constexpr std::string_view kIndexSectionNames[kNumIndexSections] = {
    "symbols", "series", "series offsets", "label values", "postings", "postings table"};

// TOC: per section offset (fixed64), length (fixed64), checksum (fixed32); then the checksum of
// those bytes (fixed32).
inline constexpr size_t kTocEntrySize = 20;
inline constexpr size_t kTocSize = kNumIndexSections * kTocEntrySize + 4;
// Postings table entry: name symbol (fixed32), value symbol (fixed32), postings offset (fixed32).
inline constexpr size_t kPostingsTableEntrySize = 12;

}  // namespace vigil::storage::block
