#pragma once

// Byte coding shared by the block files (storage/docs/format/block.md): little-endian fixed-width
// integers, unsigned LEB128 varints, zigzag, and the XXH3-64 checksum (low 32 bits where 4 bytes
// are stored). Internal to storage/block.

#include <xxhash.h>

#include "compression/coding.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage::block {

using namespace ::vigil::compression::coding;  // NOLINT(build/namespaces)

inline void AppendUvarint(uint64_t v, std::string* out) { AppendUvarint64(v, out); }
inline void AppendVarint(int64_t v, std::string* out) { AppendVarint64(v, out); }
// Reads an unsigned LEB128 of at most 10 bytes from [p, end). Returns the byte after it, or
// nullptr when truncated, too long or above 64 bits.
inline const char* GetUvarint(const char* p, const char* end, uint64_t* v) {
  return GetUvarint64(p, end, v);
}

// XXH3-64 (seed 0) and its low 32 bits, the checksum of every block file.
inline uint64_t Checksum64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }
inline uint32_t Checksum32(std::string_view data) { return static_cast<uint32_t>(Checksum64(data)); }

// A bounds-checked cursor over a byte range with a sticky failure flag: once a read fails, every
// later read returns 0 and ok() stays false, so parsers check once at the end of a record.
class Decoder {
 public:
  Decoder() = default;
  Decoder(const char* begin, const char* end) : begin_(begin), p_(begin), end_(end) {}
  explicit Decoder(std::string_view s) : Decoder(s.data(), s.data() + s.size()) {}

  bool ok() const { return ok_; }
  bool done() const { return p_ == end_; }
  size_t remaining() const { return ok_ ? static_cast<size_t>(end_ - p_) : 0; }
  // Offset of the cursor from the start of the range.
  size_t pos() const { return static_cast<size_t>(p_ - begin_); }
  void Fail() { ok_ = false; }

  uint64_t Uvarint() {
    uint64_t v = 0;
    const char* next = ok_ ? GetUvarint(p_, end_, &v) : nullptr;
    if (next == nullptr) return Failed();
    p_ = next;
    return v;
  }
  // A uvarint that must fit 32 bits.
  uint32_t Uvarint32() {
    const uint64_t v = Uvarint();
    if (v > UINT32_MAX) return static_cast<uint32_t>(Failed());
    return static_cast<uint32_t>(v);
  }
  int64_t Varint() { return UnZigZag(Uvarint()); }
  uint32_t Fixed32() {
    if (remaining() < 4) return static_cast<uint32_t>(Failed());
    const uint32_t v = GetFixed32(p_);
    p_ += 4;
    return v;
  }
  std::string_view Bytes(size_t n) {
    if (remaining() < n) {
      Failed();
      return {};
    }
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }

 private:
  uint64_t Failed() {
    ok_ = false;
    p_ = end_;
    return 0;
  }

  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool ok_ = true;
};

}  // namespace vigil::storage::block
