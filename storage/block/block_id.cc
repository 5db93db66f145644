#include "storage/block/block_id.h"

#include <cassert>
#include <random>

namespace vigil::storage {

namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  const size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

std::string MakeBlockId(int64_t millis, const std::array<uint8_t, 10>& random) {
  assert(millis >= 0 && millis < (int64_t{1} << 48));
  // 128 bits as two halves: hi = time(48) | random[0..1](16), lo = random[2..9](64).
  uint64_t hi = static_cast<uint64_t>(millis) << 16 | uint64_t{random[0]} << 8 | random[1];
  uint64_t lo = 0;
  for (int i = 2; i < 10; ++i) lo = lo << 8 | random[i];
  std::string out(kBlockIdLength, '0');
  // 26 groups of 5 bits from the least significant end; the first character carries 3 bits.
  for (int i = static_cast<int>(kBlockIdLength) - 1; i >= 0; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = lo >> 5 | (hi & 31) << 59;
    hi >>= 5;
  }
  return out;
}

std::string NewBlockId(int64_t millis) {
  std::random_device rd;
  std::array<uint8_t, 10> random{};
  for (auto& b : random) b = static_cast<uint8_t>(rd());
  return MakeBlockId(millis, random);
}

bool IsValidBlockId(std::string_view id) {
  if (id.size() != kBlockIdLength || id[0] > '7') return false;
  for (char c : id) {
    if (DecodeChar(c) < 0) return false;
  }
  return true;
}

int64_t BlockIdMillis(std::string_view id) {
  // The first character carries 3 bits and the next nine 5 each: exactly the 48 time bits.
  uint64_t v = 0;
  for (size_t i = 0; i < 10 && i < id.size(); ++i) {
    v = v << 5 | static_cast<uint64_t>(DecodeChar(id[i]) & 31);
  }
  return static_cast<int64_t>(v);
}

}  // namespace vigil::storage
