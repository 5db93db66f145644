#include "compression/block_codec.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::compression {
namespace {

constexpr BlockCodec kAllCodecs[] = {BlockCodec::kNone, BlockCodec::kLz4, BlockCodec::kZstd};

std::string Compress(BlockCodec codec, std::string_view input, int level = 0) {
  std::string out;
  BlockStatus s = CompressBlock(codec, input, level, &out);
  REQUIRE(s.ok());
  return out;
}

// 280 bytes of text with repeats, so LZ4 and zstd both shrink it and the length needs two uvarint
// bytes (280 = 0x98 0x02).
std::string GoldenInput() {
  std::string s;
  for (int i = 0; i < 20; ++i) s += "vigil block " + std::to_string(i % 4) + "\n";
  return s;
}

std::string GoldenPath(const char* name) {
  return std::string(VIGIL_GOLDEN_DIR) + "/block_codec/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A text/corpus mix: compressible but not trivially so.
std::string MixedInput(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  while (s.size() < n) {
    if (rng() % 4 == 0) {
      s.push_back(static_cast<char>(rng()));
    } else {
      s += "ts=" + std::to_string(1700000000000 + rng() % 1000) + " ";
    }
  }
  s.resize(n);
  return s;
}

TEST_CASE("block codec names and on-disk tag values", "[compression][block_codec]") {
  CHECK(static_cast<int>(BlockCodec::kNone) == 0);
  CHECK(static_cast<int>(BlockCodec::kLz4) == 1);
  CHECK(static_cast<int>(BlockCodec::kZstd) == 2);
  CHECK(BlockCodecName(BlockCodec::kNone) == "none");
  CHECK(BlockCodecName(BlockCodec::kLz4) == "lz4");
  CHECK(BlockCodecName(BlockCodec::kZstd) == "zstd");
  CHECK(BlockCodecName(static_cast<BlockCodec>(9)) == "unknown");
}

TEST_CASE("block codec kNone frame bytes are exact", "[compression][block_codec][golden]") {
  const std::string frame = Compress(BlockCodec::kNone, "vigil");
  CHECK(frame == std::string("\x00\x05vigil", 7));

  const std::string input = GoldenInput();
  REQUIRE(input.size() == 280);
  const std::string golden = Compress(BlockCodec::kNone, input);
  CHECK(golden.substr(0, 3) == std::string("\x00\x98\x02", 3));
  CHECK(golden.substr(3) == input);
  // The stored v1 golden file matches byte for byte.
  CHECK(golden == ReadFile(GoldenPath("none_v1.bin")));
}

TEST_CASE("block codec lz4 and zstd golden files decode; headers are stable",
          "[compression][block_codec][golden]") {
  const std::string input = GoldenInput();
  for (auto [codec, file, tag] : {std::tuple{BlockCodec::kLz4, "lz4_v1.bin", '\x01'},
                                  std::tuple{BlockCodec::kZstd, "zstd_v1.bin", '\x02'}}) {
    INFO(BlockCodecName(codec));
    // Frames written by an earlier build (possibly another library version) must still decode.
    const std::string stored = ReadFile(GoldenPath(file));
    CHECK(stored.substr(0, 3) == std::string({tag, '\x98', '\x02'}));
    std::string decoded;
    REQUIRE(DecompressBlock(stored, &decoded).ok());
    CHECK(decoded == input);

    // A fresh frame has the same header and round-trips; payload bytes may differ across
    // library versions, so they are not compared.
    const std::string fresh = Compress(codec, input);
    CHECK(fresh.substr(0, 3) == stored.substr(0, 3));
    CHECK(fresh.size() < input.size());
    decoded.clear();
    REQUIRE(DecompressBlock(fresh, &decoded).ok());
    CHECK(decoded == input);
  }
}

TEST_CASE("block codec corrupted golden copies are rejected", "[compression][block_codec][golden]") {
  for (const char* file : {"none_v1.bin", "lz4_v1.bin", "zstd_v1.bin"}) {
    INFO(file);
    const std::string stored = ReadFile(GoldenPath(file));
    std::string out = "keep";
    // Every truncation fails and leaves *out untouched.
    for (size_t n = 0; n < stored.size(); ++n) {
      INFO("prefix " << n);
      CHECK_FALSE(DecompressBlock(std::string_view(stored).substr(0, n), &out).ok());
      CHECK(out == "keep");
    }
    // A trailing byte fails.
    CHECK_FALSE(DecompressBlock(stored + '\0', &out).ok());
    // A wrong claimed length fails (279 = 0x97 0x02).
    std::string shorter = stored;
    shorter[1] = '\x97';
    CHECK_FALSE(DecompressBlock(shorter, &out).ok());
    // An unknown codec tag fails.
    std::string bad_tag = stored;
    bad_tag[0] = '\x03';
    BlockStatus s = DecompressBlock(bad_tag, &out);
    CHECK_FALSE(s.ok());
    CHECK(s.message() == "unknown block codec tag 3");
    CHECK(out == "keep");
  }
}

TEST_CASE("block codec round trips", "[compression][block_codec]") {
  const std::vector<std::string> inputs = {
      "", "x", std::string(1000, '\0'), MixedInput(100, 1), MixedInput(70000, 2),
      MixedInput(1 << 20, 3)};
  for (BlockCodec codec : kAllCodecs) {
    for (int level : {0, 1, 3, 9, 19}) {
      for (const std::string& input : inputs) {
        INFO(BlockCodecName(codec) << " level " << level << " size " << input.size());
        std::string frame = "prefix";  // CompressBlock appends
        REQUIRE(CompressBlock(codec, input, level, &frame).ok());
        REQUIRE(frame.substr(0, 6) == "prefix");
        std::string out = "abc";  // DecompressBlock appends
        BlockStatus s = DecompressBlock(std::string_view(frame).substr(6), &out);
        REQUIRE(s.ok());
        CHECK(s.message().empty());
        CHECK(out == "abc" + input);
      }
    }
  }
}

TEST_CASE("block codec header parse", "[compression][block_codec]") {
  BlockHeader h;
  REQUIRE(ReadBlockHeader(Compress(BlockCodec::kZstd, GoldenInput()), &h).ok());
  CHECK(h.codec == BlockCodec::kZstd);
  CHECK(h.uncompressed_size == 280);
  CHECK(h.header_size == 3);

  CHECK_FALSE(ReadBlockHeader("", &h).ok());
  CHECK_FALSE(ReadBlockHeader(std::string("\x00", 1), &h).ok());         // no length
  CHECK_FALSE(ReadBlockHeader(std::string("\x00\x80", 2), &h).ok());     // unterminated
  CHECK_FALSE(ReadBlockHeader(std::string("\x00\xff\xff\xff\xff\xff\x01", 7), &h).ok());  // > 5 B
  // 2^30 exactly is allowed by the header (5 bytes); 2^30 + 1 is not.
  REQUIRE(ReadBlockHeader(std::string("\x00\x80\x80\x80\x80\x04", 6), &h).ok());
  CHECK(h.uncompressed_size == kMaxBlockSize);
  CHECK(h.header_size == 6);
  CHECK_FALSE(ReadBlockHeader(std::string("\x00\x81\x80\x80\x80\x04", 6), &h).ok());
  // A caller limit below the global one.
  CHECK(ReadBlockHeader(std::string("\x00\x0a", 2), &h, 10).ok());
  CHECK_FALSE(ReadBlockHeader(std::string("\x00\x0b", 2), &h, 10).ok());
}

TEST_CASE("block codec rejects huge claims without allocating them", "[compression][block_codec]") {
  std::string out;
  // 1 GiB claimed from a few payload bytes: rejected by the ratio bound before any resize.
  for (char tag : {'\x01', '\x02'}) {
    std::string frame = {tag, '\x80', '\x80', '\x80', '\x80', '\x04'};
    frame += std::string(8, '\x11');
    BlockStatus s = DecompressBlock(frame, &out);
    CHECK_FALSE(s.ok());
    CHECK_FALSE(s.message().empty());
    CHECK(out.capacity() < 1024);
  }
  // A caller limit applies to valid frames too.
  const std::string frame = Compress(BlockCodec::kLz4, std::string(5000, 'a'));
  CHECK_FALSE(DecompressBlock(frame, &out, 4999).ok());
  CHECK(DecompressBlock(frame, &out, 5000).ok());
}

TEST_CASE("block codec highly compressible input stays within the ratio bounds",
          "[compression][block_codec]") {
  const std::string zeros(16 << 20, '\0');
  for (BlockCodec codec : {BlockCodec::kLz4, BlockCodec::kZstd}) {
    for (int level : {0, 12, 19}) {
      INFO(BlockCodecName(codec) << " level " << level);
      const std::string frame = Compress(codec, zeros, level);
      std::string out;
      REQUIRE(DecompressBlock(frame, &out).ok());
      CHECK(out == zeros);
    }
  }
}

TEST_CASE("block codec never crashes on garbage", "[compression][block_codec]") {
  std::mt19937_64 rng(42);
  std::string out;
  for (int i = 0; i < 20000; ++i) {
    std::string g(rng() % 80, '\0');
    for (char& c : g) c = static_cast<char>(rng());
    if (!g.empty()) g[0] = static_cast<char>(rng() % 4);  // mostly known tags
    out.clear();
    BlockStatus s = DecompressBlock(g, &out);
    if (s.ok()) {
      BlockHeader h;
      REQUIRE(ReadBlockHeader(g, &h).ok());
      CHECK(out.size() == h.uncompressed_size);
    } else {
      CHECK(out.empty());
      CHECK_FALSE(s.message().empty());
    }
  }
  // Bit flips in valid frames: either an error or output of the claimed size, never a crash.
  for (BlockCodec codec : kAllCodecs) {
    const std::string frame = Compress(codec, MixedInput(3000, 7));
    for (size_t i = 0; i < frame.size(); ++i) {
      std::string bad = frame;
      bad[i] = static_cast<char>(bad[i] ^ (1 << (rng() % 8)));
      out.clear();
      BlockStatus s = DecompressBlock(bad, &out);
      if (s.ok()) {
        BlockHeader h;
        REQUIRE(ReadBlockHeader(bad, &h).ok());
        CHECK(out.size() == h.uncompressed_size);
      } else {
        CHECK(out.empty());
      }
    }
  }
}

// Rewrites tests/golden/block_codec/*.bin. Run by hand only when the format version changes:
//   compression_test "[regen-block-codec]"
TEST_CASE("block codec regenerate golden files", "[.][regen-block-codec]") {
  const std::string input = GoldenInput();
  for (auto [codec, file] : {std::pair{BlockCodec::kNone, "none_v1.bin"},
                             std::pair{BlockCodec::kLz4, "lz4_v1.bin"},
                             std::pair{BlockCodec::kZstd, "zstd_v1.bin"}}) {
    std::ofstream f(GoldenPath(file), std::ios::binary | std::ios::trunc);
    const std::string frame = Compress(codec, input);
    f.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    REQUIRE(f.good());
  }
}

}  // namespace
}  // namespace vigil::compression
