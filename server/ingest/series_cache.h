#pragma once

// A map from a series' identity as a protocol spells it (raw label bytes of a remote-write series,
// "measurement,tags\nfield" of a line-protocol sample) to the SeriesRef the head gave it, so that
// known series are appended by ref: no label sorting, building or hashing per request. Only
// series whose labels were accepted are put in.
//
// Why a cached ref can never write into the wrong series:
// - Keys are injective per protocol (the same key always names the same label set), and every key
//   starts with its protocol's tag byte (kRemoteWriteKey, kRemoteWriteRawKey, kLineProtocolKey), so
//   a line-protocol key can never equal a remote-write key, whatever bytes a client puts in a
//   measurement. A protocol that starts using the cache adds a tag byte of its own.
// - The head never reuses a SeriesRef while the process runs (storage/series_ref.h). A series
//   that was garbage-collected after a flush is unknown to AppendByRef (NotFound); the caller
//   then appends by labels (a new series, a new ref) and puts the new ref, and counts the stale
//   hit with CountStale(). delete_series keeps the series (only its samples go), so its ref stays
//   right for new samples.
//
// Layout and cost: remote-write keys live in one hash map per shard; line-protocol keys in two
// levels, series key -> its fields (field key -> ref), so that a line hashes and compares its
// series key once for all its fields, under one lock (GetLineFields), and a field is found by a
// short comparison (first at the position it had when it was put, as lines of one series usually
// list their fields in the same order). HashBytes reads 8 bytes per step; the maps keep each key's
// hash, so a hit hashes nothing else.
//
// REQUIRES: one cache per Db (refs of one Db mean nothing to another), and a Db that is not
// reopened while the cache lives (a reopened head numbers its series anew). One set of
// IngestOptions limits per cache: a hit skips the checks the series passed when it was put
// (e.g. max_labels_per_series).
// Thread safety: all methods may be called concurrently (16 mutex-protected shards).
// Memory: bounded by max_entries; a full shard is cleared (the next requests rebuild it). With
// Admission::kSecondPut (vigild's choice) a key goes in at its second Put only (the first one sets
// a bit of a per-shard filter, 16 bits per entry of the shard's capacity, cleared after that many
// first Puts): series written once (a backfill, short-lived pods, more series than entries, where
// entries are dropped before any hit) do not fill the cache; a series written again is cached from
// then on, one request later than with kAll. False positives of the filter (at most 1 in 16
// distinct keys, about 1 in 32 on average) only admit a key early.

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <xxhash.h>

#include "storage/series_ref.h"

namespace vigil::server::ingest {

namespace series_cache_internal {

// A fast 64-bit hash (not keyed; the maps' buckets and the shards take bits of it).
inline uint64_t HashBytes(std::string_view s) {
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
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

// A key with its HashBytes, for look-ups that do not hash again.
struct Probe {
  std::string_view key;
  uint64_t hash;
};
// tag + rest with its HashTagged, for keys that are not built.
struct TaggedProbe {
  char tag;
  std::string_view rest;
  uint64_t hash;
};

// Hash of a key of `map`: XXH3-64 of the bytes after the tag byte, seeded with the tag, so that
// GetTagged hashes exactly the bytes it was given (remote-write keys are ~100-300 bytes, where
// XXH3 takes about half the instructions of HashBytes).
inline uint64_t HashTagged(char tag, std::string_view rest) {
  return XXH3_64bits_withSeed(rest.data(), rest.size(), static_cast<unsigned char>(tag));
}
inline uint64_t HashKey(std::string_view key) {
  return key.empty() ? HashBytes(key) : HashTagged(key[0], key.substr(1));
}
// `map`'s hash and equality. Not noexcept (see SeriesRefCache::Hash).
struct MapHash {
  uint64_t mask = ~uint64_t{0};
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return HashKey(s) & mask; }
  size_t operator()(const Probe& p) const { return p.hash; }
  size_t operator()(const TaggedProbe& p) const { return p.hash; }
};
struct MapEqual {
  using is_transparent = void;
  bool operator()(std::string_view x, std::string_view y) const { return x == y; }
  bool operator()(const Probe& p, std::string_view s) const { return s == p.key; }
  bool operator()(std::string_view s, const Probe& p) const { return s == p.key; }
  static bool Same(const TaggedProbe& p, std::string_view s) {
    return s.size() == p.rest.size() + 1 && s[0] == p.tag &&
           std::memcmp(s.data() + 1, p.rest.data(), p.rest.size()) == 0;
  }
  bool operator()(const TaggedProbe& p, std::string_view s) const { return Same(p, s); }
  bool operator()(std::string_view s, const TaggedProbe& p) const { return Same(p, s); }
};

}  // namespace series_cache_internal

class SeriesRefCache {
 public:
  // First byte of every key, per protocol.
  static constexpr char kRemoteWriteKey = 'R';
  static constexpr char kLineProtocolKey = 'L';
  // Remote write 1.0: the protobuf bytes of a TimeSeries' label fields exactly as sent (every
  // `labels = 1` entry with its tag and length, contiguous). Those bytes decode to one label list
  // only, so the key is injective; another spelling of the same labels is another key for the
  // same ref.
  static constexpr char kRemoteWriteRawKey = 'P';

