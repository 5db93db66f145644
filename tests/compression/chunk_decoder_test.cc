#include <catch2/catch.hpp>

#include <random>

#include "compression/chunk.h"
#include "tests/compression/test_util.h"

namespace vigil::compression {
namespace {

using testing::DecodeAll;

const Encoding kAll[] = {Encoding::kXor, Encoding::kConstant, Encoding::kIntDoubleDelta,
                         Encoding::kDecimal, Encoding::kXorColumnar};

// Values every encoding accepts (constant integers), so each encoding gets exercised.
std::string Encode(Encoding enc, std::mt19937_64& rng, size_t n, int flavour,
                   testing::Samples* s) {
  s->ts = testing::RandomTimestamps(rng, n, flavour % 5);
  s->vs = testing::RandomValues(rng, n, enc == Encoding::kConstant ? 5 : (flavour % 2 ? 2 : 3));
  std::string out;
  EncodeChunkAs(enc, s->ts, s->vs, &out);
  return out;
}

TEST_CASE("ChunkDecoder yields identical samples for every batch size 1..1024",
          "[compression][decoder]") {
  std::mt19937_64 rng(99);
  for (Encoding enc : kAll) {
    testing::Samples in;
    const std::string chunk = Encode(enc, rng, 1500, 0, &in);
    for (size_t batch : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{100}, size_t{255},
                         size_t{256}, size_t{257}, size_t{1023}, size_t{1024}}) {
      bool ok = false;
      testing::Samples out = DecodeAll(chunk, batch, &ok);
      INFO("encoding " << static_cast<int>(enc) << " batch " << batch);
      REQUIRE(ok);
      REQUIRE(out.ts == in.ts);
      REQUIRE(testing::Bits(out.vs) == testing::Bits(in.vs));
    }
  }
}

// Scrape-like shapes for the whole-chunk decoding paths: timestamps on a grid with sparse jitter
// (width-0 columns with exceptions in grid or delta mode), values that repeat in runs (kXorColumnar
// '0' runs longer than one load) or step by a constant with rare jumps (width-0 runs with
// exceptions).
std::vector<int64_t> ShapedTimestamps(std::mt19937_64& rng, size_t n, int shape) {
  if (shape >= 2) return testing::RandomTimestamps(rng, n, shape - 2);
  std::vector<int64_t> ts(n);
  int64_t t = 1700000000000 + static_cast<int64_t>(rng() % 100000);
  for (size_t i = 0; i < n; ++i) {
    t += 5000;
    const int64_t jitter = rng() % 12 == 0 ? static_cast<int64_t>(rng() % 15) - 7 : 0;
    // shape 0: jitter on one sample (grid); shape 1: the jitter stays (delta runs).
    if (shape == 1) t += jitter;
    ts[i] = shape == 0 ? t + jitter : t;
  }
  return ts;
}

std::vector<double> ShapedValues(std::mt19937_64& rng, size_t n, int shape) {
  if (shape >= 2) return testing::RandomValues(rng, n, shape - 2);
  std::vector<double> vs(n);
  double x = 0.1 * static_cast<double>(rng() % 1000);
  int64_t c = static_cast<int64_t>(rng() % 100000);
  for (size_t i = 0; i < n; ++i) {
    if (shape == 0) {
      // Runs of 1..150 repeats of a float.
      if (rng() % (1 + rng() % 150) == 0) x += std::normal_distribution<double>(0, 1)(rng);
      vs[i] = x;
    } else {
      c += rng() % 25 == 0 ? static_cast<int64_t>(rng() % 100000) : 3;
      vs[i] = static_cast<double>(c);
    }
  }
  return vs;
}

TEST_CASE("ChunkDecoder decodes whole chunks and batches alike, every encoding and shape",
          "[compression][decoder]") {
  std::mt19937_64 rng(2027);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{120}, size_t{300}, size_t{1000}}) {
    for (int ts_shape = 0; ts_shape < 7; ++ts_shape) {
      for (int v_shape = 0; v_shape < 9; ++v_shape) {
        testing::Samples in;
        in.ts = ShapedTimestamps(rng, n, ts_shape);
        in.vs = ShapedValues(rng, n, v_shape);
        for (int e = 0; e <= 5; ++e) {
          std::string chunk;
          if (e == 5) {
            EncodeChunk(in.ts, in.vs, &chunk);
          } else {
            EncodeChunkAs(kAll[e], in.ts, in.vs, &chunk);
          }
          for (size_t batch : {n, n + 5, size_t{7}}) {
            bool ok = false;
            const testing::Samples out = DecodeAll(chunk, batch, &ok);
            INFO("n " << n << " timestamps " << ts_shape << " values " << v_shape
                      << " encoding byte " << int{static_cast<uint8_t>(chunk[0])} << " batch "
                      << batch);
            REQUIRE(ok);
            REQUIRE(out.ts == in.ts);
            REQUIRE(testing::Bits(out.vs) == testing::Bits(in.vs));
          }
        }
      }
    }
  }
}

