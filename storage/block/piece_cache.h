#pragma once

// A small cache of decompressed pieces (chunk segments version 2, index version 2), most recently
// used last. Small on purpose: readers walk series and their chunks in file order, so a few
// pieces per file serve most look-ups. Internal to storage/block.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vigil::storage::block {

// Thread safety: safe for concurrent use.
class PieceCache {
 public:
  explicit PieceCache(size_t capacity) : capacity_(capacity) {}

  // The piece cached under `key`, or null.
  std::shared_ptr<const std::string> Get(uint64_t key) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = entries_.size(); i-- > 0;) {
      if (entries_[i].first == key) {
        if (i + 1 != entries_.size()) std::rotate(entries_.begin() + i, entries_.begin() + i + 1, entries_.end());
        return entries_.back().second;
      }
    }
    return nullptr;
  }

  // Caches `piece` under `key`, dropping the least recently used piece when full.
  void Put(uint64_t key, std::shared_ptr<const std::string> piece) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
    entries_.emplace_back(key, std::move(piece));
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, std::shared_ptr<const std::string>>> entries_;
};

// An empty string to decompress a piece into, with the capacity of a piece dropped earlier when
// there is one: pieces come and go by the dozen in a query, and a fresh buffer each time costs
// the allocator's growth, page faults and zero-filling of new memory. The string goes back to a
// small process-wide pool when its last holder drops it. Thread safety: safe for concurrent use.
std::shared_ptr<std::string> NewPieceBuffer();

}  // namespace vigil::storage::block
