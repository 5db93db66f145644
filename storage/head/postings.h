#pragma once

// In-memory postings of the head: for every label pair (as symbol ids of the head's SymbolTable)
// the sorted refs of the series that carry it, a list of the pairs of each label name, and the
// all-postings list. Matchers are answered here before any block exists (README.md, "Postings").
//
// Thread safety: all methods are safe to call concurrently; one shared_mutex (exclusive for Add,
// shared for readers). Series creation is far rarer than sample appends, so one lock suffices.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "storage/matcher.h"
#include "storage/series_ref.h"
#include "storage/symbol_table.h"

namespace vigil::storage::head {

// A sorted list of distinct series refs in 8 bytes plus one allocation. Refs take 4 bytes each
// while every ref of the list fits in 32 bits (refs are dense from 1, so in practice always); the
// first larger ref widens the list in place to 8 bytes per ref. Up to two refs below 2^31 live
// inside the object itself (no allocation): a label value carried by one series (an instance, a
// pod) costs no list. Otherwise the object is a pointer to [size][capacity, width][refs...].
// Capacity grows by a quarter (and fills the malloc chunk it gets), not by doubling: a list of every
// series wastes at most a fifth of its size. Thread safety: none (MemPostings' lock).
class RefList {
 public:
  class Iterator {
   public:
    using value_type = SeriesRef;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const RefList* list, size_t i) : list_(list), i_(i) {}
    SeriesRef operator*() const { return (*list_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const RefList* list_ = nullptr;
    size_t i_ = 0;
  };

  RefList() = default;
  ~RefList() {
    if (IsHeap()) std::free(heap());
  }
  RefList(RefList&& o) noexcept : word_(o.word_) { o.word_ = 0; }
  RefList& operator=(RefList&& o) noexcept;
  RefList(const RefList&) = delete;
  RefList& operator=(const RefList&) = delete;

  size_t size() const {
    if (IsHeap()) return heap()->size;
    return word_ == 0 ? 0 : (word_ >> 32) != 0 ? 2 : 1;
  }
  bool empty() const { return word_ == 0 || size() == 0; }
  SeriesRef operator[](size_t i) const {
    if (!IsHeap()) return Inline(i);
    const Heap* h = heap();
    return h->wide ? h->Refs<uint64_t>()[i] : h->Refs<uint32_t>()[i];
  }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

  // Calls f with the refs as a sorted std::span of uint32_t or of uint64_t, valid during the call.
  template <typename F>
  decltype(auto) Visit(F&& f) const {
    if (!IsHeap()) {
      const uint32_t refs[2] = {static_cast<uint32_t>(Inline(0)), static_cast<uint32_t>(Inline(1))};
      return f(std::span<const uint32_t>(refs, size()));
    }
    const Heap* h = heap();
    if (h->wide) return f(std::span<const uint64_t>(h->Refs<uint64_t>(), h->size));
    return f(std::span<const uint32_t>(h->Refs<uint32_t>(), h->size));
  }

  // Inserts ref in order; a no-op if present.
  void Insert(SeriesRef ref);
  // Removes ref if present (the capacity stays).
  void Erase(SeriesRef ref);
  void AppendTo(std::vector<SeriesRef>* out) const;
  // Bytes malloc takes for the refs (AllocSize of the block; 0 for inline refs).
  size_t AllocatedBytes() const;

 private:
  // The heap block: 8-byte header, then cap refs (uint32_t or uint64_t).
  struct Heap {
    uint32_t size;
    uint32_t cap : 31;
    uint32_t wide : 1;  // refs are uint64_t (else uint32_t)
    template <typename T>
    T* Refs() {
      return reinterpret_cast<T*>(this + 1);
    }
    template <typename T>
    const T* Refs() const {
      return reinterpret_cast<const T*>(this + 1);
    }
  };
  static_assert(sizeof(Heap) == 8);
  static constexpr SeriesRef kInlineLimit = SeriesRef{1} << 31;

  // word_: 0 (empty), or odd: inline refs (bit 0 set, the first ref in bits 1..31, the second, 0
  // if none, in bits 32..62), or even: a Heap* (malloc's alignment keeps bit 0 clear).
  bool IsHeap() const { return word_ != 0 && (word_ & 1) == 0; }
  Heap* heap() const { return reinterpret_cast<Heap*>(word_); }
  SeriesRef Inline(size_t i) const { return i == 0 ? (word_ >> 1) & 0x7fffffff : word_ >> 32; }
  static uint64_t PackInline(SeriesRef a, SeriesRef b) { return 1 | a << 1 | b << 32; }
  // Moves the inline refs to a heap block (narrow, or wide if `wide`).
  void ToHeap(bool wide);

  template <typename T>
  void InsertAs(SeriesRef ref);
  template <typename T>
  void EraseAs(SeriesRef ref);
  // Makes room for at least one more ref of elem_size bytes.
  void Grow(size_t elem_size);
  void Widen();

  uint64_t word_ = 0;
};
static_assert(sizeof(RefList) == 8);

class MemPostings {
 public:
  explicit MemPostings(const SymbolTable* symbols) : symbols_(symbols) {}

