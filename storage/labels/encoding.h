#pragma once

// The label-set encoding (storage/labels/hash_format.md): uvarint-prefixed names and values.
// Internal to storage/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage::detail {

// Writes v as unsigned LEB128 at dst; returns the byte after it. dst needs room for 5 bytes.
inline char* PutUvarint32(char* dst, uint32_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

inline void AppendUvarint32(uint32_t v, std::string* out) {
  char buf[5];
  out->append(buf, PutUvarint32(buf, v) - buf);
}

inline size_t UvarintSize(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Reads an unsigned LEB128 of at most 5 bytes from [p, end). Returns the byte after it, or nullptr
// when truncated or too long.
inline const char* GetUvarint32(const char* p, const char* end, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && p < end; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    result |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

// Same for trusted, well-formed input, with a one-byte fast path.
inline const char* GetUvarint32Unchecked(const char* p, uint32_t* v) {
  const auto b = static_cast<unsigned char>(*p);
  if (b < 0x80) {
    *v = b;
    return p + 1;
  }
  uint32_t result = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    result |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if (byte < 0x80) break;
  }
  *v = result;
  return p;
}

// Appends one label to an encoded label set.
inline void AppendLabel(std::string_view name, std::string_view value, std::string* out) {
  AppendUvarint32(static_cast<uint32_t>(name.size()), out);
  out->append(name);
  AppendUvarint32(static_cast<uint32_t>(value.size()), out);
  out->append(value);
}

inline size_t EncodedLabelSize(std::string_view name, std::string_view value) {
  return UvarintSize(static_cast<uint32_t>(name.size())) + name.size() +
         UvarintSize(static_cast<uint32_t>(value.size())) + value.size();
}

}  // namespace vigil::storage::detail
