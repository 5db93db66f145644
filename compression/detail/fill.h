#pragma once

// The output side of the column decoders, and the loops that write most decoded samples: arithmetic runs of timestamps (a grid at the scrape
// interval) and of integer values (steady counters, constant gauges), as int64 or as double.
//
// They are written two 64-bit lanes at a time with GCC vector extensions (SSE2, the x86-64
// baseline; NEON on arm64): GCC does not vectorize them itself at -O2, and one 16-byte store per
// two samples instead of two 8-byte stores is what bounds these loops. The int64 run costs ~1.4
// instructions per value instead of ~2.8 unrolled scalar; on real-scrape these loops took the
// adaptive decode from 26.3 to 24.8 instructions per sample (callgrind).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vigil::compression::detail {

using U64x2 = uint64_t __attribute__((vector_size(16)));
using F64x2 = double __attribute__((vector_size(16)));

inline void StoreU64x2(void* p, U64x2 v) { std::memcpy(p, &v, sizeof(v)); }
inline void StoreF64x2(void* p, F64x2 v) { std::memcpy(p, &v, sizeof(v)); }

// Runs of at least kWideFill values go to an out-of-line loop (fill.cc) that is compiled twice
// on x86-64 (target_clones): with AVX2 it writes four lanes per 32-byte store, half the stores of
// the baseline SSE2 version; the CPU picks the clone once, at load time.
inline constexpr size_t kWideFill = 16;
void FillAffineWide(int64_t* out, size_t n, uint64_t x, uint64_t step);
void FillConstantWide(double* out, size_t n, double c);
// FillAffineAsDouble for a run whose values are all below 2^51 in magnitude.
void FillAffineAsDoubleWide(double* out, size_t n, uint64_t x, uint64_t step);
void FillAffineAsScaledDoubleWide(double* out, size_t n, uint64_t x, uint64_t step,
                                  double divisor);
// out[j] = (double)(int64)x[j] (divided by `divisor` if scaled) for j in [0, n), n >= 4, every
// x[j] below 2^51 in magnitude.
void IntegersToDoubleWide(double* out, const uint64_t* x, size_t n);
void IntegersToScaledDoubleWide(double* out, const uint64_t* x, size_t n, double divisor);

// out[j] = x + j*step (wrapping) for j in [0, n).
inline void FillAffine(int64_t* out, size_t n, uint64_t x, uint64_t step) {
  if (n >= kWideFill) {
    FillAffineWide(out, n, x, step);
    return;
  }
  U64x2 v = {x, x + step};
  const U64x2 d = {2 * step, 2 * step};
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    StoreU64x2(out + j, v);
    v += d;
  }
  if (j < n) out[j] = static_cast<int64_t>(v[0]);
}

inline void FillConstant(double* out, size_t n, double c) {
  if (n >= kWideFill) {
    FillConstantWide(out, n, c);
    return;
  }
  const F64x2 v = {c, c};
  size_t j = 0;
#pragma GCC unroll 8
  for (; j + 2 <= n; j += 2) StoreF64x2(out + j, v);
  if (j < n) out[j] = c;
}

// Integers below 2^51 in magnitude convert to double exactly, two lanes at a time, by adding them
// to the bit pattern of 2^52 + 2^51 (its mantissa then holds 2^51 + v) and subtracting that value.
inline constexpr uint64_t kMagicBits = 0x4338000000000000;  // 2^52 + 2^51
inline constexpr double kMagic = 6755399441055744.0;
inline constexpr int64_t kMagicLimit = int64_t{1} << 51;

inline bool FitsMagic(uint64_t x) {
  const int64_t v = static_cast<int64_t>(x);
  return v > -kMagicLimit && v < kMagicLimit;
}

