// ChunkDecoder: batch decoding with one dispatch on the encoding per Next() call.

#include <algorithm>
#include <bit>

#include "compression/chunk.h"
#include "compression/detail/bit_cursor.h"
#include "compression/detail/chunk_format.h"
#include "compression/detail/fill.h"
#include "compression/detail/xor_codec.h"

namespace vigil::compression {

using detail::BitReader;

ChunkDecoder::ChunkDecoder(std::string_view chunk) : chunk_(chunk) { Init(); }

void ChunkDecoder::Init() {
  if (chunk_.size() < detail::kHeaderSize) {
    ok_ = false;
    return;
  }
  const char* data = chunk_.data();
  const size_t size = chunk_.size();
  encoding_ = static_cast<Encoding>(static_cast<uint8_t>(data[0]));
  num_samples_ = (uint32_t{static_cast<uint8_t>(data[1])} << 8) | static_cast<uint8_t>(data[2]);
  const uint64_t start = detail::kHeaderSize * 8;
  if (encoding_ == Encoding::kXor) {
    reader_ = BitReader(data, size, start);
    return;
  }
  uint64_t end = 0;
  switch (encoding_) {
    case Encoding::kConstant:
    case Encoding::kIntDoubleDelta:
    case Encoding::kDecimal:
    case Encoding::kXorColumnar:
      break;
    default:
      ok_ = false;
      return;
  }
  // The column encodings are only written with at least one sample.
  if (num_samples_ == 0 || !ts_.Init(data, size, start, num_samples_, &end)) {
    ok_ = false;
    return;
  }
  switch (encoding_) {
    case Encoding::kConstant: {
      detail::BitCursor c(data, size, end);
      constant_bits_ = c.Read(64);
      ok_ = c.ok();
      break;
    }
    case Encoding::kDecimal: {
      detail::BitCursor c(data, size, end);
      unsigned scale = static_cast<unsigned>(c.Read(4));
      if (!c.ok() || scale > detail::kMaxDecimalScale) {
        ok_ = false;
        return;
      }
      divisor_ = detail::DecimalDivisor(scale);
      ok_ = ints_.Init(data, size, end + 4, num_samples_, &end);
      break;
    }
    case Encoding::kIntDoubleDelta:
      ok_ = ints_.Init(data, size, end, num_samples_, &end);
      break;
    case Encoding::kXorColumnar:
      xor_column_.Init(data, size, end);
      break;
    default:
      break;
  }
}

size_t ChunkDecoder::Next(std::span<int64_t> ts, std::span<double> vs) {
  if (!ok_) return 0;
  const size_t k = std::min({ts.size(), vs.size(), size_t{num_samples_ - done_}});
  if (k == 0) return 0;
  bool ok;
  if (encoding_ == Encoding::kXor) {
    NextXor(ts.first(k), vs.first(k));
    ok = reader_.ok();
  } else {
    ok = NextColumnar(ts.first(k), vs.first(k));
  }
  if (!ok) {
    ok_ = false;
    return 0;
  }
  done_ += static_cast<uint32_t>(k);
  return k;
}

void ChunkDecoder::NextXor(std::span<int64_t> ts, std::span<double> vs) {
  // Locals let the compiler keep the reader in registers: stores to ts could alias its members.
  BitReader r = reader_;
  detail::XorValueReader values = xor_values_;
  size_t i = 0;
  uint64_t t = static_cast<uint64_t>(prev_t_);
  uint64_t delta = prev_delta_;
  if (done_ == 0) {
    t = detail::UnZigZag(detail::ReadVarBits(r));
    delta = 0;
    ts[0] = static_cast<int64_t>(t);
    vs[0] = std::bit_cast<double>(values.First(r));
    i = 1;
  }
  for (; i < ts.size(); ++i) {
    delta += detail::ReadDod(r);
    t += delta;
    ts[i] = static_cast<int64_t>(t);
    vs[i] = std::bit_cast<double>(values.Next(r));
  }
  prev_t_ = static_cast<int64_t>(t);
  prev_delta_ = delta;
  reader_ = r;
  xor_values_ = values;
}

bool ChunkDecoder::NextColumnar(std::span<int64_t> ts, std::span<double> vs) {
  const size_t k = ts.size();
  // The whole chunk at once (spans at least as long as the chunk): the integer columns skip the
  // block loop.
  const bool all = done_ == 0 && k == num_samples_;
  if (all) {
    ts_.DecodeAll(detail::TimestampSink{ts.data()});
  } else {
    ts_.Decode(k, detail::TimestampSink{ts.data()});
  }
  switch (encoding_) {
    case Encoding::kConstant:
      detail::FillConstant(vs.data(), k, std::bit_cast<double>(constant_bits_));
      return ts_.ok();
    case Encoding::kIntDoubleDelta:
      if (all) {
        ints_.DecodeAll(detail::DoubleSink<false>{vs.data()});
      } else {
        ints_.Decode(k, detail::DoubleSink<false>{vs.data()});
      }
      return ts_.ok() && ints_.ok();
    case Encoding::kDecimal:
      if (all) {
        ints_.DecodeAll(detail::DoubleSink<true>{vs.data(), divisor_});
      } else {
        ints_.Decode(k, detail::DoubleSink<true>{vs.data(), divisor_});
      }
      return ts_.ok() && ints_.ok();
    case Encoding::kXorColumnar:
      xor_column_.Decode(vs.data(), k);
      return ts_.ok() && xor_column_.ok();
    default:
      return false;
  }
}

bool ChunkDecoder::ok() const { return ok_; }
Encoding ChunkDecoder::encoding() const { return encoding_; }
uint32_t ChunkDecoder::num_samples() const { return num_samples_; }

}  // namespace vigil::compression
