// EncodeChunk / EncodeChunkAs: the adaptive choice between the chunk encodings.

#include <bit>
#include <cassert>
#include <cstdint>
#include <optional>

#include "compression/chunk.h"
#include "compression/detail/chunk_format.h"
#include "compression/detail/int_series.h"

namespace vigil::compression {
namespace {

using detail::IntSeriesPlan;

uint64_t ChunkBytes(uint64_t stream_bits) { return detail::kHeaderSize + (stream_bits + 7) / 8; }

// Value column of an adaptive chunk, planned but not yet written.
struct ValuePlan {
  Encoding encoding = Encoding::kXor;
  uint64_t bits = 0;
  unsigned scale = 0;
  IntSeriesPlan ints;
};

// `xor_value_bits`: XorValueBits(vs) if the caller has it, else UINT64_MAX.
std::optional<ValuePlan> PlanValues(Encoding enc, std::span<const double> vs,
                                    uint64_t xor_value_bits = UINT64_MAX, bool quick = false) {
  ValuePlan p;
  p.encoding = enc;
  std::vector<uint64_t> ints;
  switch (enc) {
    case Encoding::kConstant:
      if (!detail::IsConstant(vs)) return std::nullopt;
      p.bits = 64;
      return p;
    case Encoding::kIntDoubleDelta:
      if (!detail::ToIntegers(vs, &ints)) return std::nullopt;
      p.ints = detail::PlanIntSeries(ints, quick);
      p.bits = p.ints.bits;
      return p;
    case Encoding::kDecimal:
      if (!detail::ToDecimal(vs, &p.scale, &ints)) return std::nullopt;
      p.ints = detail::PlanIntSeries(ints, quick);
      p.bits = 4 + p.ints.bits;
      return p;
    case Encoding::kXorColumnar:
      p.bits = xor_value_bits != UINT64_MAX ? xor_value_bits : detail::XorValueBits(vs);
      return p;
    case Encoding::kXor:
      break;
  }
  return std::nullopt;
}

void WriteColumnar(const IntSeriesPlan& ts_plan, const ValuePlan& vp, std::span<const double> vs,
                   std::string* out) {
  detail::PutHeader(out, vp.encoding, static_cast<uint32_t>(vs.size()));
  detail::BitWriter w(out);
  detail::WriteIntSeries(ts_plan, w);
  switch (vp.encoding) {
    case Encoding::kConstant:
      w.Write(std::bit_cast<uint64_t>(vs[0]), 64);
      break;
    case Encoding::kDecimal:
      w.Write(vp.scale, 4);
      [[fallthrough]];
    case Encoding::kIntDoubleDelta:
      detail::WriteIntSeries(vp.ints, w);
      break;
    case Encoding::kXorColumnar:
      detail::WriteXorValues(vs, w);
      break;
    case Encoding::kXor:
      assert(false);
      break;
  }
  w.Finish();
}

void CheckArguments([[maybe_unused]] std::span<const int64_t> ts,
                    [[maybe_unused]] std::span<const double> vs) {
  assert(ts.size() == vs.size());
  assert(!ts.empty() && ts.size() <= detail::kMaxSamples);
}

}  // namespace

Encoding EncodeChunk(std::span<const int64_t> ts, std::span<const double> vs, std::string* out) {
  return EncodeChunkWith(ChunkEffort::kSmallest, ts, vs, out);
}

Encoding EncodeChunkWith(ChunkEffort effort, std::span<const int64_t> ts, std::span<const double> vs,
                         std::string* out) {
  CheckArguments(ts, vs);
  const bool quick = effort == ChunkEffort::kQuick;
  const IntSeriesPlan ts_plan = detail::PlanIntSeries(detail::AsUnsigned(ts), quick);
  // Candidates from the fastest to decode to the slowest; a later one must be strictly smaller.
  std::optional<ValuePlan> best;
  // kXor's size is its timestamp part plus the kXorColumnar value column: counted once.
  const uint64_t xor_value_bits = detail::XorValueBits(vs);
  uint64_t best_bytes = ChunkBytes(detail::XorTimestampBits(ts) + xor_value_bits);
  bool integral = false;
  for (Encoding enc : {Encoding::kConstant, Encoding::kIntDoubleDelta, Encoding::kDecimal,
                       Encoding::kXorColumnar}) {
    // An integral chunk is a decimal chunk of scale 0: kIntDoubleDelta is the same minus 4 bits.
    if (enc == Encoding::kDecimal && integral) continue;
    std::optional<ValuePlan> p = PlanValues(enc, vs, xor_value_bits, quick);
    if (!p) continue;
    if (enc == Encoding::kIntDoubleDelta) integral = true;
    uint64_t bytes = ChunkBytes(ts_plan.bits + p->bits);
    // Ties go to the column encodings over kXor: they decode faster.
    if (best ? bytes < best_bytes : bytes <= best_bytes) {
      best = std::move(p);
      best_bytes = bytes;
    }
  }
  if (!best) {
    detail::EncodeXor(ts, vs, out);
    return Encoding::kXor;
  }
  WriteColumnar(ts_plan, *best, vs, out);
  return best->encoding;
}

Encoding EncodeChunkAs(Encoding enc, std::span<const int64_t> ts, std::span<const double> vs,
                       std::string* out) {
  CheckArguments(ts, vs);
  std::optional<ValuePlan> p;
  if (enc != Encoding::kXor) p = PlanValues(enc, vs);
  if (!p) {
    detail::EncodeXor(ts, vs, out);
    return Encoding::kXor;
  }
  WriteColumnar(detail::PlanIntSeries(detail::AsUnsigned(ts)), *p, vs, out);
  return enc;
}

}  // namespace vigil::compression
