#pragma once

// WAL segment files: names, the 8-byte segment header, and directory listing
// (storage/docs/format/wal.md §2). Internal to storage/wal.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/base/status.h"

namespace vigil::storage::wal {

// Segment header: magic "VGWL", format version, flags, two reserved zero bytes.
inline constexpr char kSegmentMagic[4] = {'V', 'G', 'W', 'L'};
inline constexpr uint8_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 8;
// Set on the first segment a writer creates after Wal::Open (not on rotation): the segment before
// it was never closed by rotation, so it may end in a torn tail.
inline constexpr uint8_t kSegmentFlagSessionStart = 0x01;

inline constexpr uint64_t kDefaultSegmentSize = 128ull << 20;

struct SegmentHeader {
  uint8_t version = kFormatVersion;
  uint8_t flags = 0;
};

// Appends the 8 header bytes.
void EncodeSegmentHeader(const SegmentHeader& header, std::string* out);
// REQUIRES: data.size() >= kSegmentHeaderSize. Corruption on a bad magic, NotSupported on an
// unknown version.
Status DecodeSegmentHeader(std::string_view data, SegmentHeader* header);

// "00000042" (at least 8 digits).
std::string SegmentFileName(uint64_t index);
// "checkpoint.00000042".
std::string CheckpointDirName(uint64_t index);

// Index from a segment file name (8 or more digits only); nullopt for anything else.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
// Index from "checkpoint.NNNNNNNN" (no ".tmp" suffix); nullopt otherwise.
std::optional<uint64_t> ParseCheckpointDirName(std::string_view name);

// Segment indices in `dir`, ascending. Other entries are ignored.
Result<std::vector<uint64_t>> ListSegments(FileSystem* fs, const std::string& dir);
// Checkpoint indices in `dir`, ascending (completed ones only; ".tmp" directories are skipped).
Result<std::vector<uint64_t>> ListCheckpoints(FileSystem* fs, const std::string& dir);

// Low 32 bits of XXH3-64 (seed 0): the fragment checksum.
uint32_t Checksum32(std::string_view data);

}  // namespace vigil::storage::wal
