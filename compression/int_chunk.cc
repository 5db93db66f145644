// kIntDoubleDelta: integral values as an integer series (compression/docs/int_chunk.md).

#include <bit>
#include <cmath>

#include "compression/detail/chunk_format.h"

namespace vigil::compression::detail {

bool ToIntegers(std::span<const double> vs, std::vector<uint64_t>* ints) {
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  ints->resize(vs.size());
  for (size_t i = 0; i < vs.size(); ++i) {
    const double v = vs[i];
    if (!(std::fabs(v) <= kLimit)) return false;  // also rejects NaN
    const int64_t m = static_cast<int64_t>(v);
    // Bit comparison rejects fractions and -0.0.
    if (std::bit_cast<uint64_t>(static_cast<double>(m)) != std::bit_cast<uint64_t>(v)) return false;
    (*ints)[i] = static_cast<uint64_t>(m);
  }
  return true;
}

}  // namespace vigil::compression::detail
