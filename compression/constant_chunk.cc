// kConstant: one value repeated (compression/docs/constant_chunk.md).

#include <bit>

#include "compression/detail/chunk_format.h"

namespace vigil::compression::detail {

bool IsConstant(std::span<const double> vs) {
  const uint64_t first = std::bit_cast<uint64_t>(vs[0]);
  for (double v : vs) {
    if (std::bit_cast<uint64_t>(v) != first) return false;
  }
  return true;
}

}  // namespace vigil::compression::detail