  // Adds ref to the all-postings list and to the list of each of its label pairs. Lists stay
  // sorted when refs arrive out of order (concurrent creators, replay); adding twice is a no-op.
  void Add(SeriesRef ref, LabelPairs labels);
  void Add(SeriesRef ref, const InternedLabels& labels) { Add(ref, labels.view()); }

  // Removes ref from the all-postings list and from the list of each of its label pairs (lists
  // left empty stay; they select nothing).
  void Remove(SeriesRef ref, LabelPairs labels);
  void Remove(SeriesRef ref, const InternedLabels& labels) { Remove(ref, labels.view()); }

  // Sorted refs of the series that every matcher selects, Prometheus semantics (a missing label
  // equals ""); all series when `matchers` is empty or every matcher matches "".
  std::vector<SeriesRef> Select(std::span<const Matcher> matchers) const;

  // Calls f(name_id, value_id, refs) for the label pairs of one name (name_id set) or of all
  // names, under the shared lock, grouped by name. f returns true to skip the rest of the name's
  // values. f must not call back into the postings.
  template <typename F>
  void VisitPairs(std::optional<uint32_t> name_id, F&& f) const {
    std::shared_lock lock(mu_);
    auto visit = [&](const std::vector<uint32_t>& lists) {
      for (uint32_t idx : lists) {
        const PairList& l = lists_[idx];
        if (f(l.name, l.value, static_cast<const RefList&>(l.refs))) break;
      }
    };
    if (name_id) {
      auto it = names_.find(*name_id);
      if (it != names_.end()) visit(it->second);
      return;
    }
    for (const auto& [name, lists] : names_) visit(lists);
  }

  size_t MemoryUsage() const;

 private:
  struct PairList {
    uint32_t name;
    uint32_t value;
    RefList refs;
  };
  static_assert(sizeof(PairList) == 16);
  using ListSet = std::vector<const RefList*>;

  static uint64_t Key(uint32_t name, uint32_t value) { return uint64_t{name} << 32 | value; }
  // REQUIRES: mu_ held. Index in lists_ + 1 of the pair's list, or 0.
  uint32_t FindPair(uint32_t name, uint32_t value) const;
  // REQUIRES: mu_ held exclusively; lists_.back() is the pair's new list (not yet indexed).
  void IndexLast();
  // REQUIRES: mu_ held (shared). Appends to *out the lists of the values of m's label for which
  // m.Matches(value) == want_match. Values absent from the head contribute nothing.
  void ListsFor(const Matcher& m, bool want_match, ListSet* out) const;

  const SymbolTable* symbols_;
  mutable std::shared_mutex mu_;
  RefList all_;
  std::vector<PairList> lists_;
  // The pair -> list index: open addressing over 4-byte slots (index in lists_ + 1, 0 empty),
  // linear probing from the hash of Key(name, value), load 3/8..3/4; a probe compares the pair of
  // lists_[slot - 1], so no key is stored (a 64-bit key beside each index would cost 16-byte slots:
  // 67 of the 1 M-series highcard head's 534 bytes per series). Lists are never removed, so every
  // list is in it once and its size is lists_.size().
  std::unique_ptr<uint32_t[]> index_;
  uint32_t index_mask_ = 0;  // capacity - 1; capacity 0 while index_ is null
  std::unordered_map<uint32_t, std::vector<uint32_t>> names_;  // name id -> indexes in lists_
};

// Sorted-list helpers (exposed for tests).
std::vector<SeriesRef> UnionPostings(std::span<const RefList* const> lists);
std::vector<SeriesRef> IntersectPostings(const std::vector<SeriesRef>& a,
                                         const std::vector<SeriesRef>& b);
std::vector<SeriesRef> SubtractPostings(const std::vector<SeriesRef>& a,
                                        const std::vector<SeriesRef>& b);

}  // namespace vigil::storage::head
