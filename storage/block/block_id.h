#pragma once

// Block ids: 26 characters of Crockford base32 (0-9 A-Z without I L O U) encoding 128 bits, the
// first 48 the creation time in Unix milliseconds (big-endian), the other 80 random. Ids sort by
// creation time as strings, so a directory listing lists blocks in age order
// (storage/docs/format/block.md).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage {

inline constexpr size_t kBlockIdLength = 26;

// REQUIRES: 0 <= millis < 2^48.
std::string MakeBlockId(int64_t millis, const std::array<uint8_t, 10>& random);
// An id for `millis` with random bits from std::random_device.
std::string NewBlockId(int64_t millis);
// True for 26 upper-case Crockford base32 characters whose first is at most '7' (128 bits).
bool IsValidBlockId(std::string_view id);
// The creation time of a valid id.
int64_t BlockIdMillis(std::string_view id);

}  // namespace vigil::storage
