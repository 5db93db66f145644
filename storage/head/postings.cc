#include "storage/head/postings.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>

#include "storage/head/series.h"

namespace vigil::storage::head {
RefList& RefList::operator=(RefList&& o) noexcept {
  if (this != &o) {
    if (IsHeap()) std::free(heap());
    word_ = o.word_;
    o.word_ = 0;
  }
  return *this;
}

void RefList::Grow(size_t elem_size) {
  // A quarter more (at least 4), then whatever else fits in the malloc chunk of that size.
  Heap* h = heap();
  const size_t want = std::max<size_t>(size_t{h->cap} + h->cap / 4, 4);
  const size_t cap = (AllocSize(sizeof(Heap) + want * elem_size) - 8 - sizeof(Heap)) / elem_size;
  if (cap > (size_t{1} << 31) - 1) throw std::length_error("postings list too long");
  void* p = std::realloc(static_cast<void*>(h), sizeof(Heap) + cap * elem_size);
  if (p == nullptr) throw std::bad_alloc();
  h = static_cast<Heap*>(p);
  h->cap = static_cast<uint32_t>(cap);
  word_ = reinterpret_cast<uint64_t>(h);
}

void RefList::ToHeap(bool wide) {
  const size_t n = size();
  const SeriesRef refs[2] = {Inline(0), Inline(1)};
  const size_t elem = wide ? sizeof(uint64_t) : sizeof(uint32_t);
  const size_t cap = (AllocSize(sizeof(Heap) + 4 * elem) - 8 - sizeof(Heap)) / elem;
  auto* h = static_cast<Heap*>(std::malloc(sizeof(Heap) + cap * elem));
  if (h == nullptr) throw std::bad_alloc();
  h->size = static_cast<uint32_t>(n);
  h->cap = static_cast<uint32_t>(cap);
  h->wide = wide ? 1 : 0;
  for (size_t i = 0; i < n; ++i) {
    if (wide) {
      h->Refs<uint64_t>()[i] = refs[i];
    } else {
      h->Refs<uint32_t>()[i] = static_cast<uint32_t>(refs[i]);
    }
  }
  word_ = reinterpret_cast<uint64_t>(h);
}

void RefList::Widen() {
  Heap* h = heap();
  const size_t n = h->size;
  const size_t cap = std::max<size_t>(n, 1);
  auto* w = static_cast<Heap*>(std::malloc(sizeof(Heap) + cap * sizeof(uint64_t)));
  if (w == nullptr) throw std::bad_alloc();
  w->size = static_cast<uint32_t>(n);
  w->cap = static_cast<uint32_t>(cap);
  w->wide = 1;
  std::copy(h->Refs<uint32_t>(), h->Refs<uint32_t>() + n, w->Refs<uint64_t>());
  std::free(h);
  word_ = reinterpret_cast<uint64_t>(w);
}

template <typename T>
void RefList::InsertAs(SeriesRef ref) {
  Heap* h = heap();
  T* v = h->Refs<T>();
  size_t pos = h->size;
  if (h->size != 0 && v[h->size - 1] >= ref) {
    pos = std::lower_bound(v, v + h->size, ref) - v;
    if (v[pos] == ref) return;
  }
  if (h->size == h->cap) {
    Grow(sizeof(T));
    h = heap();
    v = h->Refs<T>();
  }
  std::memmove(v + pos + 1, v + pos, (h->size - pos) * sizeof(T));
  v[pos] = static_cast<T>(ref);
  ++h->size;
}

void RefList::Insert(SeriesRef ref) {
  if (!IsHeap()) {
    const size_t n = size();
    if (n == 0 && ref < kInlineLimit) {
      word_ = PackInline(ref, 0);
      return;
    }
    if (n == 1 && Inline(0) == ref) return;
    if (n == 1 && ref < kInlineLimit) {
      const SeriesRef a = Inline(0);
      word_ = a < ref ? PackInline(a, ref) : PackInline(ref, a);
      return;
    }
    if (n == 2 && (Inline(0) == ref || Inline(1) == ref)) return;
    ToHeap(ref > std::numeric_limits<uint32_t>::max());
  }
  if (!heap()->wide && ref > std::numeric_limits<uint32_t>::max()) Widen();
  if (heap()->wide) {
    InsertAs<uint64_t>(ref);
  } else {
    InsertAs<uint32_t>(ref);
  }
}

template <typename T>
void RefList::EraseAs(SeriesRef ref) {
  Heap* h = heap();
  T* v = h->Refs<T>();
  T* it = std::lower_bound(v, v + h->size, ref);
  if (it == v + h->size || *it != ref) return;
  std::memmove(it, it + 1, (v + h->size - it - 1) * sizeof(T));
  --h->size;
}

void RefList::Erase(SeriesRef ref) {
  if (!IsHeap()) {
    const size_t n = size();
    if (n >= 1 && Inline(0) == ref) {
      word_ = n == 2 ? PackInline(Inline(1), 0) : 0;
    } else if (n == 2 && Inline(1) == ref) {
      word_ = PackInline(Inline(0), 0);
    }
    return;
  }
  if (heap()->wide) {
    EraseAs<uint64_t>(ref);
  } else if (ref <= std::numeric_limits<uint32_t>::max()) {
    EraseAs<uint32_t>(ref);
  }
}

void RefList::AppendTo(std::vector<SeriesRef>* out) const {
  Visit([&](auto refs) { out->insert(out->end(), refs.begin(), refs.end()); });
}

size_t RefList::AllocatedBytes() const {
  if (!IsHeap()) return 0;
  const Heap* h = heap();
  return AllocSize(sizeof(Heap) + size_t{h->cap} * (h->wide ? sizeof(uint64_t) : sizeof(uint32_t)));
}

std::vector<SeriesRef> UnionPostings(std::span<const RefList* const> lists) {
  std::vector<SeriesRef> out;
  if (lists.empty()) return out;
  if (lists.size() == 1) {
    out.reserve(lists[0]->size());
    lists[0]->AppendTo(&out);
    return out;
  }
  if (lists.size() == 2) {
    out.reserve(lists[0]->size() + lists[1]->size());
    lists[0]->Visit([&](auto a) {
      lists[1]->Visit([&](auto b) {
        std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
      });
    });
    return out;
  }
  size_t total = 0;
  for (const auto* l : lists) total += l->size();
  out.reserve(total);
  for (const auto* l : lists) l->AppendTo(&out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<SeriesRef> IntersectPostings(const std::vector<SeriesRef>& a,
                                         const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<SeriesRef> SubtractPostings(const std::vector<SeriesRef>& a,
                                        const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

namespace {
// Fibonacci hashing of a pair key to a slot of a table of `mask + 1` (a power of two) slots.
inline size_t PairSlot(uint64_t key, uint32_t mask) {
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  return static_cast<size_t>(h) & mask;
}
}  // namespace

uint32_t MemPostings::FindPair(uint32_t name, uint32_t value) const {
  if (index_ == nullptr) return 0;
  for (size_t i = PairSlot(Key(name, value), index_mask_);; i = (i + 1) & index_mask_) {
    const uint32_t slot = index_[i];
    if (slot == 0) return 0;
    const PairList& l = lists_[slot - 1];
    if (l.name == name && l.value == value) return slot;
  }
}

void MemPostings::IndexLast() {
  const size_t n = lists_.size();
  const size_t cap = index_ == nullptr ? 0 : size_t{index_mask_} + 1;
  auto place = [this](uint32_t slot) {
    const PairList& l = lists_[slot - 1];
    size_t i = PairSlot(Key(l.name, l.value), index_mask_);
    while (index_[i] != 0) i = (i + 1) & index_mask_;
    index_[i] = slot;
  };
  if (n * 4 > cap * 3) {
    size_t new_cap = cap == 0 ? 16 : cap * 2;
    if (new_cap > (size_t{1} << 32)) throw std::length_error("postings: too many label pairs");
    index_ = std::make_unique<uint32_t[]>(new_cap);  // value-initialised: every slot empty
    index_mask_ = static_cast<uint32_t>(new_cap - 1);
    for (size_t i = 1; i < n; ++i) place(static_cast<uint32_t>(i));
  }
  place(static_cast<uint32_t>(n));
}

void MemPostings::Add(SeriesRef ref, LabelPairs labels) {
  std::unique_lock lock(mu_);
  all_.Insert(ref);
  for (const SymbolPair& p : labels.pairs()) {
    uint32_t idx = FindPair(p.name, p.value);
    if (idx == 0) {
      if (lists_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
        throw std::length_error("postings: too many label pairs");
      }
      lists_.push_back(PairList{p.name, p.value, {}});
      IndexLast();
      idx = static_cast<uint32_t>(lists_.size());
      names_[p.name].push_back(idx - 1);
    }
    lists_[idx - 1].refs.Insert(ref);
  }
}

void MemPostings::Remove(SeriesRef ref, LabelPairs labels) {
  std::unique_lock lock(mu_);
  all_.Erase(ref);
  for (const SymbolPair& p : labels.pairs()) {
    const uint32_t idx = FindPair(p.name, p.value);
    if (idx != 0) lists_[idx - 1].refs.Erase(ref);
  }
}

void MemPostings::ListsFor(const Matcher& m, bool want_match, ListSet* out) const {
  const std::optional<uint32_t> name = symbols_->Find(m.name());
  if (!name) return;
  auto add_value = [&](std::string_view v) {
    const std::optional<uint32_t> value = symbols_->Find(v);
    if (!value) return;
    const uint32_t idx = FindPair(*name, *value);
    if (idx != 0) out->push_back(&lists_[idx - 1].refs);
  };
  // Fast paths: the selected (or, for subtraction, the rejected) values are a known set.
  const bool literal_set = m.shape() == RegexShape::kLiteralSet;
  if (want_match &&
      (m.type() == MatchType::kEqual || (m.type() == MatchType::kRegexMatch && literal_set))) {
    if (m.type() == MatchType::kEqual) {
      add_value(m.value());
    } else {
      for (const std::string& v : m.SetMatches()) add_value(v);
    }
    return;
  }
  if (!want_match &&
      (m.type() == MatchType::kNotEqual || (m.type() == MatchType::kRegexNoMatch && literal_set))) {
    if (m.type() == MatchType::kNotEqual) {
      add_value(m.value());
    } else {
      for (const std::string& v : m.SetMatches()) add_value(v);
    }
    return;
  }
  // General case: run the matcher over every value of the label (prefix and `.+` shapes are
  // answered inside Matches() without the regex engine).
  auto it = names_.find(*name);
  if (it == names_.end()) return;
  for (uint32_t idx : it->second) {
    const PairList& l = lists_[idx];
    if (m.Matches(symbols_->Lookup(l.value)) == want_match) out->push_back(&l.refs);
  }
}

std::vector<SeriesRef> MemPostings::Select(std::span<const Matcher> matchers) const {
  std::shared_lock lock(mu_);
  std::optional<std::vector<SeriesRef>> result;
  ListSet lists;
  // Matchers that reject "" require the label: intersect the unions of their values' lists.
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    lists.clear();
    ListsFor(m, /*want_match=*/true, &lists);
    std::vector<SeriesRef> u = UnionPostings(lists);
    result = result ? IntersectPostings(*result, u) : std::move(u);
    if (result->empty()) return {};
  }
  if (!result) {
    result.emplace();
    result->reserve(all_.size());
    all_.AppendTo(&*result);
  }
  // Matchers that accept "" keep series without the label: subtract the series whose value
  // the matcher rejects.
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) continue;
    lists.clear();
    ListsFor(m, /*want_match=*/false, &lists);
    if (lists.empty()) continue;
    *result = SubtractPostings(*result, UnionPostings(lists));
    if (result->empty()) break;
  }
  return std::move(*result);
}

size_t MemPostings::MemoryUsage() const {
  std::shared_lock lock(mu_);
  size_t n = sizeof(*this) + all_.AllocatedBytes() +
             AllocSize(lists_.capacity() * sizeof(PairList)) +
             AllocSize(index_ == nullptr ? 0 : (size_t{index_mask_} + 1) * sizeof(uint32_t));
  for (const PairList& l : lists_) n += l.refs.AllocatedBytes();
  // unordered_map: one node per name (key, vector, next pointer, cached hash) plus the buckets.
  n += AllocSize(names_.bucket_count() * sizeof(void*));
  for (const auto& [name, idxs] : names_) {
    n += AllocSize(sizeof(void*) + sizeof(std::pair<const uint32_t, std::vector<uint32_t>>)) +
         AllocSize(idxs.capacity() * sizeof(uint32_t));
  }
  return n;
}

}  // namespace vigil::storage::head
