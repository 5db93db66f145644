#pragma once

// Helpers shared by the WAL tests: deterministic records, whole-log replay, file surgery.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/base/mem_file_system.h"
#include "storage/wal/reader.h"
#include "storage/wal/records.h"
#include "storage/wal/segment.h"

namespace vigil::storage::wal::testing {

// A record of `size` bytes (a samples-type byte, then a deterministic pattern tagged with `seed`),
// so that replayed records can be compared byte for byte.
inline std::string PatternRecord(uint64_t seed, size_t size) {
  std::string r(size, '\0');
  r[0] = static_cast<char>(RecordType::kSamples);
  std::mt19937_64 rng(seed);
  for (size_t i = 1; i < size; ++i) r[i] = static_cast<char>(rng());
  return r;
}

struct Replayed {
  std::vector<std::string> records;
  Status status;
  std::optional<CorruptionPoint> corruption;
  ReplayStats stats;
};

inline Replayed ReplayAll(FileSystem* fs, const std::string& dir) {
  Replayed out;
  auto reader = WalReader::Open(fs, dir);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  std::string_view rec;
  while ((*reader)->Next(&rec)) out.records.emplace_back(rec);
  out.status = (*reader)->status();
  out.corruption = (*reader)->corruption();
  out.stats = (*reader)->stats();
  return out;
}

inline std::string SegmentPath(const std::string& dir, uint64_t index) {
  return JoinPath(dir, SegmentFileName(index));
}

inline std::string ReadAll(FileSystem* fs, const std::string& path) {
  auto r = ReadFileToString(fs, path);
  return r.ok() ? *r : std::string();
}

inline Status WriteAll(FileSystem* fs, const std::string& path, std::string_view data) {
  VIGIL_ASSIGN_OR_RETURN(auto file, fs->NewWritableFile(path));
  VIGIL_RETURN_IF_ERROR(file->Append(data));
  VIGIL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace vigil::storage::wal::testing
