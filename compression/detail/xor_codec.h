#pragma once

// The two per-sample coders of the Gorilla chunk (compression/docs/xor_chunk.md): bucketed
// delta-of-delta timestamps and XOR values with a leading/trailing-zero window. Both are templates
// over the writer so that the chunk chooser can count bits with BitCounter without writing them.

#include <bit>
#include <cstdint>

#include "compression/detail/bit_reader.h"
#include "compression/detail/bit_writer.h"
#include "compression/detail/bits.h"

namespace vigil::compression::detail {

// A writer that only counts bits.
struct BitCounter {
  uint64_t bits = 0;
  void Write(uint64_t, unsigned n) { bits += n; }
};

// Var-bits: a 7-bit length L (0..64), then the L significant bits of an unsigned value.
template <typename Writer>
void WriteVarBits(Writer& w, uint64_t u) {
  unsigned len = BitLength(u);
  w.Write(len, 7);
  w.Write(u, len);
}
inline uint64_t ReadVarBits(BitReader& r) {
  unsigned len = static_cast<unsigned>(r.Read(7));
  if (len > 64) {
    r.Fail();
    return 0;
  }
  return r.Read64(len);
}

// Delta-of-delta buckets, two's complement payloads:
//   '0'                 dod == 0
//   '10'    + 4 bits    [-8, 7]
//   '110'   + 8 bits    [-128, 127]
//   '1110'  + 14 bits   [-8192, 8191]
//   '11110' + 20 bits   [-524288, 524287]
//   '11111' + 64 bits   any value (the wrapped 64-bit difference)
// The bucket code of a delta-of-delta (prefix and payload) and its length, for every bucket but
// the escape, which does not fit one word: false then.
inline bool DodCode(uint64_t dod, uint64_t* code, unsigned* len) {
  const int64_t d = static_cast<int64_t>(dod);
  if (d == 0) {
    *code = 0;
    *len = 1;
  } else if (d >= -8 && d <= 7) {
    *code = (uint64_t{0b10} << 4) | (dod & 0xf);
    *len = 6;
  } else if (d >= -128 && d <= 127) {
    *code = (uint64_t{0b110} << 8) | (dod & 0xff);
    *len = 11;
  } else if (d >= -8192 && d <= 8191) {
    *code = (uint64_t{0b1110} << 14) | (dod & 0x3fff);
    *len = 18;
  } else if (d >= -524288 && d <= 524287) {
    *code = (uint64_t{0b11110} << 20) | (dod & 0xfffff);
    *len = 25;
  } else {
    return false;
  }
  return true;
}

template <typename Writer>
void WriteDod(Writer& w, uint64_t dod) {
  uint64_t code;
  unsigned len;
  if (DodCode(dod, &code, &len)) {
    w.Write(code, len);
  } else {
    w.Write(0b11111, 5);
    w.Write(dod, 64);
  }
}

struct DodBucket {
  uint8_t prefix_bits;
  uint8_t width;
};
// Indexed by the next 5 stream bits, for those starting with '1'.
inline constexpr DodBucket kDodBuckets[16] = {
    {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4},
    {3, 8}, {3, 8}, {3, 8}, {3, 8}, {4, 14}, {4, 14}, {5, 20}, {5, 64},
};

inline uint64_t ReadDod(BitReader& r) {
  uint64_t p = r.Peek(5);
  if (p < 16) [[likely]] {
    r.Skip(1);
    return 0;
  }
  DodBucket b = kDodBuckets[p - 16];
  if (b.width == 64) [[unlikely]] {
    r.Skip(5);
    return r.Read64(64);
  }
  return SignExtend(r.Read(b.prefix_bits + b.width), b.width);
}

// XOR value coder state. `lead_`/`trail_` describe the current window; 0xff marks "no window yet"
// in the writer so that the first non-zero XOR always opens one.
//   '0'                                  same bits as the previous value
//   '10' + window bits                   XOR fits the previous window
//   '11' + 5 bits leading zeros (<= 31) + 6 bits length (64 stored as 0) + length bits
class XorValueWriter {
 public:
  XorValueWriter() = default;
  // Resumes a writer from its state: the previous value's bits, lead() and trail().
  XorValueWriter(uint64_t prev, unsigned lead, unsigned trail)
      : prev_(prev), lead_(lead), trail_(trail) {}
  unsigned lead() const { return lead_; }
  unsigned trail() const { return trail_; }

