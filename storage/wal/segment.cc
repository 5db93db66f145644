#include "storage/wal/segment.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vigil::storage::wal {
namespace {

constexpr std::string_view kCheckpointPrefix = "checkpoint.";

std::optional<uint64_t> ParseIndex(std::string_view digits) {
  if (digits.size() < 8 || digits.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& header, std::string* out) {
  out->append(kSegmentMagic, 4);
  out->push_back(static_cast<char>(header.version));
  out->push_back(static_cast<char>(header.flags));
  out->append(2, '\0');
}

Status DecodeSegmentHeader(std::string_view data, SegmentHeader* header) {
  if (data.size() < kSegmentHeaderSize || std::memcmp(data.data(), kSegmentMagic, 4) != 0) {
    return Status::Corruption("bad segment magic");
  }
  header->version = static_cast<uint8_t>(data[4]);
  header->flags = static_cast<uint8_t>(data[5]);
  if (header->version != kFormatVersion) {
    return Status::NotSupported("unsupported WAL segment format version " +
                                std::to_string(header->version));
  }
  return Status::OK();
}

std::string SegmentFileName(uint64_t index) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08llu", static_cast<unsigned long long>(index));
  return buf;
}

std::string CheckpointDirName(uint64_t index) {
  return std::string(kCheckpointPrefix) + SegmentFileName(index);
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) { return ParseIndex(name); }

std::optional<uint64_t> ParseCheckpointDirName(std::string_view name) {
  if (!name.starts_with(kCheckpointPrefix)) return std::nullopt;
  return ParseIndex(name.substr(kCheckpointPrefix.size()));
}

Result<std::vector<uint64_t>> ListSegments(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::vector<uint64_t> out;
  for (const std::string& name : names) {
    if (auto index = ParseSegmentFileName(name)) out.push_back(*index);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<uint64_t>> ListCheckpoints(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::vector<uint64_t> out;
  for (const std::string& name : names) {
    if (auto index = ParseCheckpointDirName(name)) {
      if (fs->DirExists(::vigil::JoinPath(dir, name))) out.push_back(*index);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t Checksum32(std::string_view data) {
  return static_cast<uint32_t>(XXH3_64bits(data.data(), data.size()));
}

}  // namespace vigil::storage::wal
