#pragma once

// BitReader: reads a big-endian (most significant bit first) bit stream. It keeps up to 64 bits
// in a left-aligned buffer and refills it with one unaligned 8-byte load while at least 8 bytes
// remain; the last bytes are loaded one by one. It never touches memory outside [data, data+size).
// Reading past the end sets a sticky error and yields zero bits.

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "compression/detail/bits.h"

namespace vigil::compression::detail {

class BitReader {
 public:
  BitReader() = default;
  // Starts at bit `bit_offset` of the `size` bytes at `data`, which must outlive the reader.
  BitReader(const char* data, size_t size, uint64_t bit_offset = 0) : data_(data), size_(size) {
    if (bit_offset > uint64_t{size} * 8) {
      error_ = true;
      pos_ = size;
      return;
    }
    pos_ = static_cast<size_t>(bit_offset / 8);
    unsigned skip = static_cast<unsigned>(bit_offset % 8);
    if (skip != 0) Read(skip);
  }

  // Reads n bits, 0 <= n <= 57, as the low bits of the result.
  uint64_t Read(unsigned n) {
    assert(n <= 57);
    if (avail_ < n) [[unlikely]] {
      Refill();
      if (avail_ < n) return Overrun();
    }
    // Two shifts so that n == 0 yields 0 without an undefined shift by 64.
    uint64_t v = (buf_ >> (63 - n)) >> 1;
    buf_ <<= n;
    avail_ -= n;
    return v;
  }
  // Reads n bits, 0 <= n <= 64.
  uint64_t Read64(unsigned n) {
    if (n <= 57) return Read(n);
    uint64_t hi = Read(n - 32);
    return (hi << 32) | Read(32);
  }
  bool ReadBit() { return Read(1) != 0; }

  // Returns the next n bits (1 <= n <= 57) without consuming them; bits past the end read as 0
  // and do not set the error (the following Skip or Read does).
  uint64_t Peek(unsigned n) {
    if (avail_ < n) [[unlikely]] Refill();
    return buf_ >> (64 - n);
  }
  void Skip(unsigned n) { Read(n); }

  // Marks the stream corrupt (for format checks made by the caller); sticky like an overrun.
  void Fail() { Overrun(); }

  bool ok() const { return !error_; }
  // Absolute bit position of the next bit to read.
  uint64_t position() const { return uint64_t{pos_} * 8 - avail_; }

 private:
  void Refill() {
    if (pos_ + 8 <= size_) [[likely]] {
      // Bits below the avail_ + 8*take valid ones are the following stream bits, already in their
      // final place, so the next refill ORs identical bits over them.
      unsigned take = (64 - avail_) >> 3;
      buf_ |= LoadBigEndian64(data_ + pos_) >> avail_;
      pos_ += take;
      avail_ += take * 8;
      return;
    }
    while (avail_ <= 56 && pos_ < size_) {
      buf_ |= uint64_t{static_cast<unsigned char>(data_[pos_])} << (56 - avail_);
      ++pos_;
      avail_ += 8;
    }
  }
  uint64_t Overrun() {
    error_ = true;
    buf_ = 0;
    avail_ = 0;
    pos_ = size_;
    return 0;
  }

  const char* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;      // next byte to load
  uint64_t buf_ = 0;    // left-aligned; the top avail_ bits are the next stream bits
  unsigned avail_ = 0;  // 0..64
  bool error_ = false;
};

}  // namespace vigil::compression::detail
