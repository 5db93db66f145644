#pragma once

// Small integer helpers shared by the chunk codecs.

#include <bit>
#include <cstdint>
#include <cstring>

namespace vigil::compression::detail {

inline uint64_t LoadBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// Maps signed to unsigned so that small magnitudes get small codes: 0,-1,1,-2 -> 0,1,2,3.
inline uint64_t ZigZag(uint64_t v) {
  return (v << 1) ^ static_cast<uint64_t>(static_cast<int64_t>(v) >> 63);
}
inline uint64_t UnZigZag(uint64_t u) { return (u >> 1) ^ (~(u & 1) + 1); }

// Number of significant bits: 0 for 0, 64 for values with the top bit set.
inline unsigned BitLength(uint64_t v) { return 64 - static_cast<unsigned>(std::countl_zero(v)); }

// Mask of the low n bits, 1 <= n <= 64.
inline uint64_t LowMask(unsigned n) { return ~uint64_t{0} >> (64 - n); }

// Sign-extends the low n bits of v, 1 <= n <= 64.
inline uint64_t SignExtend(uint64_t v, unsigned n) {
  return static_cast<uint64_t>(static_cast<int64_t>(v << (64 - n)) >> (64 - n));
}

}  // namespace vigil::compression::detail
