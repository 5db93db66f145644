#include "storage/compact/planner.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "storage/compact/write_block.h"

namespace vigil::storage {

std::vector<int64_t> CompactionRanges(int64_t block_range_ms, int64_t retention_ms) {
  const int64_t cap = retention_ms > 0 ? retention_ms / 10 : int64_t{31} * 24 * 3600 * 1000;
  std::vector<int64_t> ranges = {block_range_ms};
  static constexpr int64_t kFactors[] = {3, 12, 36, 108, 324, 972};
  for (int64_t f : kFactors) {
    if (block_range_ms > cap / f) break;
    ranges.push_back(block_range_ms * f);
  }
  return ranges;
}

std::vector<size_t> PlanCompaction(std::span<const BlockMeta* const> blocks,
                                   std::span<const int64_t> ranges, bool force) {
  std::vector<size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return blocks[a]->min_time != blocks[b]->min_time ? blocks[a]->min_time < blocks[b]->min_time
                                                      : blocks[a]->id < blocks[b]->id;
  });
  // 1. Overlaps.
  for (size_t i = 0; i < order.size();) {
    std::vector<size_t> group = {order[i]};
    int64_t end = blocks[order[i]]->max_time;
    size_t j = i + 1;
    while (j < order.size() && blocks[order[j]]->min_time < end) {
      group.push_back(order[j]);
      end = std::max(end, blocks[order[j]]->max_time);
      ++j;
    }
    if (group.size() > 1) return group;
    i = j;
  }
  if (blocks.empty()) return {};
  int64_t newest_end = INT64_MIN;
  for (const BlockMeta* b : blocks) newest_end = std::max(newest_end, b->max_time);
  // 2. Levels.
  for (int64_t r : ranges) {
    std::map<int64_t, std::vector<size_t>> windows;
    for (size_t idx : order) {
      const BlockMeta* b = blocks[idx];
      const int64_t w = AlignDown(b->min_time, r);
      if (b->max_time <= w + r) windows[w].push_back(idx);
    }
    for (auto& [w, group] : windows) {
      if (group.size() < 2) continue;
      if (!force && w + r > newest_end) continue;
      return group;
    }
  }
  return {};
}

}  // namespace vigil::storage
