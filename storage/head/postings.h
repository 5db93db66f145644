#pragma once

// In-memory postings of the head: for every label pair (as symbol ids of the head's SymbolTable)
// the sorted refs of the series that carry it, a list of the pairs of each label name, and the
// all-postings list. Matchers are answered here before any block exists (README.md, "Postings").
//
// Thread safety: all methods are safe to call concurrently; one shared_mutex (exclusive for Add,
// shared for readers). Series creation is far rarer than sample appends, so one lock suffices.

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "storage/head/flat_table.h"
#include "storage/matcher.h"
#include "storage/series_ref.h"
#include "storage/symbol_table.h"

namespace vigil::storage::head {

class MemPostings {
 public:
  explicit MemPostings(const SymbolTable* symbols) : symbols_(symbols) {}

  // Adds ref to the all-postings list and to the list of each of its label pairs. Lists stay
  // sorted when refs arrive out of order (concurrent creators, replay); adding twice is a no-op.
  void Add(SeriesRef ref, const InternedLabels& labels);

  // Removes ref from the all-postings list and from the list of each of its label pairs (lists
  // left empty stay; they select nothing).
  void Remove(SeriesRef ref, const InternedLabels& labels);

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
        if (f(l.name, l.value, static_cast<const std::vector<SeriesRef>&>(l.refs))) break;
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
    std::vector<SeriesRef> refs;
  };
  using ListSet = std::vector<const std::vector<SeriesRef>*>;

  static uint64_t Key(uint32_t name, uint32_t value) { return uint64_t{name} << 32 | value; }
  // REQUIRES: mu_ held (shared). Appends to *out the lists of the values of m's label for which
  // m.Matches(value) == want_match. Values absent from the head contribute nothing.
  void ListsFor(const Matcher& m, bool want_match, ListSet* out) const;

  const SymbolTable* symbols_;
  mutable std::shared_mutex mu_;
  std::vector<SeriesRef> all_;
  std::vector<PairList> lists_;
  FlatTable<uint32_t> index_;  // Key(name, value) -> index in lists_ + 1
  std::unordered_map<uint32_t, std::vector<uint32_t>> names_;  // name id -> indexes in lists_
};

// Sorted-list helpers (exposed for tests).
std::vector<SeriesRef> UnionPostings(std::span<const std::vector<SeriesRef>* const> lists);
std::vector<SeriesRef> IntersectPostings(const std::vector<SeriesRef>& a,
                                         const std::vector<SeriesRef>& b);
std::vector<SeriesRef> SubtractPostings(const std::vector<SeriesRef>& a,
                                        const std::vector<SeriesRef>& b);

}  // namespace vigil::storage::head
