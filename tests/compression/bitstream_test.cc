#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "compression/detail/bit_reader.h"
#include "compression/detail/bit_writer.h"

namespace vigil::compression::detail {
namespace {

TEST_CASE("BitWriter writes most significant bit first", "[compression][bitstream]") {
  std::string out = "x";  // existing bytes are kept
  BitWriter w(&out);
  w.Write(0b101, 3);
  w.Write(0xff, 4);  // only the low 4 bits count
  w.Write(1, 1);
  w.Write(0x3, 2);
  w.Finish();
  REQUIRE(out == std::string("x\xbf\xc0", 3));
  REQUIRE(w.bits_written() == 10);
}

TEST_CASE("BitWriter Reopen continues after Finish", "[compression][bitstream]") {
  std::string a, b;
  BitWriter wa(&a), wb(&b);
  for (int i = 0; i < 40; ++i) {
    wa.Write(static_cast<uint64_t>(i) * 7919, 13);
    wa.Finish();
    wa.Reopen();
    wb.Write(static_cast<uint64_t>(i) * 7919, 13);
  }
  wa.Finish();
  wa.Finish();  // idempotent
  wb.Finish();
  REQUIRE(a == b);
  REQUIRE(a.size() == (40 * 13 + 7) / 8);
}

TEST_CASE("BitReader round-trips random widths including 0 and 64", "[compression][bitstream]") {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 50; ++round) {
    std::string out;
    BitWriter w(&out);
    std::vector<std::pair<uint64_t, unsigned>> items;
    for (int i = 0; i < 500; ++i) {
      unsigned n = static_cast<unsigned>(rng() % 65);
      uint64_t v = n == 0 ? 0 : rng() & LowMask(n);
      items.emplace_back(v, n);
      w.Write(v, n);
    }
    w.Finish();
    BitReader r(out.data(), out.size());
    for (auto [v, n] : items) REQUIRE(r.Read64(n) == v);
    REQUIRE(r.ok());
    REQUIRE(r.position() == w.bits_written());
  }
}

TEST_CASE("BitReader starts at a bit offset", "[compression][bitstream]") {
  const std::string data("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x11", 9);
  for (unsigned off = 0; off < 40; ++off) {
    BitReader r(data.data(), data.size(), off);
    BitReader ref(data.data(), data.size());
    ref.Read64(off);
    REQUIRE(r.Read(24) == ref.Read(24));
    REQUIRE(r.position() == off + 24);
  }
  BitReader past(data.data(), data.size(), 9 * 8 + 1);
  REQUIRE_FALSE(past.ok());
}

TEST_CASE("BitReader past the end is a sticky error, never an overread", "[compression][bitstream]") {
  // A heap copy of exactly the stream length lets ASan catch any read beyond it.
  for (size_t len = 0; len < 20; ++len) {
    std::vector<char> buf(len, '\xff');
    BitReader r(buf.data(), buf.size());
    for (size_t i = 0; i < len; ++i) REQUIRE(r.Read(8) == 0xff);
    REQUIRE(r.ok());
    REQUIRE(r.Peek(5) == 0);  // peeking past the end reads zeros without failing
    REQUIRE(r.ok());
    REQUIRE(r.Read(1) == 0);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.Read(8) == 0);
    REQUIRE_FALSE(r.ok());
  }
}

TEST_CASE("BitReader Peek at the tail sees the remaining bits", "[compression][bitstream]") {
  const std::string data("\xa5", 1);
  BitReader r(data.data(), data.size());
  REQUIRE(r.Read(5) == 0b10100);
  REQUIRE(r.Peek(5) == 0b10100);  // '101' then zero padding
  REQUIRE(r.Read(3) == 0b101);
  REQUIRE(r.ok());
}

TEST_CASE("BitReader Fail is sticky", "[compression][bitstream]") {
  const std::string data(16, '\x0f');
  BitReader r(data.data(), data.size());
  r.Fail();
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.Read(8) == 0);
}

}  // namespace
}  // namespace vigil::compression::detail