TEST_CASE("ChunkDecoder reports encoding and count, honours the shorter span",
          "[compression][decoder]") {
  const int64_t ts[] = {5, 6, 7, 8};
  const double vs[] = {1, 2, 3, 4};
  std::string chunk;
  REQUIRE(EncodeChunk(ts, vs, &chunk) == Encoding::kIntDoubleDelta);
  ChunkDecoder d(chunk);
  REQUIRE(d.ok());
  REQUIRE(d.encoding() == Encoding::kIntDoubleDelta);
  REQUIRE(d.num_samples() == 4);
  int64_t t[8];
  double v[3];
  REQUIRE(d.Next(std::span<int64_t>(t, 8), std::span<double>(v, 3)) == 3);
  REQUIRE(t[2] == 7);
  REQUIRE(d.Next(std::span<int64_t>(t, 8), std::span<double>(v, 3)) == 1);
  REQUIRE(t[0] == 8);
  REQUIRE(v[0] == 4);
  REQUIRE(d.Next(std::span<int64_t>(t, 8), std::span<double>(v, 3)) == 0);
  REQUIRE(d.ok());
}

TEST_CASE("ChunkDecoder rejects short headers and unknown encodings", "[compression][decoder]") {
  for (std::string bad : {std::string(), std::string("\x01", 1), std::string("\x01\x00", 2),
                          std::string("\x00\x00\x01", 3), std::string("\x09\x00\x01\x00", 4),
                          std::string("\xff\xff\xff\xff", 4),
                          std::string("\x02\x00\x00", 3)}) {
    ChunkDecoder d(bad);
    int64_t t[4];
    double v[4];
    REQUIRE(d.Next(t, v) == 0);
    REQUIRE_FALSE(d.ok());
  }
}

// Feeds `bytes` (a heap buffer of exactly its size, so ASan sees any overread) to the decoder.
void DecodeGarbage(const std::string& bytes, size_t batch) {
  std::vector<char> heap(bytes.begin(), bytes.end());
  ChunkDecoder d(std::string_view(heap.data(), heap.size()));
  std::vector<int64_t> t(batch);
  std::vector<double> v(batch);
  size_t total = 0;
  for (size_t got; (got = d.Next(t, v)) != 0;) total += got;
  REQUIRE(total <= d.num_samples());
}

TEST_CASE("ChunkDecoder survives truncated and corrupted chunks", "[compression][decoder][fuzz]") {
  std::mt19937_64 rng(31337);
  for (Encoding enc : kAll) {
    for (int round = 0; round < 40; ++round) {
      testing::Samples in;
      const std::string chunk = Encode(enc, rng, 1 + rng() % 200, round, &in);
      // Every truncation must fail cleanly (a shorter chunk cannot hold the promised samples).
      for (size_t len = 0; len < chunk.size(); ++len) {
        std::vector<char> heap(chunk.begin(), chunk.begin() + static_cast<ptrdiff_t>(len));
        ChunkDecoder d(std::string_view(heap.data(), heap.size()));
        int64_t t[1024];
        double v[1024];
        size_t total = 0;
        for (size_t got; (got = d.Next(t, v)) != 0;) total += got;
        if (len < 3) REQUIRE_FALSE(d.ok());
        if (d.ok()) REQUIRE(total == d.num_samples());
      }
      // Bit flips and random byte overwrites.
      for (int k = 0; k < 30; ++k) {
        std::string bad = chunk;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
          size_t pos = rng() % bad.size();
          if (rng() % 2) {
            bad[pos] = static_cast<char>(bad[pos] ^ (1 << (rng() % 8)));
          } else {
            bad[pos] = static_cast<char>(rng());
          }
        }
        DecodeGarbage(bad, 1 + rng() % 300);
      }
    }
  }
}

TEST_CASE("ChunkDecoder survives random bytes", "[compression][decoder][fuzz]") {
  std::mt19937_64 rng(4242);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty()) bytes[0] = static_cast<char>(1 + rng() % 5);  // valid encoding byte
    DecodeGarbage(bytes, 1 + rng() % 1024);
  }
}

TEST_CASE("ChunkDecoder fuzz, long run", "[.][slow][compression][decoder][fuzz]") {
  std::mt19937_64 rng(777);
  for (int round = 0; round < 200000; ++round) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    if (!bytes.empty()) bytes[0] = static_cast<char>(1 + rng() % 5);
    DecodeGarbage(bytes, 1 + rng() % 1024);
  }
}

}  // namespace
}  // namespace vigil::compression