  template <typename Writer>
  void First(Writer& w, uint64_t bits) {
    w.Write(bits, 64);
    prev_ = bits;
  }
  // `prefix`: prefix_len (<= 25) bits written first, in the same Write as the value's control
  // bits (the sample stream passes its delta-of-delta code so that a sample takes two writes).
  template <typename Writer>
  void Next(Writer& w, uint64_t bits, uint64_t prefix = 0, unsigned prefix_len = 0) {
    uint64_t x = bits ^ prev_;
    prev_ = bits;
    if (x == 0) {
      w.Write(prefix << 1, prefix_len + 1);
      return;
    }
    unsigned lead = static_cast<unsigned>(std::countl_zero(x));
    unsigned trail = static_cast<unsigned>(std::countr_zero(x));
    if (lead > 31) lead = 31;
    if (lead_ != 0xff && lead >= lead_ && trail >= trail_) {
      w.Write((prefix << 2) | 0b10, prefix_len + 2);
      w.Write(x >> trail_, 64 - lead_ - trail_);
      return;
    }
    lead_ = lead;
    trail_ = trail;
    unsigned sig = 64 - lead - trail;
    w.Write((prefix << 13) | (uint64_t{0b11} << 11) | (uint64_t{lead} << 6) | (sig & 63),
            prefix_len + 13);
    w.Write(x >> trail, sig);
  }

 private:
  uint64_t prev_ = 0;
  unsigned lead_ = 0xff;
  unsigned trail_ = 0;
};

class XorValueReader {
 public:
  uint64_t First(BitReader& r) {
    prev_ = r.Read64(64);
    return prev_;
  }
  uint64_t Next(BitReader& r) {
    uint64_t c = r.Peek(2);
    if (c < 2) [[likely]] {
      r.Skip(1);
      return prev_;
    }
    if (c == 3) {
      uint64_t h = r.Read(13);
      unsigned lead = static_cast<unsigned>(h >> 6) & 31;
      unsigned sig = static_cast<unsigned>(h & 63);
      if (sig == 0) sig = 64;
      if (lead + sig > 64) [[unlikely]] {
        r.Fail();
        return prev_;
      }
      lead_ = lead;
      trail_ = 64 - lead - sig;
    } else {
      r.Skip(2);
    }
    // A '10' before any '11' is not produced by the writer; it reads a 64-bit window harmlessly.
    prev_ ^= r.Read64(64 - lead_ - trail_) << trail_;
    return prev_;
  }

 private:
  uint64_t prev_ = 0;
  unsigned lead_ = 0;
  unsigned trail_ = 0;
};

// The kXor sample stream: t_0 as zigzag var-bits and v_0 as 64 raw bits, then per sample the
// delta-of-delta (the first delta is coded against 0) and the XOR value. `Writer` is a BitWriter
// or a BitCounter.
template <typename Writer>
class XorStream {
 public:
  XorStream() = default;
  // Resumes a stream from its state: the value writer, the samples so far, the previous sample's
  // timestamp and prev_delta().
  XorStream(XorValueWriter values, uint32_t count, int64_t prev_t, uint64_t prev_delta)
      : values_(values), count_(count), prev_t_(prev_t), prev_delta_(prev_delta) {}
  const XorValueWriter& values() const { return values_; }
  uint64_t prev_delta() const { return prev_delta_; }

  void Append(Writer& w, int64_t t, double v) {
    uint64_t bits = std::bit_cast<uint64_t>(v);
    if (count_ == 0) {
      WriteVarBits(w, ZigZag(static_cast<uint64_t>(t)));
      values_.First(w, bits);
    } else {
      uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(prev_t_);
      const uint64_t dod = delta - prev_delta_;
      prev_delta_ = delta;
      uint64_t code;
      unsigned len;
      if (DodCode(dod, &code, &len)) [[likely]] {
        values_.Next(w, bits, code, len);  // timestamp and value control bits in one write
      } else {
        w.Write(0b11111, 5);
        w.Write(dod, 64);
        values_.Next(w, bits);
      }
    }
    prev_t_ = t;
    ++count_;
  }
  uint32_t count() const { return count_; }

 private:
  XorValueWriter values_;
  uint32_t count_ = 0;
  int64_t prev_t_ = 0;
  uint64_t prev_delta_ = 0;
};

}  // namespace vigil::compression::detail
