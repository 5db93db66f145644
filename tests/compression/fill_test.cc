#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

#include "compression/detail/fill.h"

namespace vigil::compression::detail {
namespace {

// Every run length around the vector widths and the 16-value blocks (with the overlapping last
// block), against the scalar definitions: out[j] = x + j*step (wrapping), and for doubles
// (double)(int64)(x + j*step), divided by the divisor when scaled.
TEST_CASE("Fills match their scalar definitions for every run length", "[compression][fill]") {
  std::mt19937_64 rng(5);
  const uint64_t starts[] = {0, 1, uint64_t(-7), 1700000000000, uint64_t{1} << 50,
                             uint64_t(-(int64_t{1} << 50)), UINT64_MAX - 3, rng()};
  const uint64_t steps[] = {0, 1, 5000, uint64_t(-3), uint64_t{1} << 40, rng()};
  for (size_t n = 0; n <= 70; ++n) {
    for (uint64_t x : starts) {
      for (uint64_t step : steps) {
        INFO("n " << n << " x " << x << " step " << step);
        std::vector<int64_t> ts(n + 2, 77);
        FillAffine(ts.data() + 1, n, x, step);
        REQUIRE(ts.front() == 77);
        REQUIRE(ts.back() == 77);
        for (size_t j = 0; j < n; ++j) REQUIRE(ts[j + 1] == static_cast<int64_t>(x + j * step));

        std::vector<double> vs(n + 2, 0.5);
        std::vector<double> scaled(n + 2, 0.5);
        FillAffineAsDouble<false>(vs.data() + 1, n, x, step, 1);
        FillAffineAsDouble<true>(scaled.data() + 1, n, x, step, 1000);
        REQUIRE(vs.front() == 0.5);
        REQUIRE(vs.back() == 0.5);
        REQUIRE(scaled.front() == 0.5);
        REQUIRE(scaled.back() == 0.5);
        for (size_t j = 0; j < n; ++j) {
          const double d = static_cast<double>(static_cast<int64_t>(x + j * step));
          REQUIRE(std::bit_cast<uint64_t>(vs[j + 1]) == std::bit_cast<uint64_t>(d));
          REQUIRE(std::bit_cast<uint64_t>(scaled[j + 1]) == std::bit_cast<uint64_t>(d / 1000));
        }

        std::vector<double> cs(n + 2, 0.5);
        const double c = std::bit_cast<double>(x ^ step);
        FillConstant(cs.data() + 1, n, c);
        REQUIRE(cs.front() == 0.5);
        REQUIRE(cs.back() == 0.5);
        for (size_t j = 0; j < n; ++j) {
          REQUIRE(std::bit_cast<uint64_t>(cs[j + 1]) == std::bit_cast<uint64_t>(c));
        }
      }
    }
  }
}

}  // namespace
}  // namespace vigil::compression::detail