  struct Stats {
    uint64_t hits = 0;     // look-ups that found the key
    uint64_t misses = 0;   // look-ups that did not
    uint64_t stale = 0;    // hits whose ref the head no longer knew (CountStale)
    uint64_t entries = 0;  // keys held now (a line-protocol key: one field of one series key)
    uint64_t clears = 0;   // full shards cleared
    uint64_t declined = 0;  // Puts of keys seen for the first time, not stored (kSecondPut)
  };

  // Which new keys Put* stores (see the memory note at the top).
  enum class Admission : uint8_t {
    kAll,        // every key put
    kSecondPut,  // a key put a second time since the filter was last cleared
  };

  // max_entries > 0. hash_mask is for tests only: with 0 every key of Get/Put/GetTagged/PutTagged
  // hashes to 0 (one shard, one bucket chain), so lookups must tell keys apart by their bytes.
  explicit SeriesRefCache(size_t max_entries = 1u << 20, uint64_t hash_mask = ~uint64_t{0},
                          Admission admission = Admission::kAll)
      : max_per_shard_(max_entries / kShards + 1), hash_mask_(hash_mask) {
    const size_t filter_bits = std::bit_ceil(std::max<size_t>(1024, 16 * max_per_shard_));
    for (Shard& s : shards_) {
      s.map = Map(16, MapHash{hash_mask}, MapEqual{});
      if (admission == Admission::kSecondPut) s.seen.assign(filter_bits / 64, 0);
    }
  }
  SeriesRefCache(const SeriesRefCache&) = delete;
  SeriesRefCache& operator=(const SeriesRefCache&) = delete;

  // kNoSeriesRef when absent. `key` starts with the protocol's tag byte; a line-protocol key is
  // kLineProtocolKey + series key + '\n' + field key.
  storage::SeriesRef Get(std::string_view key) const {
    if (std::string_view sk, field; SplitLineKey(key, &sk, &field)) {
      return GetLine(HashBytes(sk), sk, field);
    }
    return Find(Probe{key, HashKey(key) & hash_mask_});
  }

  // Get(tag + rest) without building the key.
  storage::SeriesRef GetTagged(char tag, std::string_view rest) const {
    return Find(TaggedProbe{tag, rest, HashTagged(tag, rest) & hash_mask_});
  }

