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
