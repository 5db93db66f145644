#pragma once

// Byte coding shared by every Vigil format (WAL, blocks, index): little-endian fixed-width
// integers, unsigned LEB128 varints (at most 10 bytes) and zigzag for signed values. Header-only,
// no allocation except appending to a caller-owned std::string.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vigil::compression::coding {

inline void PutFixed16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}

inline void PutFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline void PutFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline uint16_t GetFixed16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}

inline uint32_t GetFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

inline uint64_t GetFixed64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

inline void AppendFixed32(uint32_t v, std::string* out) {
  char buf[4];
  PutFixed32(buf, v);
  out->append(buf, 4);
}

inline void AppendFixed64(uint64_t v, std::string* out) {
  char buf[8];
  PutFixed64(buf, v);
  out->append(buf, 8);
}

inline constexpr int kMaxVarint64Bytes = 10;

// Writes v as unsigned LEB128 (7 bits per byte, low group first, high bit = more follows).
// Returns the byte after it. dst needs room for kMaxVarint64Bytes.
inline char* PutUvarint64(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

inline void AppendUvarint64(uint64_t v, std::string* out) {
  char buf[kMaxVarint64Bytes];
  out->append(buf, PutUvarint64(buf, v) - buf);
}

inline void AppendVarint64(int64_t v, std::string* out) { AppendUvarint64(ZigZag(v), out); }

// Reads an unsigned LEB128 from [p, end). Returns the byte after it, or nullptr when the input is
// truncated, longer than 10 bytes, or overflows 64 bits.
inline const char* GetUvarint64(const char* p, const char* end, uint64_t* v) {
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

inline const char* GetVarint64(const char* p, const char* end, int64_t* v) {
  uint64_t u = 0;
  p = GetUvarint64(p, end, &u);
  if (p != nullptr) *v = UnZigZag(u);
  return p;
}

}  // namespace vigil::compression::coding
