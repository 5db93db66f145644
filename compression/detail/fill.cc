// Out-of-line fills and conversions (fill.h). On x86-64 with GCC each has two versions (C++
// function multiversioning, picked once at load time): one for AVX2 with 32-byte vectors, one for
// the x86-64 baseline with 16-byte SSE2 vectors.

#include "compression/detail/fill.h"

#include <bit>
#include <cstring>

namespace vigil::compression::detail {

// VIGIL_NO_FILL_CLONES builds the baseline version only (to test it on an AVX2 machine). So does a
// ThreadSanitizer build: the versions' resolver runs during relocation, before the sanitizer's
// runtime is up, and its instrumented code crashes the program at start.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(VIGIL_NO_FILL_CLONES) && !defined(__SANITIZE_THREAD__)
#define VIGIL_FILL_VERSIONS 1
#define VIGIL_TARGET_DEFAULT __attribute__((target("default")))
#define VIGIL_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define VIGIL_FILL_VERSIONS 0
#define VIGIL_TARGET_DEFAULT
#endif

// The helpers below take and return 32-byte vectors; they are internal and always inlined into
// the versions above, so the ABI note GCC gives for such signatures does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace {

using U64x4 = uint64_t __attribute__((vector_size(32)));
using F64x4 = double __attribute__((vector_size(32)));

// The double vector of the same width as V.
template <typename V>
struct DoubleVector;
template <>
struct DoubleVector<U64x2> {
  using Type = F64x2;
};
template <>
struct DoubleVector<U64x4> {
  using Type = F64x4;
};
template <typename V>
using DoubleOf = typename DoubleVector<V>::Type;

template <typename V>
inline constexpr size_t kLanes = sizeof(V) / sizeof(uint64_t);

template <typename V>
[[gnu::always_inline]] inline V Lanes(uint64_t x, uint64_t step) {
  V v;
  for (size_t i = 0; i < kLanes<V>; ++i) v[i] = x + i * step;
  return v;
}

template <typename V>
[[gnu::always_inline]] inline V Broadcast(uint64_t x) {
  return Lanes<V>(x, 0);
}

// Writes values j .. j+16 as convert(v), convert(v + d), ... (kLanes<V> values per vector) for
// each block of 16, then a last block of 16 that ends at n and overlaps the one before it (the
// same values): no remainder loop. `first` holds values 0.., `at_tail` values n-16... n >= 16.
template <typename V, typename T, typename Convert>
[[gnu::always_inline]] inline void FillBlocks(T* out, size_t n, V first, V d, Convert convert,
                                              V at_tail) {
  const auto block = [out, d, convert](size_t j, V v) {
#pragma GCC unroll 8
    for (size_t b = 0; b < 16; b += kLanes<V>) {
      const auto x = convert(v);
      std::memcpy(out + j + b, &x, sizeof(x));
      v += d;
    }
  };
  const V dv = d * (16 / kLanes<V>);
  V v = first;
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    block(j, v);
    v += dv;
  }
  if (j < n) block(n - 16, at_tail);
}

template <typename V>
[[gnu::always_inline]] inline void FillAffineImpl(int64_t* out, size_t n, uint64_t x,
                                                  uint64_t step) {
  FillBlocks<V>(out, n, Lanes<V>(x, step), Broadcast<V>(kLanes<V> * step),
                [](V v) { return v; }, Lanes<V>(x + (n - 16) * step, step));
}

template <typename V>
[[gnu::always_inline]] inline void FillConstantImpl(double* out, size_t n, double c) {
  const V bits = Broadcast<V>(std::bit_cast<uint64_t>(c));
  FillBlocks<V>(out, n, bits, Broadcast<V>(0), [](V v) { return v; }, bits);
}

// The exact integer-to-double conversion of fill.h (kMagicBits), divided if kScaled.
template <typename V, bool kScaled>
[[gnu::always_inline]] inline void FillAffineAsDoubleImpl(double* out, size_t n, uint64_t x,
                                                          uint64_t step, double divisor) {
  using F = DoubleOf<V>;
  const F magic = std::bit_cast<F>(Broadcast<V>(std::bit_cast<uint64_t>(kMagic)));
  const F div = std::bit_cast<F>(Broadcast<V>(std::bit_cast<uint64_t>(divisor)));
  const V bias = Broadcast<V>(kMagicBits);
  FillBlocks<V>(
      out, n, Lanes<V>(x, step) + bias, Broadcast<V>(kLanes<V> * step),
      [magic, div](V v) {
        F f = std::bit_cast<F>(v) - magic;
        if constexpr (kScaled) f /= div;
        return f;
      },
      Lanes<V>(x + (n - 16) * step, step) + bias);
}

