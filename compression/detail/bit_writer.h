#pragma once

// BitWriter: appends a big-endian (most significant bit first) bit stream to a caller-owned
// std::string. Bits collect in a 64-bit accumulator and go to the string 8 bytes at a time.
// BasicBitWriter<Out> writes to any byte buffer with size(), resize() (to shrink),
// push_back(char) and append(const char*, size_t), such as compression::SpillBuffer.

#include <cassert>
#include <cstdint>
#include <string>

#include "compression/detail/bits.h"

namespace vigil::compression::detail {

template <typename Out>
class BasicBitWriter {
 public:
  // `out` must outlive the writer; bits are appended after its current end.
  explicit BasicBitWriter(Out* out) : out_(out) {}
  // Resumes a writer from its state (acc(), pending(), tail_bytes()) over the same *out, for
  // appenders that keep the state without the writer (compression::CompactXorAppender).
  BasicBitWriter(Out* out, uint64_t acc, unsigned pending, unsigned tail_bytes)
      : out_(out), acc_(acc), pending_(pending), tail_bytes_(tail_bytes) {}

  // Writes the low `n` bits of `v` (0 <= n <= 64); higher bits of `v` are ignored.
  [[gnu::always_inline]] void Write(uint64_t v, unsigned n) {
    assert(n <= 64);
    assert(tail_bytes_ == 0 && "Reopen() after Finish() before writing");
    if (n == 0) return;
    v &= LowMask(n);
    bits_written_ += n;
    unsigned free = 64 - pending_;
    if (n < free) {
      acc_ = (acc_ << n) | v;
      pending_ += n;
      return;
    }
    unsigned rest = n - free;  // bits of v that do not fit in this word
    // acc_ << free with free == 64 would be undefined; pending_ == 0 means acc_ == 0 then.
    uint64_t word = (pending_ == 0 ? 0 : acc_ << free) | (v >> rest);
    PutWord(word);
    acc_ = rest == 0 ? 0 : (v & LowMask(rest));
    pending_ = rest;
  }
  void WriteBit(bool b) { Write(b ? 1 : 0, 1); }

  // Appends the pending bits, zero-padded to a whole byte. The writer stays usable: Reopen()
  // removes the padded tail again so that writing continues where it stopped.
  void Finish() {
    if (tail_bytes_ != 0 || pending_ == 0) return;
    uint64_t left = acc_ << (64 - pending_);
    tail_bytes_ = (pending_ + 7) / 8;
    for (unsigned i = 0; i < tail_bytes_; ++i) out_->push_back(static_cast<char>(left >> (56 - 8 * i)));
  }
  void Reopen() {
    out_->resize(out_->size() - tail_bytes_);
    tail_bytes_ = 0;
  }

  uint64_t bits_written() const { return bits_written_; }
  uint64_t acc() const { return acc_; }
  unsigned pending() const { return pending_; }
  unsigned tail_bytes() const { return tail_bytes_; }

 private:
  void PutWord(uint64_t w) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(w >> (56 - 8 * i));
    out_->append(b, 8);
  }

  Out* out_;
  uint64_t acc_ = 0;       // the low pending_ bits are not yet in *out_
  unsigned pending_ = 0;   // 0..63
  unsigned tail_bytes_ = 0;  // bytes appended by Finish() that Reopen() takes back
  uint64_t bits_written_ = 0;
};

using BitWriter = BasicBitWriter<std::string>;

}  // namespace vigil::compression::detail