  // Put(tag + rest); the key is built only when it is new.
  void PutTagged(char tag, std::string_view rest, storage::SeriesRef ref) {
    const TaggedProbe probe{tag, rest, HashTagged(tag, rest) & hash_mask_};
    Shard& s = ShardOf(probe.hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(probe);
    if (it != s.map.end()) {
      it->second = ref;
      return;
    }
    if (!Admit(s, probe.hash)) return;
    MakeRoom(s);
    std::string key;
    key.reserve(rest.size() + 1);
    key.push_back(tag);
    key.append(rest);
    s.map.emplace(std::move(key), ref);
  }

  void Put(std::string_view key, storage::SeriesRef ref) {
    if (std::string_view sk, field; SplitLineKey(key, &sk, &field)) {
      return PutLine(HashBytes(sk), sk, field, ref);
    }
    const uint64_t h = HashKey(key) & hash_mask_;
    Shard& s = ShardOf(h);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(Probe{key, h});
    if (it != s.map.end()) {
      it->second = ref;
      return;
    }
    if (!Admit(s, h)) return;
    MakeRoom(s);
    s.map.emplace(std::string(key), ref);
  }

  // Line protocol, without building the key. `series_hash` is HashBytes(series_key), computed once
  // per line.
  storage::SeriesRef GetLine(uint64_t series_hash, std::string_view series_key,
                             std::string_view field) const {
    storage::SeriesRef ref;
    GetLineFields(
        series_hash, series_key, 1, [field](size_t) { return field; }, &ref);
    return ref;
  }

  void PutLine(uint64_t series_hash, std::string_view series_key, std::string_view field,
               storage::SeriesRef ref) {
    Shard& s = ShardOf(series_hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.lines.find(Probe{series_key, series_hash});
    if (it != s.lines.end()) {
      for (auto& [f, r] : it->second) {
        if (f == field) {
          r = ref;
          return;
        }
      }
    } else if (!Admit(s, series_hash)) {
      return;  // a new series key (its fields are admitted with it)
    }
    if (MakeRoom(s)) it = s.lines.end();
    if (it == s.lines.end()) it = s.lines.emplace(std::string(series_key), Fields()).first;
    it->second.emplace_back(std::string(field), ref);
    ++s.line_fields;
  }

  // GetLine for the fields of one line under one lock: refs[i] = the ref of field_at(i) (a
  // std::string_view), or kNoSeriesRef; i < n.
  template <typename FieldAt>
  void GetLineFields(uint64_t series_hash, std::string_view series_key, size_t n,
                     FieldAt&& field_at, storage::SeriesRef* refs) const {
    const Shard& s = ShardOf(series_hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.lines.find(Probe{series_key, series_hash});
    if (it == s.lines.end()) {
      for (size_t i = 0; i < n; ++i) refs[i] = storage::kNoSeriesRef;
      s.misses += n;
      return;
    }
    const Fields& fields = it->second;
    for (size_t i = 0; i < n; ++i) {
      const std::string_view field = field_at(i);
      refs[i] = storage::kNoSeriesRef;
      if (i < fields.size() && fields[i].first == field) {
        refs[i] = fields[i].second;
      } else {
        for (const auto& [f, r] : fields) {
          if (f == field) {
            refs[i] = r;
            break;
          }
        }
      }
      if (refs[i] == storage::kNoSeriesRef) {
        ++s.misses;
      } else {
        ++s.hits;
      }
    }
  }

  // A fast 64-bit hash (not keyed; the maps' buckets and the shards take bits of it).
  static uint64_t HashBytes(std::string_view s) { return series_cache_internal::HashBytes(s); }

  // Hits a caller served without asking the cache (the same key as its previous look-up).
  void CountHits(uint64_t n) { extra_hits_.fetch_add(n, std::memory_order_relaxed); }

  // A ref from Get() that the head did not know any more.
  void CountStale() { stale_.fetch_add(1, std::memory_order_relaxed); }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      n += s.map.size() + s.line_fields;
    }
    return n;
  }

  Stats stats() const {
    Stats st;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      st.hits += s.hits;
      st.misses += s.misses;
      st.entries += s.map.size() + s.line_fields;
      st.clears += s.clears;
      st.declined += s.declined;
    }
    st.hits += extra_hits_.load(std::memory_order_relaxed);
    st.stale = stale_.load(std::memory_order_relaxed);
    return st;
  }

 private:
  static constexpr size_t kShards = 16;

