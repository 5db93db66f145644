#include <catch2/catch.hpp>

#include <bit>
#include <fstream>
#include <random>
#include <sstream>

#include "compression/chunk.h"
#include "tests/compression/test_util.h"

namespace vigil::compression {
namespace {

using testing::DecodeAll;
using testing::FromHex;
using testing::ToHex;

std::string ReadGolden(const std::string& name) {
  std::ifstream in(std::string(VIGIL_GOLDEN_DIR) + "/compression/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The worked example of compression/docs/xor_chunk.md.
TEST_CASE("kXor worked example encodes to the documented bytes", "[compression][xor][golden]") {
  const int64_t ts[] = {1000, 2000, 3010};
  const double vs[] = {1.0, 1.0, 1.5};
  const std::string expected = "01000317f40ffc000000000000383e860ad80c";
  REQUIRE(ReadGolden("xor_v1.hex") == expected);

  std::string out;
  REQUIRE(EncodeChunkAs(Encoding::kXor, ts, vs, &out) == Encoding::kXor);
  REQUIRE(ToHex(out) == expected);

  std::string appended;
  XorAppender app(&appended);
  for (int i = 0; i < 3; ++i) app.Append(ts[i], vs[i]);
  app.Finish();
  REQUIRE(ToHex(appended) == expected);

  bool ok = false;
  testing::Samples s = DecodeAll(FromHex(expected), 1024, &ok);
  REQUIRE(ok);
  REQUIRE(s.ts == std::vector<int64_t>(ts, ts + 3));
  REQUIRE(s.vs == std::vector<double>(vs, vs + 3));
}

TEST_CASE("XorAppender patches the count and keeps the chunk readable", "[compression][xor]") {
  std::string out = "prefix";
  XorAppender app(&out);
  REQUIRE(app.num_samples() == 0);
  app.Finish();
  REQUIRE(out.size() == 6 + 3);
  {
    bool ok = false;
    testing::Samples s = DecodeAll(std::string_view(out).substr(6), 7, &ok);
    REQUIRE(ok);
    REQUIRE(s.ts.empty());
  }
  std::mt19937_64 rng(7);
  std::vector<int64_t> ts = testing::RandomTimestamps(rng, 300, 0);
  std::vector<double> vs = testing::RandomValues(rng, 300, 4);
  for (size_t i = 0; i < ts.size(); ++i) {
    app.Append(ts[i], vs[i]);
    if (i % 37 == 0) {
      // Finish() in the middle gives a complete chunk; appending continues afterwards.
      app.Finish();
      bool ok = false;
      testing::Samples s = DecodeAll(std::string_view(out).substr(6), 64, &ok);
      REQUIRE(ok);
      REQUIRE(s.ts.size() == i + 1);
      REQUIRE(s.ts.back() == ts[i]);
    }
  }
  app.Finish();
  REQUIRE(app.num_samples() == 300);
  REQUIRE(out.substr(0, 6) == "prefix");
  std::string direct;
  EncodeChunkAs(Encoding::kXor, ts, vs, &direct);
  REQUIRE(out.substr(6) == direct);
}

TEST_CASE("CompactXorAppender writes XorAppender's bytes, Finish() anywhere",
          "[compression][xor][property]") {
  std::mt19937_64 rng(19);
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + rng() % 300;
    std::vector<int64_t> ts = testing::RandomTimestamps(rng, n, round % 5);
    std::vector<double> vs = testing::RandomValues(rng, n, round % 7);
    std::string full, compact;
    XorAppender app(&full);
    CompactXorAppender capp;
    capp.Start(&compact);
    REQUIRE(compact == full);
    for (size_t i = 0; i < n; ++i) {
      app.Append(ts[i], vs[i]);
      capp.Append(&compact, ts[i], vs[i], i == 0 ? 0 : ts[i - 1],
                  i == 0 ? 0 : std::bit_cast<uint64_t>(vs[i - 1]));
      REQUIRE(capp.num_samples() == i + 1);
      if (rng() % 5 == 0) {
        // A reader's snapshot in the middle: complete chunks, equal; once or twice.
        app.Finish();
        capp.Finish(&compact);
        if (rng() % 2 == 0) capp.Finish(&compact);
        REQUIRE(compact == full);
      }
    }
    app.Finish();
    capp.Finish(&compact);
    REQUIRE(compact == full);
    bool ok = false;
    testing::Samples s = DecodeAll(compact, 1 + rng() % 200, &ok);
    REQUIRE(ok);
    REQUIRE(s.ts == ts);
    REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
  }
  // Start() resets a used appender for the next chunk.
  CompactXorAppender capp;
  std::string a, b;
  capp.Start(&a);
  capp.Append(&a, 5, 1.5, 0, 0);
  capp.Append(&a, 9, 2.5, 5, std::bit_cast<uint64_t>(1.5));
  capp.Finish(&a);
  capp.Start(&b);
  REQUIRE(capp.num_samples() == 0);
  capp.Append(&b, 5, 1.5, 0, 0);
  capp.Append(&b, 9, 2.5, 5, std::bit_cast<uint64_t>(1.5));
  capp.Finish(&b);
  REQUIRE(a == b);
}

TEST_CASE("kXor round-trips adversarial timestamps and float bit patterns",
          "[compression][xor][property]") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + rng() % 300;
    std::vector<int64_t> ts = testing::RandomTimestamps(rng, n, round % 5);
    std::vector<double> vs = testing::RandomValues(rng, n, round % 7);
    std::string out;
    REQUIRE(EncodeChunkAs(Encoding::kXor, ts, vs, &out) == Encoding::kXor);
    bool ok = false;
    testing::Samples s = DecodeAll(out, 1 + rng() % 200, &ok);
    REQUIRE(ok);
    REQUIRE(s.ts == ts);
    REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
  }
}

TEST_CASE("kXor delta-of-delta buckets at their edges", "[compression][xor]") {
  // Every bucket boundary, both signs, and the 64-bit escape, as deltas-of-deltas.
  const int64_t dods[] = {0,     -8,     7,      8,       -9,       -128,     127,      128,
                          -129,  -8192,  8191,   8192,    -8193,    -524288,  524287,   524288,
                          -524289, INT64_MAX, INT64_MIN, 1,      -1};
  std::vector<int64_t> ts = {0};
  uint64_t delta = 0;
  for (int64_t d : dods) {
    delta += static_cast<uint64_t>(d);
    ts.push_back(static_cast<int64_t>(static_cast<uint64_t>(ts.back()) + delta));
  }
  std::vector<double> vs(ts.size(), 2.5);
  std::string out;
  EncodeChunkAs(Encoding::kXor, ts, vs, &out);
  bool ok = false;
  REQUIRE(DecodeAll(out, 3, &ok).ts == ts);
  REQUIRE(ok);
}

TEST_CASE("kXor stores the stale marker and -0.0 bit-exactly", "[compression][xor]") {
  const int64_t ts[] = {10, 20, 30, 40, 50, 60};
  const double vs[] = {-0.0, 0.0, testing::FromBits(testing::kStaleNaN), 1.0,
                       testing::FromBits(testing::kStaleNaN), -0.0};
  std::string out;
  EncodeChunkAs(Encoding::kXor, ts, vs, &out);
  bool ok = false;
  testing::Samples s = DecodeAll(out, 1024, &ok);
  REQUIRE(ok);
  REQUIRE(testing::Bits(s.vs) == testing::Bits(vs));
}

}  // namespace
}  // namespace vigil::compression
