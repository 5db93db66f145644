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
// Cost: one hash of the key per look-up (HashBytes, 8 bytes per step; the map keeps each key's
// hash, so a hit hashes nothing else). A line-protocol key is hashed in two parts, series key and
// field key, so a line hashes its series key once for all its fields (GetLine / PutLine), and the
// series key alone picks the shard, so a line's fields are looked up under one lock
// (GetLineFields).
//
// REQUIRES: one cache per Db (refs of one Db mean nothing to another), and a Db that is not
// reopened while the cache lives (a reopened head numbers its series anew). One set of
// IngestOptions limits per cache: a hit skips the checks the series passed when it was put
// (e.g. max_labels_per_series).
// Thread safety: all methods may be called concurrently (16 mutex-protected shards).
// Memory: bounded by max_entries; a full shard is cleared (the next requests rebuild it).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

  // kNoSeriesRef when absent. `key` starts with the protocol's tag byte.
  storage::SeriesRef Get(std::string_view key) const {
    return Find(Probe{key, {}, false, KeyHash(key), ShardHash(key)});
  }

  void Put(std::string_view key, storage::SeriesRef ref) {
    Insert(Probe{key, {}, false, KeyHash(key), ShardHash(key)}, ref);
  }

  // Line protocol: the key kLineProtocolKey + series_key + '\n' + field, without building it.
  // `series_hash` is HashBytes(series_key), computed once per line.
  storage::SeriesRef GetLine(uint64_t series_hash, std::string_view series_key,
                             std::string_view field) const {
    return Find(Probe{series_key, field, true, LineHash(series_hash, field), series_hash});
  }
  void PutLine(uint64_t series_hash, std::string_view series_key, std::string_view field,
               storage::SeriesRef ref) {
    Insert(Probe{series_key, field, true, LineHash(series_hash, field), series_hash}, ref);
  }

  // GetLine for the fields of one line under one lock (all keys of a series key share a shard):
  // refs[i] = the ref of field_at(i) (a std::string_view), or kNoSeriesRef; i < n.
  template <typename FieldAt>
  void GetLineFields(uint64_t series_hash, std::string_view series_key, size_t n,
                     FieldAt&& field_at, storage::SeriesRef* refs) const {
    const Shard& s = ShardOf(series_hash);
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i < n; ++i) {
      const std::string_view field = field_at(i);
      auto it = s.map.find(
          Probe{series_key, field, true, LineHash(series_hash, field), series_hash});
      if (it == s.map.end()) {
        ++s.misses;
        refs[i] = storage::kNoSeriesRef;
      } else {
        ++s.hits;
        refs[i] = it->second;
      }
    }
  }

  // A fast 64-bit hash (not keyed; the map's buckets and the shards take bits of it).
  static uint64_t HashBytes(std::string_view s) {
    constexpr uint64_t kMul = 0x9ddfea08eb382d69ULL;
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x243f6a8885a308d3ULL ^ (n * kMul);
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * kMul;
      h ^= h >> 31;
      p += 8;
      n -= 8;
    }
    if (n > 0) {
      uint64_t w = 0;
      std::memcpy(&w, p, n);
      h = (h ^ w) * kMul;
      h ^= h >> 31;
    }
    return Finish(h);
  }

  // Hits a caller served without asking the cache (the same key as its previous look-up).
  void CountHits(uint64_t n) { extra_hits_.fetch_add(n, std::memory_order_relaxed); }

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
    st.hits += extra_hits_.load(std::memory_order_relaxed);
    st.stale = stale_.load(std::memory_order_relaxed);
    return st;
  }

 private:
  static constexpr size_t kShards = 16;

  static uint64_t Finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
  }
  static uint64_t LineHash(uint64_t series_hash, std::string_view field) {
    return Finish(series_hash * 0x9e3779b97f4a7c15ULL ^ HashBytes(field));
  }
  // The hash of a stored key: line-protocol keys in two parts (a series key holds no '\n').
  static uint64_t KeyHash(std::string_view key) {
    if (!key.empty() && key[0] == kLineProtocolKey) {
      const size_t nl = key.find('\n', 1);
      if (nl != std::string_view::npos) {
        return LineHash(HashBytes(key.substr(1, nl - 1)), key.substr(nl + 1));
      }
    }
    return HashBytes(key);
  }
  // What picks a key's shard: a line-protocol key's series key alone, so that the fields of a
  // line are looked up under one lock.
  static uint64_t ShardHash(std::string_view key) {
    if (!key.empty() && key[0] == kLineProtocolKey) {
      const size_t nl = key.find('\n', 1);
      if (nl != std::string_view::npos) return HashBytes(key.substr(1, nl - 1));
    }
    return KeyHash(key);
  }

  // A key to look up: the whole key (line = false: `a`), or a line-protocol key in two parts.
  struct Probe {
    std::string_view a;
    std::string_view b;
    bool line;
    uint64_t hash;        // the map's hash of the key
    uint64_t shard_hash;  // ShardHash of the key
  };
  // Not noexcept on purpose: libstdc++ then keeps every node's hash, so neither a look-up nor a
  // rehash hashes a stored key again.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return KeyHash(s); }
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view x, std::string_view y) const { return x == y; }
    bool operator()(const Probe& p, std::string_view s) const { return (*this)(s, p); }
    bool operator()(std::string_view s, const Probe& p) const {
      if (!p.line) return s == p.a;
      return s.size() == p.a.size() + p.b.size() + 2 && s[0] == kLineProtocolKey &&
             s.compare(1, p.a.size(), p.a) == 0 && s[p.a.size() + 1] == '\n' &&
             s.compare(p.a.size() + 2, p.b.size(), p.b) == 0;
    }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, storage::SeriesRef, Hash, Equal> map;
    // Guarded by mu (counted where the lock is held anyway: no shared atomic on the hot path).
    mutable uint64_t hits = 0;
    mutable uint64_t misses = 0;
    uint64_t clears = 0;
  };
  const Shard& ShardOf(uint64_t hash) const { return shards_[hash >> 60]; }
  Shard& ShardOf(uint64_t hash) { return shards_[hash >> 60]; }

  storage::SeriesRef Find(const Probe& probe) const {
    const Shard& s = ShardOf(probe.shard_hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(probe);
    if (it == s.map.end()) {
      ++s.misses;
      return storage::kNoSeriesRef;
    }
    ++s.hits;
    return it->second;
  }

  void Insert(const Probe& probe, storage::SeriesRef ref) {
    Shard& s = ShardOf(probe.shard_hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(probe);
    if (it != s.map.end()) {
      it->second = ref;
      return;
    }
    if (s.map.size() >= max_per_shard_) {
      s.map.clear();
      ++s.clears;
    }
    std::string key;
    if (probe.line) {
      key.reserve(probe.a.size() + probe.b.size() + 2);
      key.push_back(kLineProtocolKey);
      key.append(probe.a);
      key.push_back('\n');
      key.append(probe.b);
    } else {
      key.assign(probe.a);
    }
    s.map.emplace(std::move(key), ref);
  }

  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> stale_{0};
  std::atomic<uint64_t> extra_hits_{0};
};

}  // namespace vigil::server::ingest
