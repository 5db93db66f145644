#pragma once

// The head's two striped series maps: by SeriesRef and by label hash. Each is 4096 cache-line
// sized stripes (alignas(64): a spin lock and a table), so threads touching different series
// rarely share a lock or a cache line. Stripe locks are held only for a probe or an insert (never
// across another lock's wait; replay, single-threaded, is the exception), so a spin lock that
// yields is cheaper than a std::mutex here. The stripe of a ref is its low 12 bits (dense refs
// spread round-robin); the stripe of a label hash is its low 12 bits.
//
// Ownership: the by-hash map owns the series (each series is in it exactly once); the by-ref map
// may hold extra refs for one series when WAL replay met one label set under two refs.
// Thread safety: all methods are safe to call concurrently.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/head/flat_table.h"
#include "storage/head/series.h"
#include "storage/head/spin_lock.h"

namespace vigil::storage::head {

// The by-ref map's table of one stripe. A stripe holds the refs with the same low 12 bits, and refs
// are dense, so `ref >> 12` is dense too: it indexes an array of Series* (8 bytes per series plus
// growth slack, where a FlatTable slot costs 16 bytes at load 3/8..3/4). A ref that would leave the
// array less than about half used (below its start, or far past its end: refs replayed after heavy
// churn) goes to a FlatTable instead. Removal clears slots; when fewer than a quarter of the array's
// slots are used (churned series at its front), the table is rebuilt. Keys are unique (the head
// never inserts a ref twice). Thread safety: none; callers hold the stripe's lock.
class RefTable {
 public:
  static constexpr int kShift = 12;  // == SeriesMap::kStripeBits

  RefTable() = default;
  ~RefTable() { std::free(direct_); }
  RefTable(const RefTable&) = delete;
  RefTable& operator=(const RefTable&) = delete;

  Series* Find(uint64_t key) const {
    const uint64_t i = (key >> kShift) - base_;
    if (i < size_ && direct_[i] != nullptr) return direct_[i];
    return sparse_.size() == 0 ? nullptr : sparse_.Find(key);
  }

  // REQUIRES: value != nullptr, key not present.
  void Insert(uint64_t key, Series* value) {
    const uint64_t idx = key >> kShift;
    if (size_ == 0 && count_ == 0) base_ = idx;
    const uint64_t i = idx - base_;  // huge when idx < base_
    if (i < size_) {
      direct_[i] = value;
      ++count_;
      return;
    }
    if (idx >= base_ && i < 2 * (uint64_t{count_} + 1) + 16) {
      Resize(static_cast<uint32_t>(i + 1));
      direct_[i] = value;
      ++count_;
      return;
    }
    sparse_.Insert(key, value);
  }

  template <typename F>
  void ForEach(F&& f) const {
    for (uint32_t i = 0; i < size_; ++i) {
      if (direct_[i] != nullptr) f(((base_ + i) << kShift) | low_, direct_[i]);
    }
    sparse_.ForEach(f);
  }

  // Removes every entry for which pred(key, value) is true; returns how many.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    size_t removed = 0;
    for (uint32_t i = 0; i < size_; ++i) {
      if (direct_[i] != nullptr && pred(((base_ + i) << kShift) | low_, direct_[i])) {
        direct_[i] = nullptr;
        --count_;
        ++removed;
      }
    }
    removed += sparse_.RemoveIf(pred);
    if (removed != 0 && size_t{count_} * 4 < size_) Rebuild();
    return removed;
  }

  size_t size() const { return count_ + sparse_.size(); }
  // Bytes malloc takes for the array and the FlatTable's slots.
  size_t AllocatedBytes() const {
    return AllocSize(size_t{cap_} * sizeof(Series*)) + AllocSize(sparse_.MemoryUsage());
  }

  // The stripe's low key bits (every key of this table has them); set once by the map.
  void set_low_bits(uint32_t low) { low_ = low; }

 private:
  // Grows the array to n slots (n > size_), the new ones empty; capacity doubles.
  void Resize(uint32_t n) {
    if (n > cap_) {
      uint32_t cap = cap_ == 0 ? 4 : cap_;
      while (cap < n) cap *= 2;
      void* p = std::realloc(static_cast<void*>(direct_), size_t{cap} * sizeof(Series*));
      if (p == nullptr) throw std::bad_alloc();
      direct_ = static_cast<Series**>(p);
      cap_ = cap;
    }
    std::fill(direct_ + size_, direct_ + n, nullptr);
    size_ = n;
  }

