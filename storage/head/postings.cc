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
    if (cap_ != 0) std::free(data_.heap);
    data_ = o.data_;
    size_ = o.size_;
    cap_ = o.cap_;
    wide_ = o.wide_;
    o.data_.heap = nullptr;
    o.size_ = 0;
    o.cap_ = 0;
    o.wide_ = 0;
  }
  return *this;
}

void RefList::Grow(size_t elem_size) {
  // A quarter more (at least 4), then whatever else fits in the malloc chunk of that size.
  const size_t want = std::max<size_t>(size_t{cap_} + cap_ / 4, 4);
  const size_t cap = (AllocSize(want * elem_size) - 8) / elem_size;
  if (cap > (size_t{1} << 31) - 1) throw std::length_error("postings list too long");
  void* p;
  if (cap_ == 0) {  // leaving the inline refs (narrow)
    p = std::malloc(cap * elem_size);
    if (p == nullptr) throw std::bad_alloc();
    std::memcpy(p, data_.inline_refs, size_t{size_} * sizeof(uint32_t));
  } else {
    p = std::realloc(data_.heap, cap * elem_size);
    if (p == nullptr) throw std::bad_alloc();
  }
  data_.heap = p;
  cap_ = static_cast<uint32_t>(cap);
}

void RefList::Widen() {
  const uint32_t* narrow = Data<uint32_t>();
  const size_t cap = std::max<size_t>(size_, 1);
  auto* wide = static_cast<uint64_t*>(std::malloc(cap * sizeof(uint64_t)));
  if (wide == nullptr) throw std::bad_alloc();
  std::copy(narrow, narrow + size_, wide);
  if (cap_ != 0) std::free(data_.heap);
  data_.heap = wide;
  cap_ = static_cast<uint32_t>(cap);
  wide_ = 1;
}

template <typename T>
void RefList::InsertAs(SeriesRef ref) {
  T* v = Data<T>();
  size_t pos = size_;
  if (size_ != 0 && v[size_ - 1] >= ref) {
    pos = std::lower_bound(v, v + size_, ref) - v;
    if (v[pos] == ref) return;
  }
  if (size_ == Capacity()) {
    Grow(sizeof(T));
    v = Data<T>();
  }
  std::memmove(v + pos + 1, v + pos, (size_ - pos) * sizeof(T));
  v[pos] = static_cast<T>(ref);
  ++size_;
}

void RefList::Insert(SeriesRef ref) {
  if (!wide_ && ref > std::numeric_limits<uint32_t>::max()) Widen();
  if (wide_) {
    InsertAs<uint64_t>(ref);
  } else {
    InsertAs<uint32_t>(ref);
  }
}

template <typename T>
void RefList::EraseAs(SeriesRef ref) {
  T* v = Data<T>();
  T* it = std::lower_bound(v, v + size_, ref);
  if (it == v + size_ || *it != ref) return;
  std::memmove(it, it + 1, (v + size_ - it - 1) * sizeof(T));
  --size_;
}

void RefList::Erase(SeriesRef ref) {
  if (wide_) {
    EraseAs<uint64_t>(ref);
  } else if (ref <= std::numeric_limits<uint32_t>::max()) {
    EraseAs<uint32_t>(ref);
  }
}

void RefList::AppendTo(std::vector<SeriesRef>* out) const {
  Visit([&](auto refs) { out->insert(out->end(), refs.begin(), refs.end()); });
}

size_t RefList::AllocatedBytes() const {
  return AllocSize(size_t{cap_} * (wide_ ? sizeof(uint64_t) : sizeof(uint32_t)));
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

void MemPostings::Add(SeriesRef ref, const InternedLabels& labels) {
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

void MemPostings::Remove(SeriesRef ref, const InternedLabels& labels) {
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
