#pragma once

// XorColumnReader: decodes the value column of a kXorColumnar chunk (compression/docs/
// xor_columnar_chunk.md: v0 as 64 raw bits, then the kXor value codes '0', '10', '11' of
// xor_chunk.md) in batches. Same bits as XorValueReader over a BitReader, read differently: the
// column is not interleaved with timestamps, so each value is decoded from one 8-byte load at its
// absolute bit position (LoadBitsAt) without a refill state, a run of '0' codes (repeated values)
// is counted with one count-leading-zeros, and a value whose bits fit the same load takes no
// second one. kXor chunks keep XorValueReader.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "compression/detail/bit_cursor.h"

namespace vigil::compression::detail {

class XorColumnReader {
 public:
  // The column starts at bit `pos` of the `size` bytes at `data` (which must outlive the reader).
  void Init(const char* data, size_t size, uint64_t pos) {
    data_ = data;
    size_ = size;
    pos_ = pos;
    prev_ = 0;
    sig_ = 64;  // a '10' before any '11' reads 64 bits, as XorValueReader does
    trail_ = 0;
    started_ = false;
    failed_ = false;
  }

  // Writes the next k values to out[0, k). REQUIRES: no more values in total than the column has.
  void Decode(double* out, size_t k);

  // False once a value code was corrupt or a read went past the end of the data.
  bool ok() const { return !failed_; }

 private:
  // n bits (1..64) at bit p, as the low bits of the result.
  uint64_t ReadAt(uint64_t p, unsigned n) const {
    if (n <= 57) return LoadBitsAt(data_, size_, p) >> (64 - n);
    const uint64_t hi = LoadBitsAt(data_, size_, p) >> (96 - n);  // the first n - 32 bits
    return (hi << 32) | (LoadBitsAt(data_, size_, p + n - 32) >> 32);
  }

  // No initializers (see ExceptionList): Init() sets every field.
  const char* data_;
  size_t size_;
  uint64_t pos_;
  uint64_t prev_;
  unsigned sig_;  // meaningful bits of the current window, 1..64
  unsigned trail_;
  bool started_;
  bool failed_;
};

inline void XorColumnReader::Decode(double* out, size_t k) {
  if (k == 0) return;
  const char* const d = data_;
  const size_t sz = size_;
  uint64_t p = pos_;
  uint64_t prev = prev_;
  unsigned sig = sig_;
  unsigned trail = trail_;
  size_t i = 0;
  bool ok = true;
  if (!started_) {
    prev = ReadAt(p, 64);
    p += 64;
    out[0] = std::bit_cast<double>(prev);
    i = 1;
    started_ = true;
  }
  while (i < k) {
    const uint64_t w = LoadBitsAt(d, sz, p);
    if (static_cast<int64_t>(w) >= 0) {
      // '0' codes: the value repeats. The top 57 bits of the load are stream bits (or zeros past
      // the end, which the final position check reports).
      const size_t z = std::min<size_t>(std::min(std::countl_zero(w), 57), k - i);
      const double v = std::bit_cast<double>(prev);
      for (size_t j = 0; j < z; ++j) out[i + j] = v;
      i += z;
      p += z;
      continue;
    }
    unsigned skip = 2;
    if ((w >> 62) == 3) {
      // '11', 5 bits leading zeros, 6 bits significant bits (0 means 64).
      const unsigned lead = static_cast<unsigned>(w >> 57) & 31;
      const unsigned s = ((static_cast<unsigned>(w >> 51) + 63) & 63) + 1;
      if (lead + s > 64) [[unlikely]] {
        ok = false;
        break;
      }
      sig = s;
      trail = 64 - lead - s;
      skip = 13;
    }
    const uint64_t x =
        skip + sig <= 57 ? (w << skip) >> (64 - sig) : ReadAt(p + skip, sig);
    p += skip + sig;
    prev ^= x << trail;
    out[i++] = std::bit_cast<double>(prev);
  }
  pos_ = p;
  prev_ = prev;
  sig_ = sig;
  trail_ = trail;
  if (!ok || p > uint64_t{sz} * 8) failed_ = true;
}

}  // namespace vigil::compression::detail
