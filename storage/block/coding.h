#pragma once

// Byte coding shared by the block files (storage/docs/format/block.md): little-endian fixed-width
// integers, unsigned LEB128 varints, zigzag, and the XXH3-64 checksum (low 32 bits where 4 bytes
// are stored). Internal to storage/block.

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage::block {

inline void PutFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void PutFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t GetFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}
inline uint64_t GetFixed64(const char* p) {
  return static_cast<uint64_t>(GetFixed32(p)) | (static_cast<uint64_t>(GetFixed32(p + 4)) << 32);
}
inline void AppendFixed32(uint32_t v, std::string* out) {
  char b[4];
  PutFixed32(b, v);
  out->append(b, 4);
}
inline void AppendFixed64(uint64_t v, std::string* out) {
  char b[8];
  PutFixed64(b, v);
  out->append(b, 8);
}

inline void AppendUvarint(uint64_t v, std::string* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }
inline void AppendVarint(int64_t v, std::string* out) { AppendUvarint(ZigZag(v), out); }

// Reads an unsigned LEB128 of at most 10 bytes from [p, end). Returns the byte after it, or
// nullptr when truncated, too long or above 64 bits.
inline const char* GetUvarint(const char* p, const char* end, uint64_t* v) {
  if (p < end && static_cast<unsigned char>(*p) < 0x80) {
    *v = static_cast<unsigned char>(*p);
    return p + 1;
  }
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < end; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    if (shift == 63 && byte > 1) return nullptr;
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
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