  // Rebuilds the table from its entries: the array starts at the smallest ref from which the
  // refs are at least about half dense; smaller (older, scattered) refs go to the FlatTable.
  void Rebuild() {
    std::vector<std::pair<uint64_t, Series*>> all;
    all.reserve(size());
    ForEach([&](uint64_t k, Series* v) { all.emplace_back(k, v); });
    std::sort(all.begin(), all.end());
    std::free(direct_);
    direct_ = nullptr;
    size_ = cap_ = count_ = 0;
    base_ = 0;
    sparse_.RemoveIf([](uint64_t, Series*) { return true; });
    if (all.empty()) return;
    const uint64_t last = all.back().first >> kShift;
    size_t j = 0;
    while (last - (all[j].first >> kShift) + 1 > 2 * (all.size() - j) + 16) ++j;
    for (size_t x = 0; x < j; ++x) sparse_.Insert(all[x].first, all[x].second);
    base_ = all[j].first >> kShift;
    Resize(static_cast<uint32_t>(last - base_ + 1));
    for (size_t x = j; x < all.size(); ++x) {
      direct_[(all[x].first >> kShift) - base_] = all[x].second;
      ++count_;
    }
  }

  Series** direct_ = nullptr;  // slot i: the series of ref ((base_ + i) << kShift) | low_
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
  uint64_t base_ = 0;
  uint32_t count_ = 0;  // non-null slots of direct_
  uint32_t low_ = 0;
  FlatTable<Series*> sparse_;
};

// The by-hash map's table of one stripe: open addressing over Series* alone, 8-byte slots where a
// FlatTable<Series*> slot takes 16 (17 of the 1 M-series highcard head's bytes per series). The
// key, a series' label hash, is kept in the Series (Series::hash(), in bytes its malloc chunk had
// spare) and compared there. Linear probing, load 3/8..3/4; equal hashes lie side by side
// (collisions), and look-ups take a predicate to pick the right series. Removal rebuilds the table,
// as FlatTable's does. Thread safety: none; callers hold the stripe's lock.
class SeriesHashTable {
 public:
  // The first series with hash `key` for which match(series) is true, or nullptr.
  template <typename Match>
  Series* Find(uint64_t key, Match&& match) const {
    if (size_ == 0) return nullptr;
    for (size_t i = Index(key);; i = (i + 1) & mask_) {
      Series* s = slots_[i];
      if (s == nullptr) return nullptr;
      if (s->hash() == key && match(s)) return s;
    }
  }
  Series* Find(uint64_t key) const {
    return Find(key, [](Series*) { return true; });
  }

  // REQUIRES: series != nullptr, series->hash() == key.
  void Insert(uint64_t key, Series* series) {
    assert(series != nullptr && series->hash() == key);
    (void)key;
    if ((size_t{size_} + 1) * 4 > capacity() * 3) Grow();
    Place(series);
    ++size_;
  }

  // Calls f(hash, series) for every series, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < capacity(); ++i) {
      if (slots_[i] != nullptr) f(slots_[i]->hash(), slots_[i]);
    }
  }

  // Removes every series for which pred(hash, series) is true; returns how many.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    std::vector<Series*> kept;
    size_t removed = 0;
    for (size_t i = 0; i < capacity(); ++i) {
      Series* s = slots_[i];
      if (s == nullptr) continue;
      if (pred(s->hash(), s)) {
        ++removed;
      } else {
        kept.push_back(s);
      }
    }
    if (removed == 0) return 0;
    slots_.reset();
    size_ = mask_ = 0;
    shift_ = 64;
    for (Series* s : kept) Insert(s->hash(), s);
    return removed;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return slots_ ? size_t{mask_} + 1 : 0; }
  size_t MemoryUsage() const { return capacity() * sizeof(Series*); }

 private:
  static constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio
  size_t Index(uint64_t key) const { return static_cast<size_t>((key * kMul) >> shift_); }

  void Place(Series* s) {
    size_t i = Index(s->hash());
    while (slots_[i] != nullptr) i = (i + 1) & mask_;
    slots_[i] = s;
  }

  void Grow() {
    const size_t old_cap = capacity();
    const size_t cap = old_cap == 0 ? 8 : old_cap * 2;
    std::unique_ptr<Series*[]> old = std::move(slots_);
    slots_ = std::make_unique<Series*[]>(cap);  // value-initialised: every slot empty
    mask_ = static_cast<uint32_t>(cap - 1);
    shift_ = static_cast<uint8_t>(64 - __builtin_ctzll(cap));
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i] != nullptr) Place(old[i]);
    }
  }

  std::unique_ptr<Series*[]> slots_;
  uint32_t size_ = 0;
  uint32_t mask_ = 0;
  uint8_t shift_ = 64;
};

