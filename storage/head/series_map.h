#pragma once

// The head's two striped series maps: by SeriesRef and by label hash. Each is 4096 cache-line
// sized stripes (alignas(64): a spin lock and a FlatTable), so threads touching different series
// rarely share a lock or a cache line. Stripe locks are held only for a probe or an insert (never
// across another lock's wait; replay, single-threaded, is the exception), so a spin lock that
// yields is cheaper than a std::mutex here. The stripe of a ref is its low 12 bits (dense refs
// spread round-robin); the stripe of a label hash is its low 12 bits.
//
// Ownership: the by-hash map owns the series (each series is in it exactly once); the by-ref map
// may hold extra refs for one series when WAL replay met one label set under two refs.
// Thread safety: all methods are safe to call concurrently.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/head/flat_table.h"
#include "storage/head/series.h"
#include "storage/head/spin_lock.h"

namespace vigil::storage::head {

class SeriesMap {
 public:
  static constexpr int kStripeBits = 12;
  static constexpr size_t kStripes = size_t{1} << kStripeBits;

  struct alignas(64) Stripe {
    mutable SpinLock mu;
    FlatTable<Series*> table;
  };

  SeriesMap() : stripes_(std::make_unique<Stripe[]>(kStripes)) {}

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
      n += AllocSize(stripes_[i].table.MemoryUsage());
    }
    return n;
  }

 private:
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace vigil::storage::head
