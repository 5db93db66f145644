#pragma once

// Internal pieces of the chunk formats shared by the encoders and ChunkDecoder. Every chunk starts
// with a 3-byte header: the encoding byte, then the sample count as a big-endian uint16. A bit
// stream follows, zero-padded to a whole byte (compression/docs/README.md).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compression/chunk.h"
#include "compression/detail/bit_writer.h"

namespace vigil::compression::detail {

inline constexpr size_t kHeaderSize = 3;
inline constexpr uint32_t kMaxSamples = 65535;
inline constexpr unsigned kMaxDecimalScale = 15;  // 10^15 < 2^53: the divisor is exact

template <typename Out>
inline void PutHeader(Out* out, Encoding enc, uint32_t n) {
  out->push_back(static_cast<char>(enc));
  out->push_back(static_cast<char>(n >> 8));
  out->push_back(static_cast<char>(n));
}
template <typename Out>
inline void PatchCount(Out* out, size_t start, uint32_t n) {
  (*out)[start + 1] = static_cast<char>(n >> 8);
  (*out)[start + 2] = static_cast<char>(n);
}

// Timestamps viewed as wrapped unsigned integers (same object representation).
inline std::span<const uint64_t> AsUnsigned(std::span<const int64_t> ts) {
  return {reinterpret_cast<const uint64_t*>(ts.data()), ts.size()};
}

// kXor (xor_chunk.cc): bits of the stream after the header, and the whole chunk.
uint64_t XorStreamBits(std::span<const int64_t> ts, std::span<const double> vs);
// The two parts of XorStreamBits: kXor codes a sample's timestamp and value independently, so
// its size is the timestamp part plus XorValueBits(vs) (the kXorColumnar value column).
uint64_t XorTimestampBits(std::span<const int64_t> ts);
void EncodeXor(std::span<const int64_t> ts, std::span<const double> vs, std::string* out);

// kConstant (constant_chunk.cc).
bool IsConstant(std::span<const double> vs);

// kIntDoubleDelta (int_chunk.cc): every value an integral double in [-2^53, 2^53], not -0.0.
bool ToIntegers(std::span<const double> vs, std::vector<uint64_t>* ints);

// kDecimal (decimal_chunk.cc): v_i == double(m_i) / 10^scale exactly, |m_i| <= 2^53.
bool ToDecimal(std::span<const double> vs, unsigned* scale, std::vector<uint64_t>* ints);
double DecimalDivisor(unsigned scale);

// kXorColumnar (xor_columnar_chunk.cc): the value column.
uint64_t XorValueBits(std::span<const double> vs);
void WriteXorValues(std::span<const double> vs, BitWriter& w);

}  // namespace vigil::compression::detail
