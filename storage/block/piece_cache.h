#pragma once

// Caches of decompressed pieces (chunk segments version 2, index version 2): one small cache per
// reader, in front of one cache shared by the process. Internal to storage/block, except
// SharedPieceCache's capacity and stats and PieceCacheBypass.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vigil::storage::block {

// Decompressed pieces shared by all readers of the process, bounded in bytes (least recently used
// out, in 8 shards). A query that reads a series after another query read its neighbours (the
// usual case on a dashboard: panels over the same metrics) finds the pieces decompressed already,
// instead of the 64 KiB chunk and 16 KiB series pieces being decompressed again per query.
// Work that reads everything once (compaction, snapshots) runs under a PieceCacheBypass so that
// it does not push out what queries use. Thread safety: safe for concurrent use.
class SharedPieceCache {
 public:
  static constexpr size_t kDefaultBytes = size_t{64} << 20;
  static SharedPieceCache& Instance();

  // Bytes kept from now on (0: nothing); shrinking drops the least recently used at once.
  void SetCapacity(size_t bytes);
  // A key space of its own for one reader.
  static uint64_t NewOwner();

  std::shared_ptr<const std::string> Get(uint64_t owner, uint64_t key);
  void Put(uint64_t owner, uint64_t key, std::shared_ptr<const std::string> piece);

  struct Stats {
    uint64_t hits = 0, misses = 0, bytes = 0, entries = 0, capacity = 0;
  };
  Stats stats() const;

 private:
  struct Shard;
  SharedPieceCache();
  Shard& ShardOf(uint64_t owner, uint64_t key);
  std::unique_ptr<Shard[]> shards_;
  std::atomic<size_t> capacity_{kDefaultBytes};
};

// While one lives on a thread, the readers on it neither look in nor add to the SharedPieceCache.
class PieceCacheBypass {
 public:
  PieceCacheBypass();
  ~PieceCacheBypass();
  PieceCacheBypass(const PieceCacheBypass&) = delete;
  PieceCacheBypass& operator=(const PieceCacheBypass&) = delete;
  static bool Active();
};

// A reader's own small cache of decompressed pieces (chunk segments version 2, index version 2),
// most recently used last, in front of the SharedPieceCache. Small on purpose: readers walk series
// and their chunks in file order, so a few pieces per file serve most look-ups.
// Thread safety: safe for concurrent use.
class PieceCache {
 public:
  explicit PieceCache(size_t capacity) : capacity_(capacity), owner_(SharedPieceCache::NewOwner()) {}

  // The piece cached under `key`, or null.
  std::shared_ptr<const std::string> Get(uint64_t key) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = entries_.size(); i-- > 0;) {
        if (entries_[i].first == key) {
          if (i + 1 != entries_.size()) std::rotate(entries_.begin() + i, entries_.begin() + i + 1, entries_.end());
          return entries_.back().second;
        }
      }
    }
    if (PieceCacheBypass::Active()) return nullptr;
    std::shared_ptr<const std::string> shared = SharedPieceCache::Instance().Get(owner_, key);
    if (shared != nullptr) PutLocal(key, shared);
    return shared;
  }

  // Caches `piece` under `key`, dropping the least recently used piece when full. Readers call it
  // for every piece they decompress.
  void Put(uint64_t key, std::shared_ptr<const std::string> piece) {
    puts_.fetch_add(1, std::memory_order_relaxed);
    if (!PieceCacheBypass::Active()) SharedPieceCache::Instance().Put(owner_, key, piece);
    PutLocal(key, std::move(piece));
  }

  // Pieces decompressed so far (Put calls).
  uint64_t puts() const { return puts_.load(std::memory_order_relaxed); }

 private:
  void PutLocal(uint64_t key, std::shared_ptr<const std::string> piece) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
    entries_.emplace_back(key, std::move(piece));
  }

  const size_t capacity_;
  const uint64_t owner_;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, std::shared_ptr<const std::string>>> entries_;
  std::atomic<uint64_t> puts_{0};
};

// An empty string to decompress a piece into, with the capacity of a piece dropped earlier when
// there is one: pieces come and go by the dozen in a query, and a fresh buffer each time costs
// the allocator's growth, page faults and zero-filling of new memory. The string goes back to a
// small process-wide pool when its last holder drops it. Thread safety: safe for concurrent use.
std::shared_ptr<std::string> NewPieceBuffer();

}  // namespace vigil::storage::block
