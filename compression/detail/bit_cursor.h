#pragma once

// BitCursor: reads a big-endian (most significant bit first) bit stream at an absolute bit
// position. Every read is one unaligned 8-byte load at the position's byte, shifted into place:
// there is no buffer to refill, so a cursor is two words a decoder can keep in registers, and
// fixed-width fields at computed positions (bit-packed columns) need no sequential state at all.
// Column decoders use it; BitReader stays the reader of the sample-by-sample kXor stream.
//
// Reads never touch memory outside [data, data+size): in the last 7 bytes the load is the last 8
// bytes of the data shifted into place, and bits past the end read as 0. Reading past the end is reported by ok(), checked
// once after a run of reads.

#include <cstddef>
#include <cstdint>

#include "compression/detail/bits.h"

namespace vigil::compression::detail {

// The 64 bits of the stream that start at bit `pos`, left-aligned; the top 57 of them are always
// stream bits (or 0 past the end), the low 7 are only valid when pos is byte-aligned.
inline uint64_t LoadBitsAt(const char* data, size_t size, uint64_t pos) {
  const uint64_t byte = pos >> 3;
  uint64_t w = 0;
  if (byte + 8 <= size) [[likely]] {
    w = LoadBigEndian64(data + byte);
  } else if (byte < size) {
    // The last 1..7 bytes: load the final 8 bytes of the data and shift the wanted ones up (a
    // column often ends the chunk, so this is not rare); byte by byte only for tiny data.
    const unsigned missing = static_cast<unsigned>(byte + 8 - size);
    if (size >= 8) {
      w = LoadBigEndian64(data + size - 8) << (8 * missing);
    } else {
      for (uint64_t b = 0; byte + b < size; ++b) {
        w |= uint64_t{static_cast<unsigned char>(data[byte + b])} << (56 - 8 * b);
      }
    }
  }
  return w << (pos & 7);
}

class BitCursor {
 public:
  // `data` must outlive the cursor.
  BitCursor(const char* data, size_t size, uint64_t pos) : data_(data), size_(size), pos_(pos) {}

  // The next 64 bits, left-aligned, without consuming them (see LoadBitsAt).
  uint64_t Window() const { return LoadBitsAt(data_, size_, pos_); }

  // Reads n bits, 0 <= n <= 64, as the low bits of the result.
  uint64_t Read(unsigned n) {
    if (n > 57) [[unlikely]] return ReadLong(n);
    // Two shifts so that n == 0 yields 0 without an undefined shift by 64.
    const uint64_t v = (Window() >> (63 - n)) >> 1;
    pos_ += n;
    return v;
  }
  void Skip(uint64_t n) { pos_ += n; }

  // False once a read went past the end of the data.
  bool ok() const { return pos_ <= uint64_t{size_} * 8; }
  uint64_t position() const { return pos_; }

 private:
  // 58..64 bits: two loads.
  [[gnu::noinline]] uint64_t ReadLong(unsigned n) {
    const uint64_t hi = Window() >> (96 - n);  // the first n - 32 bits (26..32)
    const uint64_t lo = LoadBitsAt(data_, size_, pos_ + n - 32) >> 32;
    pos_ += n;
    return (hi << 32) | lo;
  }

  const char* data_;
  size_t size_;
  uint64_t pos_;
};

}  // namespace vigil::compression::detail
