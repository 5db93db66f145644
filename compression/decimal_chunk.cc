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
  // The nearest integer, without a libm call: from 2^52 on every double is an integer; below,
  // adding 0.5 and truncating can differ from llround only where scaled is within an ulp of a
  // half (0.49999999999999994 + 0.5 rounds up to 1) — far from any integer, so neither candidate
  // passes the exact check below and the choice is the same.
  constexpr double kIntegral = 4503599627370496.0;  // 2^52
  const int64_t r = std::fabs(scaled) >= kIntegral
                        ? static_cast<int64_t>(scaled)
                        : static_cast<int64_t>(scaled + std::copysign(0.5, scaled));
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
  // The integers are kept as they are found; those found before the scale last grew are
  // recomputed at the final scale.
  unsigned k = 0;
  int64_t m;
  size_t redo = 0;  // values [0, redo) were scaled with a smaller k
  ints->resize(vs.size());
  for (size_t i = 0; i < vs.size(); ++i) {
    if (!ScaledInteger(vs[i], k, &m)) {
      do {
        if (++k > kMaxDecimalScale) return false;
      } while (!ScaledInteger(vs[i], k, &m));
      redo = i;
    }
    (*ints)[i] = static_cast<uint64_t>(m);
  }
  for (size_t i = 0; i < redo; ++i) {
    if (!ScaledInteger(vs[i], k, &m)) return false;
    (*ints)[i] = static_cast<uint64_t>(m);
  }
  *scale = k;
  return true;
}

}  // namespace vigil::compression::detail
