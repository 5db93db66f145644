#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "compression/detail/int_series.h"

namespace vigil::compression::detail {
namespace {

std::vector<uint64_t> RoundTrip(const std::vector<uint64_t>& xs, size_t batch, IntSeriesPlan* plan,
                                bool* ok) {
  *plan = PlanIntSeries(xs);
  std::string out = "ab";  // sections start at arbitrary bit offsets inside a chunk
  BitWriter w(&out);
  w.Write(5, 3);
  WriteIntSeries(*plan, w);
  const uint64_t written_end = w.bits_written() + 16;
  w.Finish();
  REQUIRE(w.bits_written() == 3 + plan->bits);
  IntSeriesReader r;
  uint64_t end = 0;
  REQUIRE(r.Init(out.data(), out.size(), 16 + 3, static_cast<uint32_t>(xs.size()), &end));
  REQUIRE(end == written_end);
  std::vector<uint64_t> got;
  while (got.size() < xs.size()) {
    size_t k = std::min(batch, xs.size() - got.size());
    size_t base = got.size();
    got.resize(base + k);
    r.Decode(k, [&](size_t i, uint64_t x) { got[base + i] = x; });
  }
  *ok = r.ok();
  return got;
}

TEST_CASE("Integer series picks the mode that fits", "[compression][int_series]") {
  IntSeriesPlan plan;
  bool ok = false;
  std::vector<uint64_t> regular;
  for (uint64_t i = 0; i < 120; ++i) regular.push_back(1700000000000 + i * 15000);
  REQUIRE(RoundTrip(regular, 1024, &plan, &ok) == regular);
  REQUIRE(ok);
  REQUIRE(plan.width == 0);
  REQUIRE(plan.exc_count == 0);

  // One late scrape: one exception in grid mode, two in delta mode.
  std::vector<uint64_t> blip = regular;
  blip[60] += 7;
  REQUIRE(RoundTrip(blip, 1024, &plan, &ok) == blip);
  REQUIRE(ok);
  REQUIRE(plan.mode == SeriesMode::kGrid);
  REQUIRE(plan.width == 0);
  REQUIRE(plan.exc_count == 1);

  // A shift that persists: delta mode with one exception.
  std::vector<uint64_t> shift = regular;
  for (size_t i = 60; i < shift.size(); ++i) shift[i] += 7;
  REQUIRE(RoundTrip(shift, 1024, &plan, &ok) == shift);
  REQUIRE(ok);
  REQUIRE(plan.mode == SeriesMode::kDelta);
  REQUIRE(plan.exc_count == 1);
}

TEST_CASE("Integer series round-trips random and adversarial sequences in any batch size",
          "[compression][int_series][property]") {
  std::mt19937_64 rng(8);
  for (int round = 0; round < 400; ++round) {
    const size_t n = 1 + rng() % 700;
    std::vector<uint64_t> xs(n);
    uint64_t x = rng();
    for (size_t i = 0; i < n; ++i) {
      switch (round % 5) {
        case 0: x += 1000 + (rng() % 50 == 0 ? rng() % 100000 : 0); break;  // sparse outliers
        case 1: x = rng(); break;
        case 2: x -= rng() % 16; break;
        case 3: x = (rng() % 2) ? UINT64_MAX : 0x8000000000000000; break;
        default: x += rng() >> (rng() % 64); break;
      }
      xs[i] = x;
    }
    IntSeriesPlan plan;
    bool ok = false;
    REQUIRE(RoundTrip(xs, 1 + rng() % 300, &plan, &ok) == xs);
    REQUIRE(ok);
  }
}

}  // namespace
}  // namespace vigil::compression::detail
