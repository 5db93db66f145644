// Out-of-line fills (fill.h), compiled for AVX2 and for the x86-64 baseline where supported.

#include "compression/detail/fill.h"

#include <bit>
#include <cstring>

namespace vigil::compression::detail {

// VIGIL_NO_FILL_CLONES builds the baseline version only (to test it on an AVX2 machine).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VIGIL_NO_FILL_CLONES)
#define VIGIL_FILL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VIGIL_FILL_CLONES
#endif

// The helpers below take and return 32-byte vectors; they are internal and always inlined into
// the clones, so the ABI note GCC gives for such signatures does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

using U64x4 = uint64_t __attribute__((vector_size(32)));
using F64x4 = double __attribute__((vector_size(32)));

// Writes out[j .. j+16) from the vector of values j .. j+3 and the step between two vectors
// (values convert(v), convert(v + d), ...), then does the same for a last block of 16 that ends
// at n and overlaps the one before it (the same values): no remainder loop. REQUIRES n >= 16.
template <typename T, typename Convert>
[[gnu::always_inline]] inline void FillBlocks(T* out, size_t n, U64x4 first, U64x4 d,
                                              Convert convert, U64x4 at_tail) {
  const auto block = [out, d, convert](size_t j, U64x4 v) {
#pragma GCC unroll 4
    for (size_t b = 0; b < 16; b += 4) {
      const auto x = convert(v);
      std::memcpy(out + j + b, &x, sizeof(x));
      v += d;
    }
  };
  const U64x4 dv = d * 4;
  U64x4 v = first;
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    block(j, v);
    v += dv;
  }
  if (j < n) block(n - 16, at_tail);
}

[[gnu::always_inline]] inline U64x4 Lanes(uint64_t x, uint64_t step) { return U64x4{x, x + step, x + 2 * step, x + 3 * step}; }
[[gnu::always_inline]] inline U64x4 Broadcast(uint64_t x) { return U64x4{x, x, x, x}; }

}  // namespace

VIGIL_FILL_CLONES void FillAffineWide(int64_t* out, size_t n, uint64_t x, uint64_t step) {
  FillBlocks(out, n, Lanes(x, step), Broadcast(4 * step), [](U64x4 v) { return v; },
             Lanes(x + (n - 16) * step, step));
}

VIGIL_FILL_CLONES void FillConstantWide(double* out, size_t n, double c) {
  const uint64_t bits = std::bit_cast<uint64_t>(c);
  FillBlocks(out, n, Broadcast(bits), Broadcast(0), [](U64x4 v) { return v; }, Broadcast(bits));
}

// The exact integer-to-double conversion of fill.h (kMagicBits), four lanes at a time.
VIGIL_FILL_CLONES void FillAffineAsDoubleWide(double* out, size_t n, uint64_t x, uint64_t step) {
  const F64x4 magic = {kMagic, kMagic, kMagic, kMagic};
  const U64x4 bias = Broadcast(kMagicBits);
  FillBlocks(
      out, n, Lanes(x, step) + bias, Broadcast(4 * step),
      [magic](U64x4 v) { return std::bit_cast<F64x4>(v) - magic; },
      Lanes(x + (n - 16) * step, step) + bias);
}

VIGIL_FILL_CLONES void FillAffineAsScaledDoubleWide(double* out, size_t n, uint64_t x,
                                                    uint64_t step, double divisor) {
  const F64x4 magic = {kMagic, kMagic, kMagic, kMagic};
  const F64x4 div = {divisor, divisor, divisor, divisor};
  const U64x4 bias = Broadcast(kMagicBits);
  FillBlocks(
      out, n, Lanes(x, step) + bias, Broadcast(4 * step),
      [magic, div](U64x4 v) { return (std::bit_cast<F64x4>(v) - magic) / div; },
      Lanes(x + (n - 16) * step, step) + bias);
}

namespace {

// Four values per iteration, then the last four ending at n (overlapping; same values).
template <typename Convert>
[[gnu::always_inline]] inline void ConvertIntegers(double* out, const uint64_t* x, size_t n,
                                                   Convert convert) {
  const auto four = [out, x, convert](size_t j) {
    U64x4 v;
    std::memcpy(&v, x + j, sizeof(v));
    const F64x4 f = convert(v);
    std::memcpy(out + j, &f, sizeof(f));
  };
  size_t j = 0;
  for (; j + 4 <= n; j += 4) four(j);
  if (j < n) four(n - 4);
}

}  // namespace

VIGIL_FILL_CLONES void IntegersToDoubleWide(double* out, const uint64_t* x, size_t n) {
  const F64x4 magic = {kMagic, kMagic, kMagic, kMagic};
  const U64x4 bias = Broadcast(kMagicBits);
  ConvertIntegers(out, x, n,
                  [magic, bias](U64x4 v) { return std::bit_cast<F64x4>(v + bias) - magic; });
}

VIGIL_FILL_CLONES void IntegersToScaledDoubleWide(double* out, const uint64_t* x, size_t n,
                                                  double divisor) {
  const F64x4 magic = {kMagic, kMagic, kMagic, kMagic};
  const F64x4 div = {divisor, divisor, divisor, divisor};
  const U64x4 bias = Broadcast(kMagicBits);
  ConvertIntegers(out, x, n, [magic, bias, div](U64x4 v) {
    return (std::bit_cast<F64x4>(v + bias) - magic) / div;
  });
}

}  // namespace vigil::compression::detail
