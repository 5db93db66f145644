#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "compression/detail/int_series.h"
#include "compression/detail/int_series_reader.h"

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
    r.Decode(k, TimestampSink{reinterpret_cast<int64_t*>(got.data() + base)});
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

// Values of a section from its plan, straight from the formulas of int_series.md.
std::vector<uint64_t> Reference(const IntSeriesPlan& plan, size_t n) {
  std::vector<uint64_t> xs(n);
  xs[0] = plan.first;
  uint64_t d = plan.step;
  for (size_t j = 1; j < n; ++j) {
    const uint64_t r = UnZigZag(plan.residuals[j - 1]);
    switch (plan.mode) {
      case SeriesMode::kDelta: xs[j] = xs[j - 1] + plan.step + r; break;
      case SeriesMode::kGrid: xs[j] = xs[0] + uint64_t{j} * plan.step + r; break;
      case SeriesMode::kDod: d += r; xs[j] = xs[j - 1] + d; break;
    }
  }
  return xs;
}

// A plan written by hand (not by PlanIntSeries), so that every width, mode, exception layout and
// Rice parameter is reached: n-1 residuals of `width` bits, some of them exceptions with up to
// `exc_width` more bits.
IntSeriesPlan HandPlan(std::mt19937_64& rng, size_t n, SeriesMode mode, unsigned width,
                       unsigned exc_width, unsigned rice_k, unsigned exc_every) {
  IntSeriesPlan plan;
  plan.first = rng();
  plan.mode = mode;
  plan.step = rng() >> (rng() % 64);
  plan.width = width;
  plan.exc_width = 0;
  plan.rice_k = rice_k;
  uint32_t next = 0;
  for (size_t j = 0; j + 1 < n; ++j) {
    uint64_t u = width == 0 ? 0 : rng() & LowMask(width);
    const bool exception = exc_width != 0 && exc_every != 0 && rng() % exc_every == 0 &&
                           ((j - next) >> rice_k) <= 56;
    if (exception) {
      u |= ((rng() & LowMask(exc_width)) | (uint64_t{1} << (exc_width - 1))) << width;
      plan.exc_width = exc_width;
      ++plan.exc_count;
      plan.exc_bits += ((j - next) >> rice_k) + 1 + rice_k + exc_width;
      next = static_cast<uint32_t>(j) + 1;
    }
    plan.residuals.push_back(u);
  }
  return plan;
}

TEST_CASE("Integer series decoder agrees with the format formulas for every width and layout",
          "[compression][int_series]") {
  std::mt19937_64 rng(2024);
  const SeriesMode modes[] = {SeriesMode::kDelta, SeriesMode::kGrid, SeriesMode::kDod};
  for (unsigned width = 0; width <= 64; ++width) {
    for (int round = 0; round < 12; ++round) {
      const size_t n = 1 + rng() % (round % 3 == 0 ? 20 : 600);
      const unsigned exc_width = width == 64 ? 0 : 1 + static_cast<unsigned>(rng() % (64 - width));
      const unsigned exc_every = round % 4 == 0 ? 0 : 1 + static_cast<unsigned>(rng() % 12);
      const IntSeriesPlan plan =
          HandPlan(rng, n, modes[round % 3], width, exc_width, rng() % 5, exc_every);
      const std::vector<uint64_t> want = Reference(plan, n);
      // The section at every bit offset, once followed by padding and once ending the data
      // exactly (a heap buffer of its size, so that ASan sees any overread).
      const unsigned offset = static_cast<unsigned>(rng() % 8);
      std::string bytes;
      BitWriter w(&bytes);
      w.Write(0, offset);
      WriteIntSeries(plan, w);
      w.Finish();
      if (round % 2 == 0) bytes += std::string(rng() % 9, '\x5a');
      const std::vector<char> heap(bytes.begin(), bytes.end());
      const size_t batch = 1 + rng() % 300;
      INFO("width " << width << " mode " << static_cast<int>(plan.mode) << " n " << n
                    << " exceptions " << plan.exc_count << " batch " << batch);
      IntSeriesReader r;
      uint64_t end = 0;
      REQUIRE(r.Init(heap.data(), heap.size(), offset, static_cast<uint32_t>(n), &end));
      std::vector<uint64_t> got(n);
      for (size_t done = 0; done < n;) {
        const size_t k = std::min(batch, n - done);
        r.Decode(k, TimestampSink{reinterpret_cast<int64_t*>(got.data() + done)});
        done += k;
      }
      REQUIRE(r.ok());
      REQUIRE(got == want);
    }
  }
}

}  // namespace
}  // namespace vigil::compression::detail
