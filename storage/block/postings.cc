#include "storage/block/postings.h"

#include <algorithm>
#include <cassert>

#include "storage/block/coding.h"

namespace vigil::storage::block {

namespace {

// First position in [lo, v.size()) with v[pos] >= x, found by exponential then binary search
// from lo, so a run of nearby look-ups costs O(log gap) each.
size_t Gallop(const PostingsList& v, size_t lo, BlockSeriesId x) {
  size_t step = 1;
  size_t hi = lo;
  while (hi < v.size() && v[hi] < x) {
    lo = hi + 1;
    hi += step;
    step <<= 1;
  }
  hi = std::min(hi, v.size());
  return static_cast<size_t>(std::lower_bound(v.begin() + lo, v.begin() + hi, x) - v.begin());
}

// Intersects `small` with `large` into `small` (in place).
void IntersectInto(PostingsList* small, const PostingsList& large) {
  size_t out = 0;
  if (large.size() > 8 * small->size()) {
    size_t pos = 0;
    for (BlockSeriesId x : *small) {
      pos = Gallop(large, pos, x);
      if (pos == large.size()) break;
      if (large[pos] == x) (*small)[out++] = x;
    }
  } else {
    size_t j = 0;
    for (size_t i = 0; i < small->size() && j < large.size(); ) {
      const BlockSeriesId a = (*small)[i], b = large[j];
      if (a < b) {
        ++i;
      } else if (b < a) {
        ++j;
      } else {
        (*small)[out++] = a;
        ++i;
        ++j;
      }
    }
  }
  small->resize(out);
}

}  // namespace

void EncodePostings(std::span<const BlockSeriesId> ids, std::string* out) {
  AppendUvarint(ids.size(), out);
  BlockSeriesId prev = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    assert(i == 0 || ids[i] > prev);
    AppendUvarint(i == 0 ? ids[i] : ids[i] - prev, out);
    prev = ids[i];
  }
}

bool DecodePostings(std::string_view data, uint32_t num_series, PostingsList* out) {
  const char* p = data.data();
  const char* end = p + data.size();
  uint64_t count = 0;
  p = GetUvarint(p, end, &count);
  // Every id takes at least one byte, which bounds the allocation by the input size.
  if (p == nullptr || count > static_cast<uint64_t>(end - p) || count > num_series) return false;
  const size_t base = out->size();
  out->resize(base + count);
  BlockSeriesId* dst = out->data() + base;
  uint64_t id = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t gap;
    if (p < end && static_cast<unsigned char>(*p) < 0x80) {
      gap = static_cast<unsigned char>(*p++);
    } else {
      p = GetUvarint(p, end, &gap);
      if (p == nullptr) return false;
    }
    if (i > 0 && gap == 0) return false;
    id += gap;
    if (id >= num_series) return false;
    dst[i] = static_cast<BlockSeriesId>(id);
  }
  return p == end;
}

PostingsList IntersectPostings(std::vector<PostingsList> lists) {
  assert(!lists.empty());
  std::sort(lists.begin(), lists.end(),
            [](const PostingsList& a, const PostingsList& b) { return a.size() < b.size(); });
  PostingsList result = std::move(lists[0]);
  for (size_t i = 1; i < lists.size() && !result.empty(); ++i) IntersectInto(&result, lists[i]);
  return result;
}

PostingsList UnionPostings(std::vector<PostingsList> lists, uint32_t universe) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return std::move(lists[0]);
  size_t total = 0;
  for (const auto& l : lists) total += l.size();
  PostingsList out;
  if (lists.size() == 2) {
    out.reserve(total);
    std::set_union(lists[0].begin(), lists[0].end(), lists[1].begin(), lists[1].end(),
                   std::back_inserter(out));
    return out;
  }
  if (total >= universe / 32) {
    std::vector<uint64_t> bits((static_cast<size_t>(universe) + 63) / 64);
    for (const auto& l : lists) {
      for (BlockSeriesId id : l) bits[id >> 6] |= uint64_t{1} << (id & 63);
    }
    out.reserve(total);
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
        out.push_back(static_cast<BlockSeriesId>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
      }
    }
    return out;
  }
  out.reserve(total);
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

PostingsList SubtractPostings(const PostingsList& a, const PostingsList& b) {
  PostingsList out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace vigil::storage::block
