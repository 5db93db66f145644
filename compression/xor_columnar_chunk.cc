// kXorColumnar: the kXor value coder as a column after the shared timestamp column
// (compression/docs/xor_columnar_chunk.md).

#include <bit>

#include "compression/detail/chunk_format.h"
#include "compression/detail/xor_codec.h"

namespace vigil::compression::detail {
namespace {

template <typename Writer>
void WriteValues(std::span<const double> vs, Writer& w) {
  XorValueWriter values;
  values.First(w, std::bit_cast<uint64_t>(vs[0]));
  for (size_t i = 1; i < vs.size(); ++i) values.Next(w, std::bit_cast<uint64_t>(vs[i]));
}

}  // namespace

uint64_t XorValueBits(std::span<const double> vs) {
  BitCounter counter;
  WriteValues(vs, counter);
  return counter.bits;
}

void WriteXorValues(std::span<const double> vs, BitWriter& w) { WriteValues(vs, w); }

}  // namespace vigil::compression::detail