// out[j] = (double)(int64)(x + j*step), divided by `divisor` if kScaled, for j in [0, n):
// bit-exact with the scalar expression.
template <bool kScaled>
inline void FillAffineAsDouble(double* out, size_t n, uint64_t x, uint64_t step, double divisor) {
  const auto convert = [divisor](uint64_t u) {
    const double d = static_cast<double>(static_cast<int64_t>(u));
    return kScaled ? d / divisor : d;
  };
  if (step == 0) {
    FillConstant(out, n, convert(x));
    return;
  }
  size_t j = 0;
  // The run is monotone, so its ends bound it. (Wrapped runs only come from corrupt chunks; their
  // values are wrong either way but never out of bounds.)
  if (n >= kWideFill && FitsMagic(x) && FitsMagic(x + (n - 1) * step)) {
    if constexpr (kScaled) {
      FillAffineAsScaledDoubleWide(out, n, x, step, divisor);
    } else {
      FillAffineAsDoubleWide(out, n, x, step);
    }
    return;
  }
  if (n >= 4 && FitsMagic(x) && FitsMagic(x + (n - 1) * step)) {
    U64x2 v = U64x2{x, x + step} + kMagicBits;
    const U64x2 d = {2 * step, 2 * step};
    const F64x2 div = {divisor, divisor};
    for (; j + 2 <= n; j += 2) {
      F64x2 f = std::bit_cast<F64x2>(v) - kMagic;
      if constexpr (kScaled) f /= div;
      StoreF64x2(out + j, f);
      v += d;
    }
  }
  for (; j < n; ++j) out[j] = convert(x + j * step);
}

// Where IntSeriesReader::Decode puts values: sink(i, x) stores value i, sink.Fill(i, n, x, step)
// stores the run x, x + step, ... as values i .. i+n-1.

// Timestamps: the int64 bit pattern of the wrapped value.
struct TimestampSink {
  static constexpr bool kToDouble = false;
  static constexpr bool kScaled = false;
  int64_t* out;
  void operator()(size_t i, uint64_t x) const { out[i] = static_cast<int64_t>(x); }
  void Fill(size_t i, size_t n, uint64_t x, uint64_t step) const { FillAffine(out + i, n, x, step); }
  // Adds r (wrapping) to value i, already written.
  void Add(size_t i, uint64_t r) const {
    out[i] = static_cast<int64_t>(static_cast<uint64_t>(out[i]) + r);
  }
};

// kIntDoubleDelta values (kScaled = false) and kDecimal values (divided by 10^scale).
template <bool kScaledValues>
struct DoubleSink {
  static constexpr bool kToDouble = true;
  static constexpr bool kScaled = kScaledValues;
  double* out;
  double divisor = 1;
  void operator()(size_t i, uint64_t x) const {
    const double d = static_cast<double>(static_cast<int64_t>(x));
    out[i] = kScaled ? d / divisor : d;
  }
  void Fill(size_t i, size_t n, uint64_t x, uint64_t step) const {
    FillAffineAsDouble<kScaled>(out + i, n, x, step, divisor);
  }
  // Values i .. i+n-1 from the integers x[0, n); `fits`: every one is below 2^51 in magnitude.
  void FromIntegers(size_t i, const uint64_t* x, size_t n, bool fits) const {
    double* const o = out + i;
    size_t j = 0;
    if (fits && n >= kWideFill) {
      if constexpr (kScaled) {
        IntegersToScaledDoubleWide(o, x, n, divisor);
      } else {
        IntegersToDoubleWide(o, x, n);
      }
      return;
    }
    if (fits) {
      const F64x2 div = {divisor, divisor};
      for (; j + 2 <= n; j += 2) {
        U64x2 v;
        std::memcpy(&v, x + j, sizeof(v));
        F64x2 f = std::bit_cast<F64x2>(v + kMagicBits) - kMagic;
        if constexpr (kScaled) f /= div;
        StoreF64x2(o + j, f);
      }
    }
    for (; j < n; ++j) (*this)(i + j, x[j]);
  }
};

}  // namespace vigil::compression::detail
