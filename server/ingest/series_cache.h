#pragma once

// A map from a series' identity as a protocol spells it (raw label bytes of a remote-write series,
// "measurement,tags\nfield" of a line-protocol sample) to the SeriesRef the head gave it, so that
// known series are appended by ref: no label sorting, building or hashing per request. Only
// series whose labels were accepted are put in.
//
// Why a cached ref can never write into the wrong series:
// - Keys are injective per protocol (the same key always names the same label set), and every key
//   starts with its protocol's tag byte (kRemoteWriteKey, kLineProtocolKey), so a line-protocol
//   key can never equal a remote-write key, whatever bytes a client puts in a measurement. A
//   protocol that starts using the cache adds a tag byte of its own.
// - The head never reuses a SeriesRef while the process runs (storage/series_ref.h). A series
//   that was garbage-collected after a flush is unknown to AppendByRef (NotFound); the caller
//   then appends by labels (a new series, a new ref) and puts the new ref, and counts the stale
//   hit with CountStale(). delete_series keeps the series (only its samples go), so its ref stays
//   right for new samples.
//
// REQUIRES: one cache per Db (refs of one Db mean nothing to another), and a Db that is not
// reopened while the cache lives (a reopened head numbers its series anew).
// Thread safety: all methods may be called concurrently (16 mutex-protected shards).
// Memory: bounded by max_entries; a full shard is cleared (the next requests rebuild it).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/series_ref.h"

namespace vigil::server::ingest {

class SeriesRefCache {
 public:
  // First byte of every key, per protocol.
  static constexpr char kRemoteWriteKey = 'R';
  static constexpr char kLineProtocolKey = 'L';

  struct Stats {
    uint64_t hits = 0;     // Get found the key
    uint64_t misses = 0;   // Get did not
    uint64_t stale = 0;    // hits whose ref the head no longer knew (CountStale)
    uint64_t entries = 0;  // keys held now
    uint64_t clears = 0;   // full shards cleared
  };

  // max_entries > 0.
  explicit SeriesRefCache(size_t max_entries = 1u << 20)
      : max_per_shard_(max_entries / kShards + 1) {}
  SeriesRefCache(const SeriesRefCache&) = delete;
  SeriesRefCache& operator=(const SeriesRefCache&) = delete;

  // kNoSeriesRef when absent.
  storage::SeriesRef Get(std::string_view key) const {
    const size_t h = std::hash<std::string_view>()(key);
    const Shard& s = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
      ++s.misses;
      return storage::kNoSeriesRef;
    }
    ++s.hits;
    return it->second;
  }

  void Put(std::string_view key, storage::SeriesRef ref) {
    const size_t h = std::hash<std::string_view>()(key);
    Shard& s = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.map.size() >= max_per_shard_ && s.map.find(key) == s.map.end()) {
      s.map.clear();
      ++s.clears;
    }
    s.map.insert_or_assign(std::string(key), ref);
  }

  // A ref from Get() that the head did not know any more.
  void CountStale() { stale_.fetch_add(1, std::memory_order_relaxed); }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      n += s.map.size();
    }
    return n;
  }

  Stats stats() const {
    Stats st;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      st.hits += s.hits;
      st.misses += s.misses;
      st.entries += s.map.size();
      st.clears += s.clears;
    }
    st.stale = stale_.load(std::memory_order_relaxed);
    return st;
  }

 private:
  static constexpr size_t kShards = 16;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, storage::SeriesRef, Hash, std::equal_to<>> map;
    // Guarded by mu (counted where the lock is held anyway: no shared atomic on the hot path).
    mutable uint64_t hits = 0;
    mutable uint64_t misses = 0;
    uint64_t clears = 0;
  };
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> stale_{0};
};

}  // namespace vigil::server::ingest
