// kDecimal: values m * 10^-scale as an integer series (compression/docs/decimal_chunk.md).

#include <bit>
#include <cmath>

#include "compression/detail/chunk_format.h"

namespace vigil::compression::detail {
namespace {

constexpr double kPow10[kMaxDecimalScale + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr double kLimit = 9007199254740992.0;  // 2^53

// The integer m with m / 10^scale == v bit for bit, if there is one.
bool ScaledInteger(double v, unsigned scale, int64_t* m) {
  const double scaled = v * kPow10[scale];
  if (!(std::fabs(scaled) <= kLimit)) return false;  // also NaN and infinities
  const int64_t r = std::llround(scaled);
  if (std::bit_cast<uint64_t>(static_cast<double>(r) / kPow10[scale]) != std::bit_cast<uint64_t>(v)) {
    return false;
  }
  *m = r;
  return true;
}

}  // namespace

double DecimalDivisor(unsigned scale) { return kPow10[scale]; }

bool ToDecimal(std::span<const double> vs, unsigned* scale, std::vector<uint64_t>* ints) {
  // The chunk's scale is the largest any value needs; a value exact at scale k is exact at every
  // larger scale (the quotient is the same rational number, correctly rounded), and the final pass
  // checks it anyway.
  unsigned k = 0;
  int64_t m;
  for (double v : vs) {
    while (!ScaledInteger(v, k, &m)) {
      if (++k > kMaxDecimalScale) return false;
    }
  }
  ints->resize(vs.size());
  for (size_t i = 0; i < vs.size(); ++i) {
    if (!ScaledInteger(vs[i], k, &m)) return false;
    (*ints)[i] = static_cast<uint64_t>(m);
  }
  *scale = k;
  return true;
}

}  // namespace vigil::compression::detail