template <typename Table>
class StripedMap {
 public:
  static constexpr int kStripeBits = 12;
  static constexpr size_t kStripes = size_t{1} << kStripeBits;

  struct alignas(64) Stripe {
    mutable SpinLock mu;
    Table table;
  };
  static_assert(sizeof(Stripe) == 64);

  StripedMap() : stripes_(std::make_unique<Stripe[]>(kStripes)) {
    if constexpr (std::is_same_v<Table, RefTable>) {
      static_assert(RefTable::kShift == kStripeBits);
      for (size_t i = 0; i < kStripes; ++i) stripes_[i].table.set_low_bits(static_cast<uint32_t>(i));
    }
  }

  Stripe& StripeOf(uint64_t key) { return stripes_[key & (kStripes - 1)]; }
  const Stripe& StripeOf(uint64_t key) const { return stripes_[key & (kStripes - 1)]; }

  // The first series under key (for the by-ref map: the series).
  Series* Find(uint64_t key) const {
    const Stripe& s = StripeOf(key);
    std::lock_guard<SpinLock> lock(s.mu);
    return s.table.Find(key);
  }
  void Insert(uint64_t key, Series* series) {
    Stripe& s = StripeOf(key);
    std::lock_guard<SpinLock> lock(s.mu);
    s.table.Insert(key, series);
  }

  // Calls f(key, series) for every entry, one stripe at a time under its lock. f must not take
  // a stripe lock of this map.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < kStripes; ++i) {
      std::lock_guard<SpinLock> lock(stripes_[i].mu);
      stripes_[i].table.ForEach(f);
    }
  }

  // Removes the entries under `key` whose series satisfies pred.
  template <typename Pred>
  size_t RemoveIf(uint64_t key, Pred&& pred) {
    Stripe& s = StripeOf(key);
    std::lock_guard<SpinLock> lock(s.mu);
    return s.table.RemoveIf([&](uint64_t k, Series* v) { return k == key && pred(v); });
  }
  // Removes every entry whose series satisfies pred (walks all stripes).
  template <typename Pred>
  size_t RemoveAllIf(Pred&& pred) {
    size_t n = 0;
    for (size_t i = 0; i < kStripes; ++i) {
      std::lock_guard<SpinLock> lock(stripes_[i].mu);
      n += stripes_[i].table.RemoveIf([&](uint64_t, Series* v) { return pred(v); });
    }
    return n;
  }

  size_t size() const {
    size_t n = 0;
    for (size_t i = 0; i < kStripes; ++i) {
      std::lock_guard<SpinLock> lock(stripes_[i].mu);
      n += stripes_[i].table.size();
    }
    return n;
  }

  size_t MemoryUsage() const {
    size_t n = kStripes * sizeof(Stripe);
    for (size_t i = 0; i < kStripes; ++i) {
      std::lock_guard<SpinLock> lock(stripes_[i].mu);
      if constexpr (std::is_same_v<Table, RefTable>) {
        n += stripes_[i].table.AllocatedBytes();
      } else {
        n += AllocSize(stripes_[i].table.MemoryUsage());
      }
    }
    return n;
  }

 private:
  std::unique_ptr<Stripe[]> stripes_;
};

// By label hash (owns the series; colliding hashes side by side) and by ref (dense refs).
using SeriesMap = StripedMap<SeriesHashTable>;
using RefMap = StripedMap<RefTable>;

}  // namespace vigil::storage::head
