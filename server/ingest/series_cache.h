#pragma once

// A map from a series' identity as a protocol spells it (raw label bytes of a remote-write series,
// "measurement,tags\nfield" of a line-protocol sample) to the SeriesRef the head gave it, so that
// known series are appended by ref: no label sorting, building or hashing per request. Only
// series whose labels were accepted are put in. A ref the head no longer knows (garbage-collected
// series) makes AppendByRef return NotFound; the caller then appends by labels and puts the new
// ref.
//
// REQUIRES: one cache per Db (refs of one Db mean nothing to another).
// Thread safety: all methods may be called concurrently (16 mutex-protected shards).
// Memory: bounded by max_entries; a full shard is cleared (the next requests rebuild it).

#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/series_ref.h"

namespace vigil::server::ingest {

class SeriesRefCache {
 public:
  explicit SeriesRefCache(size_t max_entries = 1u << 20) : max_per_shard_(max_entries / kShards + 1) {}
  SeriesRefCache(const SeriesRefCache&) = delete;
  SeriesRefCache& operator=(const SeriesRefCache&) = delete;

  // kNoSeriesRef when absent.
  storage::SeriesRef Get(std::string_view key) const {
    const size_t h = std::hash<std::string_view>()(key);
    const Shard& s = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(key);
    return it == s.map.end() ? storage::kNoSeriesRef : it->second;
  }

  void Put(std::string_view key, storage::SeriesRef ref) {
    const size_t h = std::hash<std::string_view>()(key);
    Shard& s = shards_[h % kShards];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.map.size() >= max_per_shard_) s.map.clear();
    s.map.insert_or_assign(std::string(key), ref);
  }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      n += s.map.size();
    }
    return n;
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
  };
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace vigil::server::ingest