// Four (or two) values per iteration, then the last vector ending at n (overlapping; the same
// values). n >= kLanes<V>.
template <typename V, bool kScaled>
[[gnu::always_inline]] inline void IntegersToDoubleImpl(double* out, const uint64_t* x, size_t n,
                                                        double divisor) {
  using F = DoubleOf<V>;
  const F magic = std::bit_cast<F>(Broadcast<V>(std::bit_cast<uint64_t>(kMagic)));
  const F div = std::bit_cast<F>(Broadcast<V>(std::bit_cast<uint64_t>(divisor)));
  const V bias = Broadcast<V>(kMagicBits);
  const auto one = [&](size_t j) {
    V v;
    std::memcpy(&v, x + j, sizeof(v));
    F f = std::bit_cast<F>(v + bias) - magic;
    if constexpr (kScaled) f /= div;
    std::memcpy(out + j, &f, sizeof(f));
  };
  size_t j = 0;
#pragma GCC unroll 2
  for (; j + kLanes<V> <= n; j += kLanes<V>) one(j);
  if (j < n) one(n - kLanes<V>);
}

}  // namespace

// The versions: each function for the baseline, then (x86-64) for AVX2. Calls from this file go
// through the resolver GCC generates; the functions fill.h declares forward to them (a caller in
// another file would see only the baseline version).
namespace versions {

VIGIL_TARGET_DEFAULT void VersionedFillAffineWide(int64_t* out, size_t n, uint64_t x, uint64_t step) {
  FillAffineImpl<U64x2>(out, n, x, step);
}
VIGIL_TARGET_DEFAULT void VersionedFillConstantWide(double* out, size_t n, double c) {
  FillConstantImpl<U64x2>(out, n, c);
}
VIGIL_TARGET_DEFAULT void VersionedFillAffineAsDoubleWide(double* out, size_t n, uint64_t x,
                                                 uint64_t step) {
  FillAffineAsDoubleImpl<U64x2, false>(out, n, x, step, 1);
}
VIGIL_TARGET_DEFAULT void VersionedFillAffineAsScaledDoubleWide(double* out, size_t n, uint64_t x,
                                                       uint64_t step, double divisor) {
  FillAffineAsDoubleImpl<U64x2, true>(out, n, x, step, divisor);
}
VIGIL_TARGET_DEFAULT void VersionedIntegersToDoubleWide(double* out, const uint64_t* x, size_t n) {
  IntegersToDoubleImpl<U64x2, false>(out, x, n, 1);
}
VIGIL_TARGET_DEFAULT void VersionedIntegersToScaledDoubleWide(double* out, const uint64_t* x, size_t n,
                                                     double divisor) {
  IntegersToDoubleImpl<U64x2, true>(out, x, n, divisor);
}

#if VIGIL_FILL_VERSIONS
VIGIL_TARGET_AVX2 void VersionedFillAffineWide(int64_t* out, size_t n, uint64_t x, uint64_t step) {
  FillAffineImpl<U64x4>(out, n, x, step);
}
VIGIL_TARGET_AVX2 void VersionedFillConstantWide(double* out, size_t n, double c) {
  FillConstantImpl<U64x4>(out, n, c);
}
VIGIL_TARGET_AVX2 void VersionedFillAffineAsDoubleWide(double* out, size_t n, uint64_t x, uint64_t step) {
  FillAffineAsDoubleImpl<U64x4, false>(out, n, x, step, 1);
}
VIGIL_TARGET_AVX2 void VersionedFillAffineAsScaledDoubleWide(double* out, size_t n, uint64_t x,
                                                    uint64_t step, double divisor) {
  FillAffineAsDoubleImpl<U64x4, true>(out, n, x, step, divisor);
}
VIGIL_TARGET_AVX2 void VersionedIntegersToDoubleWide(double* out, const uint64_t* x, size_t n) {
  IntegersToDoubleImpl<U64x4, false>(out, x, n, 1);
}
VIGIL_TARGET_AVX2 void VersionedIntegersToScaledDoubleWide(double* out, const uint64_t* x, size_t n,
                                                  double divisor) {
  IntegersToDoubleImpl<U64x4, true>(out, x, n, divisor);
}
#endif

}  // namespace versions

void FillAffineWide(int64_t* out, size_t n, uint64_t x, uint64_t step) {
  versions::VersionedFillAffineWide(out, n, x, step);
}
void FillConstantWide(double* out, size_t n, double c) {
  versions::VersionedFillConstantWide(out, n, c);
}
void FillAffineAsDoubleWide(double* out, size_t n, uint64_t x, uint64_t step) {
  versions::VersionedFillAffineAsDoubleWide(out, n, x, step);
}
void FillAffineAsScaledDoubleWide(double* out, size_t n, uint64_t x, uint64_t step,
                                  double divisor) {
  versions::VersionedFillAffineAsScaledDoubleWide(out, n, x, step, divisor);
}
void IntegersToDoubleWide(double* out, const uint64_t* x, size_t n) {
  versions::VersionedIntegersToDoubleWide(out, x, n);
}
void IntegersToScaledDoubleWide(double* out, const uint64_t* x, size_t n, double divisor) {
  versions::VersionedIntegersToScaledDoubleWide(out, x, n, divisor);
}

}  // namespace vigil::compression::detail
