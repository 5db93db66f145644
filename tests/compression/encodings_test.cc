#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "compression/chunk.h"
#include "tests/compression/test_util.h"

namespace vigil::compression {
namespace {

using testing::DecodeAll;
using testing::ToHex;

std::string ReadGolden(const std::string& name) {
  std::ifstream in(std::string(VIGIL_GOLDEN_DIR) + "/compression/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void CheckGolden(Encoding enc, const std::string& file, std::span<const double> vs,
                 bool adaptive_agrees) {
  const int64_t ts[] = {1000, 2000, 3000};
  const std::string expected = ReadGolden(file);
  REQUIRE(!expected.empty());
  std::string out;
  REQUIRE(EncodeChunkAs(enc, ts, vs, &out) == enc);
  REQUIRE(ToHex(out) == expected);
  // The adaptive choice picks the same encoding for these samples (kConstant loses to kXor on
  // three samples: 17 bytes against 16).
  std::string adaptive;
  const Encoding chosen = EncodeChunk(ts, vs, &adaptive);
  if (adaptive_agrees) {
    REQUIRE(chosen == enc);
    REQUIRE(adaptive == out);
  } else {
    REQUIRE(adaptive.size() < out.size());
  }
  bool ok = false;
  testing::Samples s = DecodeAll(out, 2, &ok);
  REQUIRE(ok);
  REQUIRE(s.ts == std::vector<int64_t>(ts, ts + 3));
  REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
}

// The worked examples of compression/docs/*_chunk.md.
TEST_CASE("kConstant worked example", "[compression][constant][golden]") {
  const double vs[] = {1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0};
  CheckGolden(Encoding::kConstant, "constant_v1.hex", vs, false);
}

TEST_CASE("kIntDoubleDelta worked example", "[compression][int][golden]") {
  const double vs[] = {10, 11, 13};
  CheckGolden(Encoding::kIntDoubleDelta, "int_v1.hex", vs, true);
}

TEST_CASE("kDecimal worked example", "[compression][decimal][golden]") {
  const double vs[] = {0.5, 0.75, 1.25};
  CheckGolden(Encoding::kDecimal, "decimal_v1.hex", vs, true);
}

TEST_CASE("kXorColumnar worked example", "[compression][xor_columnar][golden]") {
  const double vs[] = {1.0, 1.0, 1.5};
  CheckGolden(Encoding::kXorColumnar, "xor_columnar_v1.hex", vs, false);
}

TEST_CASE("EncodeChunkAs falls back to kXor when the encoding cannot hold the values",
          "[compression][adaptive]") {
  const int64_t ts[] = {1, 2, 3};
  struct Case {
    Encoding enc;
    std::vector<double> vs;
  };
  const Case cases[] = {
      {Encoding::kConstant, {1.0, 2.0, 1.0}},
      {Encoding::kConstant, {0.0, -0.0, 0.0}},  // equal by ==, different bits
      {Encoding::kIntDoubleDelta, {1.0, 2.5, 3.0}},
      {Encoding::kIntDoubleDelta, {1.0, -0.0, 3.0}},
      {Encoding::kIntDoubleDelta, {1.0, 18014398509481984.0, 3.0}},  // 2^54
      {Encoding::kDecimal, {0.1, 0.123456789012345678, 3.0}},
      {Encoding::kDecimal, {0.1, testing::FromBits(testing::kStaleNaN), 3.0}},
      {Encoding::kDecimal, {0.1, std::numeric_limits<double>::infinity(), 3.0}},
  };
  for (const Case& c : cases) {
    std::string out;
    REQUIRE(EncodeChunkAs(c.enc, ts, c.vs, &out) == Encoding::kXor);
    bool ok = false;
    REQUIRE(testing::Bits(DecodeAll(out, 1024, &ok).vs) == testing::Bits(c.vs));
    REQUIRE(ok);
  }
}

TEST_CASE("Adaptive choice recognises typical series", "[compression][adaptive]") {
  std::vector<int64_t> ts;
  for (int i = 0; i < 120; ++i) ts.push_back(1700000000000 + i * 15000);
  std::vector<double> constant(120, 1.0 / 3.0), counter, gauge;
  for (int i = 0; i < 120; ++i) {
    counter.push_back(1000.0 + i * i);
    gauge.push_back(static_cast<double>((i * 37) % 1000) / 100.0);
  }
  std::string out;
  REQUIRE(EncodeChunk(ts, constant, &out) == Encoding::kConstant);
  out.clear();
  REQUIRE(EncodeChunk(ts, counter, &out) == Encoding::kIntDoubleDelta);
  out.clear();
  REQUIRE(EncodeChunk(ts, gauge, &out) == Encoding::kDecimal);
}

const Encoding kAll[] = {Encoding::kXor, Encoding::kConstant, Encoding::kIntDoubleDelta,
                         Encoding::kDecimal, Encoding::kXorColumnar};

TEST_CASE("Every encoding and the adaptive choice round-trip random samples bit-exactly",
          "[compression][adaptive][property]") {
  std::mt19937_64 rng(2024);
  for (int round = 0; round < 700; ++round) {
    const size_t n = round % 50 == 0 ? 1 : 1 + rng() % 400;
    std::vector<int64_t> ts = testing::RandomTimestamps(rng, n, round % 5);
    std::vector<double> vs = testing::RandomValues(rng, n, (round / 5) % 7);
    std::string adaptive;
    const Encoding chosen = EncodeChunk(ts, vs, &adaptive);
    size_t smallest = SIZE_MAX;
    for (Encoding enc : kAll) {
      std::string out;
      const Encoding used = EncodeChunkAs(enc, ts, vs, &out);
      if (used != enc) continue;
      smallest = std::min(smallest, out.size());
      bool ok = false;
      testing::Samples s = DecodeAll(out, 1 + rng() % 1024, &ok);
      INFO("encoding " << static_cast<int>(enc) << " n " << n << " round " << round);
      REQUIRE(ok);
      REQUIRE(s.ts == ts);
      REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
      if (enc == chosen) REQUIRE(out == adaptive);
    }
    // The adaptive chunk is the smallest of the candidates, never bigger than kXor.
    REQUIRE(adaptive.size() == smallest);
    bool ok = false;
    testing::Samples s = DecodeAll(adaptive, 1024, &ok);
    REQUIRE(ok);
    REQUIRE(s.ts == ts);
    REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
  }
}

TEST_CASE("Quick adaptive chunks round-trip and stay close to the smallest",
          "[compression][adaptive][property]") {
  std::mt19937_64 rng(77);
  size_t quick_total = 0, smallest_total = 0;
  for (int round = 0; round < 700; ++round) {
    const size_t n = round % 50 == 0 ? 1 : 1 + rng() % 400;
    std::vector<int64_t> ts = testing::RandomTimestamps(rng, n, round % 5);
    std::vector<double> vs = testing::RandomValues(rng, n, (round / 5) % 7);
    std::string quick, smallest, adaptive;
    EncodeChunkWith(ChunkEffort::kQuick, ts, vs, &quick);
    EncodeChunkWith(ChunkEffort::kSmallest, ts, vs, &smallest);
    EncodeChunk(ts, vs, &adaptive);
    CHECK(smallest == adaptive);  // EncodeChunk is the full search
    INFO("n " << n << " round " << round);
    bool ok = false;
    testing::Samples s = DecodeAll(quick, 1 + rng() % 1024, &ok);
    REQUIRE(ok);
    REQUIRE(s.ts == ts);
    REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
    // Never smaller than the full search, never bigger than kXor.
    std::string xor_chunk;
    EncodeChunkAs(Encoding::kXor, ts, vs, &xor_chunk);
    CHECK(quick.size() >= smallest.size());
    CHECK(quick.size() <= xor_chunk.size());
    quick_total += quick.size();
    smallest_total += smallest.size();
  }
  // Over these shapes the quick search gives up little.
  CHECK(quick_total <= smallest_total * 105 / 100);
}

TEST_CASE("Decimal scales up to the maximum round-trip", "[compression][decimal]") {
  std::mt19937_64 rng(5);
  for (int scale = 0; scale <= 15; ++scale) {
    double p = 1;
    for (int i = 0; i < scale; ++i) p *= 10;
    std::vector<int64_t> ts;
    std::vector<double> vs;
    for (int i = 0; i < 100; ++i) {
      ts.push_back(i * 1000);
      vs.push_back(static_cast<double>(static_cast<int64_t>(rng() % 1000000) - 500000) / p);
    }
    std::string out;
    const Encoding used = EncodeChunkAs(Encoding::kDecimal, ts, vs, &out);
    REQUIRE(used == Encoding::kDecimal);
    bool ok = false;
    REQUIRE(testing::Bits(DecodeAll(out, 10, &ok).vs) == testing::Bits(vs));
    REQUIRE(ok);
  }
}

TEST_CASE("Integer series at the 2^53 limits round-trip", "[compression][int]") {
  const double lim = 9007199254740992.0;
  const int64_t ts[] = {0, 0, 0, 0, 0};
  const double vs[] = {lim, -lim, lim, 0.0, -lim};
  std::string out;
  REQUIRE(EncodeChunkAs(Encoding::kIntDoubleDelta, ts, vs, &out) == Encoding::kIntDoubleDelta);
  bool ok = false;
  REQUIRE(testing::Bits(DecodeAll(out, 1, &ok).vs) == testing::Bits(vs));
  REQUIRE(ok);
}

}  // namespace
}  // namespace vigil::compression
