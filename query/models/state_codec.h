#pragma once

// Byte-level writer and reader for serialised model state (query/docs/model-state-format.md):
// a frame `magic "VGMS" | version u16 | kind u8 | payload | xxh3-64 low 32 bits` whose payload is a
// sequence of little-endian fixed-width fields. The reader keeps a sticky status (STYLE.md §3):
// reads past the end return zeros and make status() a Corruption naming the field.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::query::models {

inline constexpr char kStateMagic[4] = {'V', 'G', 'M', 'S'};

// The model a frame holds (the `kind` byte).
enum class ModelKind : uint8_t { kAnomalyBand = 1, kHoltWinters = 2 };

// The `version` field is the payload version of the frame's kind (query/docs/model-state-format.md,
// "Version history"). Writers write the current one; readers read every version from 1 up to it.
inline constexpr uint16_t kAnomalyBandStateVersion = 2;
inline constexpr uint16_t kHoltWintersStateVersion = 1;
constexpr uint16_t CurrentStateVersion(ModelKind kind) {
  return kind == ModelKind::kAnomalyBand ? kAnomalyBandStateVersion : kHoltWintersStateVersion;
}

class StateWriter {
 public:
  explicit StateWriter(ModelKind kind);
  void U8(uint8_t v);
  void U32(uint32_t v);
  void I64(int64_t v);
  void F64(double v);
  void F32s(std::span<const float> v);  // u32 count, then the values
  // Appends the checksum and returns the frame.
  std::string Finish() &&;

 private:
  std::string buf_;
};

class StateReader {
 public:
  // Checks magic, kind, version (1 ≤ version ≤ CurrentStateVersion(kind)) and checksum; on
  // failure status() says which.
  StateReader(std::string_view frame, ModelKind kind);
  // The frame's payload version (valid when status() is OK).
  uint16_t version() const { return version_; }
  uint8_t U8(const char* field);
  uint32_t U32(const char* field);
  int64_t I64(const char* field);
  double F64(const char* field);
  // Reads a float array whose count must be ≤ max_count.
  bool F32s(const char* field, size_t max_count, std::vector<float>* out);
  // Corruption if bytes remain unread.
  Status Finish();
  const Status& status() const { return status_; }

 private:
  const char* Take(size_t n, const char* field);
  std::string_view payload_;
  size_t pos_ = 0;
  uint16_t version_ = 0;
  Status status_;
};

}  // namespace vigil::query::models