  // "L<series key>\n<field>" -> its parts (a series key holds no '\n').
  static bool SplitLineKey(std::string_view key, std::string_view* series_key,
                           std::string_view* field) {
    if (key.empty() || key[0] != kLineProtocolKey) return false;
    const size_t nl = key.find('\n', 1);
    if (nl == std::string_view::npos) return false;
    *series_key = key.substr(1, nl - 1);
    *field = key.substr(nl + 1);
    return true;
  }

  using Probe = series_cache_internal::Probe;
  using TaggedProbe = series_cache_internal::TaggedProbe;
  using MapHash = series_cache_internal::MapHash;
  using MapEqual = series_cache_internal::MapEqual;
  using Map = std::unordered_map<std::string, storage::SeriesRef, MapHash, MapEqual>;
  static uint64_t HashTagged(char tag, std::string_view rest) {
    return series_cache_internal::HashTagged(tag, rest);
  }
  static uint64_t HashKey(std::string_view key) { return series_cache_internal::HashKey(key); }

  // Not noexcept on purpose: libstdc++ then keeps every node's hash, so neither a look-up nor a
  // rehash hashes a stored key again.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return HashBytes(s); }
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view x, std::string_view y) const { return x == y; }
    bool operator()(const Probe& p, std::string_view s) const { return s == p.key; }
    bool operator()(std::string_view s, const Probe& p) const { return s == p.key; }
  };
  using Fields = std::vector<std::pair<std::string, storage::SeriesRef>>;
  struct Shard {
    mutable std::mutex mu;
    // Remote-write (and any other non-line-protocol) keys, tag byte included.
    Map map;
    // Line protocol: series key as written (no tag byte) -> its fields in the order put.
    std::unordered_map<std::string, Fields, Hash, Equal> lines;
    size_t line_fields = 0;  // entries of all `lines`
    // Guarded by mu (counted where the lock is held anyway: no shared atomic on the hot path).
    mutable uint64_t hits = 0;
    mutable uint64_t misses = 0;
    uint64_t clears = 0;
    uint64_t declined = 0;
    // Admission::kSecondPut: one bit per hash (bits 4.. of it) of the keys put once since the
    // last clear of the filter; empty with kAll.
    std::vector<uint64_t> seen;
    size_t seen_puts = 0;  // first Puts since that clear
  };

  // REQUIRES: s.mu held; the key is not in the shard. Whether it may go in now.
  bool Admit(Shard& s, uint64_t hash) {
    if (s.seen.empty()) return true;
    const size_t bit = (hash >> 4) & (s.seen.size() * 64 - 1);
    const uint64_t mask = uint64_t{1} << (bit & 63);
    if ((s.seen[bit >> 6] & mask) != 0) return true;
    if (++s.seen_puts > max_per_shard_) {
      // The filter holds 16 bits per entry: cleared after max_per_shard_ first Puts, at most 1 in
      // 16 of its bits is set, which bounds its false positives.
      std::fill(s.seen.begin(), s.seen.end(), 0);
      s.seen_puts = 1;
    }
    s.seen[bit >> 6] |= mask;
    ++s.declined;
    return false;
  }

  template <typename P>
  storage::SeriesRef Find(const P& probe) const {
    const Shard& s = ShardOf(probe.hash);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(probe);
    if (it == s.map.end()) {
      ++s.misses;
      return storage::kNoSeriesRef;
    }
    ++s.hits;
    return it->second;
  }

  const Shard& ShardOf(uint64_t hash) const { return shards_[hash >> 60]; }
  Shard& ShardOf(uint64_t hash) { return shards_[hash >> 60]; }

  // Clears a full shard before a new entry goes in; true when it did.
  bool MakeRoom(Shard& s) {
    if (s.map.size() + s.line_fields < max_per_shard_) return false;
    s.map.clear();
    s.lines.clear();
    s.line_fields = 0;
    ++s.clears;
    return true;
  }

  const size_t max_per_shard_;
  const uint64_t hash_mask_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> stale_{0};
  std::atomic<uint64_t> extra_hits_{0};
};

}  // namespace vigil::server::ingest
