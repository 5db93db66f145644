#pragma once

// Helpers shared by the compression tests: hex conversion, bit-exact round trips and the
// deterministic sample generators.

#include <algorithm>
#include <bit>
#include <limits>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "compression/chunk.h"

namespace vigil::compression::testing {

inline std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

struct Samples {
  std::vector<int64_t> ts;
  std::vector<double> vs;
};

// Decodes `chunk` with batches of `batch` samples; sets *ok to the decoder's final ok().
inline Samples DecodeAll(std::string_view chunk, size_t batch, bool* ok) {
  Samples s;
  ChunkDecoder d(chunk);
  std::vector<int64_t> ts(batch);
  std::vector<double> vs(batch);
  for (size_t got; (got = d.Next(ts, vs)) != 0;) {
    s.ts.insert(s.ts.end(), ts.begin(), ts.begin() + static_cast<ptrdiff_t>(got));
    s.vs.insert(s.vs.end(), vs.begin(), vs.begin() + static_cast<ptrdiff_t>(got));
  }
  *ok = d.ok();
  return s;
}

inline std::vector<uint64_t> Bits(std::span<const double> vs) {
  std::vector<uint64_t> out;
  for (double v : vs) out.push_back(std::bit_cast<uint64_t>(v));
  return out;
}

inline double FromBits(uint64_t b) { return std::bit_cast<double>(b); }

inline constexpr uint64_t kStaleNaN = 0x7ff0000000000002;

// Float bit patterns that codecs get wrong most often.
inline std::vector<double> SpecialValues() {
  return {0.0,
          -0.0,
          FromBits(kStaleNaN),
          FromBits(0x7ff8000000000000),  // quiet NaN
          FromBits(0xfff8000000000001),  // negative NaN with payload
          FromBits(0x7fffffffffffffff),
          std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(),
          std::numeric_limits<double>::denorm_min(),
          -std::numeric_limits<double>::denorm_min(),
          FromBits(0x000fffffffffffff),  // largest subnormal
          std::numeric_limits<double>::min(),
          std::numeric_limits<double>::max(),
          -std::numeric_limits<double>::max(),
          1.0,
          -1.0,
          0.1,
          9007199254740992.0,   // 2^53
          9007199254740993.0,   // rounds to 2^53
          -9007199254740992.0,
          1e300,
          123456789.123};
}

// Random int64 timestamps of the given flavour: 0 regular with jitter, 1 random full-range,
// 2 decreasing, 3 equal, 4 extremes and huge gaps.
inline std::vector<int64_t> RandomTimestamps(std::mt19937_64& rng, size_t n, int flavour) {
  std::vector<int64_t> ts(n);
  int64_t t = static_cast<int64_t>(rng() >> 23) - (int64_t{1} << 40);
  const int64_t extremes[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1};
  for (size_t i = 0; i < n; ++i) {
    switch (flavour) {
      case 0:
        t += 15000 + static_cast<int64_t>(rng() % 21) - 10;
        ts[i] = t;
        break;
      case 1:
        ts[i] = static_cast<int64_t>(rng());
        break;
      case 2:
        t -= static_cast<int64_t>(rng() % 100000);
        ts[i] = t;
        break;
      case 3:
        ts[i] = t;
        break;
      default:
        ts[i] = (rng() % 3 == 0) ? extremes[rng() % 7] : static_cast<int64_t>(rng() >> (rng() % 64));
        break;
    }
  }
  return ts;
}

// Random values of the given flavour: 0 random bits, 1 specials, 2 counter, 3 decimals,
// 4 random walk, 5 constant, 6 integers with rare huge jumps.
inline std::vector<double> RandomValues(std::mt19937_64& rng, size_t n, int flavour) {
  std::vector<double> vs(n);
  const std::vector<double> specials = SpecialValues();
  double walk = 100;
  int64_t counter = static_cast<int64_t>(rng() % 1000000);
  const int scale = static_cast<int>(rng() % 7);
  const double pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  const double constant = specials[rng() % specials.size()];
  for (size_t i = 0; i < n; ++i) {
    switch (flavour) {
      case 0:
        vs[i] = FromBits(rng());
        break;
      case 1:
        vs[i] = specials[rng() % specials.size()];
        break;
      case 2:
        counter += static_cast<int64_t>(rng() % 50);
        vs[i] = static_cast<double>(counter);
        break;
      case 3:
        vs[i] = static_cast<double>(static_cast<int64_t>(rng() % 2000000) - 1000000) / pow10[scale];
        break;
      case 4:
        walk += std::normal_distribution<double>(0, 1)(rng);
        vs[i] = walk;
        break;
      case 5:
        vs[i] = constant;
        break;
      default:
        counter += rng() % 20 == 0 ? static_cast<int64_t>(rng() >> 12) - (int64_t{1} << 51)
                                   : static_cast<int64_t>(rng() % 3);
        counter = std::clamp<int64_t>(counter, -(int64_t{1} << 53), int64_t{1} << 53);
        vs[i] = static_cast<double>(counter);
        break;
    }
  }
  return vs;
}

}  // namespace vigil::compression::testing
