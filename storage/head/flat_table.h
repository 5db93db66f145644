#pragma once

// FlatTable: an open-addressing hash table from uint64 keys to small values (a pointer or an
// integer), used by the by-ref map for refs outside its array (series_map.h). Linear probing,
// load factor 3/8..3/4, 16 bytes per slot for pointer values. Equal keys may be inserted more than
// once; look-ups take a predicate to pick the right one. Removal (RemoveIf) rebuilds the table: it is rare (series garbage-collected after a
// flush to blocks) and keeps probing simple.
//
// Thread safety: none; callers hold the stripe's lock.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace vigil::storage::head {

// V{} marks an empty slot, so it must never be inserted (nullptr, or 0 for index+1 values).
template <typename V>
class FlatTable {
 public:
  struct Slot {
    uint64_t key;
    V value;
  };

  // The first value stored under `key` for which match(value) is true, or V{}.
  template <typename Match>
  V Find(uint64_t key, Match&& match) const {
    if (size_ == 0) return V{};
    for (size_t i = Index(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == V{}) return V{};
      if (s.key == key && match(s.value)) return s.value;
    }
  }
  V Find(uint64_t key) const {
    return Find(key, [](const V&) { return true; });
  }

  // REQUIRES: value != V{}.
  void Insert(uint64_t key, V value) {
    if ((size_ + 1) * 4 > capacity() * 3) Grow();
    Place(key, value);
    ++size_;
  }

  // Calls f(key, value) for every entry, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < capacity(); ++i) {
      if (!(slots_[i].value == V{})) f(slots_[i].key, slots_[i].value);
    }
  }

  // Removes every entry for which pred(key, value) is true; returns how many.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    size_t removed = 0;
    for (size_t i = 0; i < capacity(); ++i) {
      if (!(slots_[i].value == V{}) && pred(slots_[i].key, slots_[i].value)) ++removed;
    }
    if (removed == 0) return 0;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    const size_t old_cap = size_t{mask_} + 1;
    slots_.reset();
    size_ = 0;
    mask_ = 0;
    shift_ = 64;
    for (size_t i = 0; i < old_cap; ++i) {
      if (!(old[i].value == V{}) && !pred(old[i].key, old[i].value)) Insert(old[i].key, old[i].value);
    }
    return removed;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return slots_ ? size_t{mask_} + 1 : 0; }
  size_t MemoryUsage() const { return capacity() * sizeof(Slot); }

 private:
  static constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio
  size_t Index(uint64_t key) const { return static_cast<size_t>((key * kMul) >> shift_); }

  void Place(uint64_t key, V value) {
    size_t i = Index(key);
    while (!(slots_[i].value == V{})) i = (i + 1) & mask_;
    slots_[i] = Slot{key, value};
  }

  void Grow() {
    const size_t old_cap = capacity();
    const size_t cap = old_cap == 0 ? 8 : old_cap * 2;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_ = std::make_unique<Slot[]>(cap);  // value-initialised: every slot empty
    mask_ = static_cast<uint32_t>(cap - 1);
    shift_ = static_cast<uint8_t>(64 - __builtin_ctzll(cap));
    for (size_t i = 0; i < old_cap; ++i) {
      if (!(old[i].value == V{})) Place(old[i].key, old[i].value);
    }
  }

  std::unique_ptr<Slot[]> slots_;
  uint32_t size_ = 0;
  uint32_t mask_ = 0;
  uint8_t shift_ = 64;
};

}  // namespace vigil::storage::head
