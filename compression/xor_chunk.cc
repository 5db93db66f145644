// kXor: Gorilla chunks, written sample by sample (compression/docs/xor_chunk.md).

#include <cassert>

#include "compression/chunk.h"
#include "compression/detail/chunk_format.h"
#include "compression/detail/xor_codec.h"

namespace vigil::compression {

XorAppender::XorAppender(std::string* out) : out_(out), start_(out->size()), writer_(out) {
  detail::PutHeader(out_, Encoding::kXor, 0);
}

void XorAppender::Append(int64_t t, double v) {
  assert(stream_.count() < detail::kMaxSamples);
  if (finished_) {
    writer_.Reopen();
    finished_ = false;
  }
  stream_.Append(writer_, t, v);
  detail::PatchCount(out_, start_, stream_.count());
}

uint32_t XorAppender::num_samples() const { return stream_.count(); }

template <typename Out>
void CompactXorAppender::StartIn(Out* out) {
  assert(out->size() == 0);
  *this = CompactXorAppender();
  detail::PutHeader(out, Encoding::kXor, 0);
}

template <typename Out>
void CompactXorAppender::AppendIn(Out* out, int64_t t, double v, int64_t prev_t,
                                  uint64_t prev_bits) {
  assert(count_ < detail::kMaxSamples);
  if (tail_bytes_ != 0) {
    out->resize(out->size() - tail_bytes_);
    tail_bytes_ = 0;
  }
  detail::BasicBitWriter<Out> writer(out, acc_, pending_, 0);
  detail::XorStream<detail::BasicBitWriter<Out>> stream(
      detail::XorValueWriter(prev_bits, lead_, trail_), count_, prev_t, prev_delta_);
  stream.Append(writer, t, v);
  acc_ = writer.acc();
  pending_ = static_cast<uint8_t>(writer.pending());
  lead_ = static_cast<uint8_t>(stream.values().lead());
  trail_ = static_cast<uint8_t>(stream.values().trail());
  prev_delta_ = stream.prev_delta();
  ++count_;
  detail::PatchCount(out, 0, count_);
}

template <typename Out>
void CompactXorAppender::FinishIn(Out* out) {
  if (tail_bytes_ != 0) return;
  detail::BasicBitWriter<Out> writer(out, acc_, pending_, 0);
  writer.Finish();
  tail_bytes_ = static_cast<uint8_t>(writer.tail_bytes());
}

void CompactXorAppender::Start(std::string* out) { StartIn(out); }
void CompactXorAppender::Start(SpillBuffer* out) { StartIn(out); }
void CompactXorAppender::Append(std::string* out, int64_t t, double v, int64_t prev_t,
                                uint64_t prev_bits) {
  AppendIn(out, t, v, prev_t, prev_bits);
}
void CompactXorAppender::Append(SpillBuffer* out, int64_t t, double v, int64_t prev_t,
                                uint64_t prev_bits) {
  AppendIn(out, t, v, prev_t, prev_bits);
}
void CompactXorAppender::Finish(std::string* out) { FinishIn(out); }
void CompactXorAppender::Finish(SpillBuffer* out) { FinishIn(out); }

void XorAppender::Finish() {
  writer_.Finish();
  finished_ = true;
}

namespace detail {

uint64_t XorStreamBits(std::span<const int64_t> ts, std::span<const double> vs) {
  return XorTimestampBits(ts) + XorValueBits(vs);
}

uint64_t XorTimestampBits(std::span<const int64_t> ts) {
  BitCounter counter;
  WriteVarBits(counter, ZigZag(static_cast<uint64_t>(ts[0])));
  uint64_t prev_delta = 0;
  for (size_t i = 1; i < ts.size(); ++i) {
    const uint64_t delta = static_cast<uint64_t>(ts[i]) - static_cast<uint64_t>(ts[i - 1]);
    WriteDod(counter, delta - prev_delta);
    prev_delta = delta;
  }
  return counter.bits;
}

void EncodeXor(std::span<const int64_t> ts, std::span<const double> vs, std::string* out) {
  PutHeader(out, Encoding::kXor, static_cast<uint32_t>(ts.size()));
  BitWriter w(out);
  XorStream<BitWriter> stream;
  for (size_t i = 0; i < ts.size(); ++i) stream.Append(w, ts[i], vs[i]);
  w.Finish();
}

}  // namespace detail
}  // namespace vigil::compression
