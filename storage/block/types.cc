#include "storage/block/types.h"

#include <algorithm>
#include <cassert>

namespace vigil::storage {

void AddInterval(Intervals* ivs, Interval iv) {
  assert(iv.min_t <= iv.max_t);
  // First interval that could touch iv: its max_t + 1 >= iv.min_t (computed without overflow).
  auto first = std::lower_bound(ivs->begin(), ivs->end(), iv, [](const Interval& a, const Interval& b) {
    return a.max_t < b.min_t && a.max_t + 1 < b.min_t;
  });
  auto last = first;
  while (last != ivs->end() && (last->min_t <= iv.max_t || last->min_t - 1 <= iv.max_t)) {
    iv.min_t = std::min(iv.min_t, last->min_t);
    iv.max_t = std::max(iv.max_t, last->max_t);
    ++last;
  }
  first = ivs->erase(first, last);
  ivs->insert(first, iv);
}

}  // namespace vigil::storage
