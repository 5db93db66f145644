#include "storage/head/postings.h"

#include <algorithm>
#include <iterator>
#include <mutex>

#include "storage/head/series.h"

namespace vigil::storage::head {
namespace {

void InsertSorted(std::vector<SeriesRef>* v, SeriesRef ref) {
  if (v->empty() || v->back() < ref) {
    v->push_back(ref);
    return;
  }
  auto it = std::lower_bound(v->begin(), v->end(), ref);
  if (it != v->end() && *it == ref) return;
  v->insert(it, ref);
}

}  // namespace

std::vector<SeriesRef> UnionPostings(std::span<const std::vector<SeriesRef>* const> lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  if (lists.size() == 2) {
    std::vector<SeriesRef> out;
    out.reserve(lists[0]->size() + lists[1]->size());
    std::set_union(lists[0]->begin(), lists[0]->end(), lists[1]->begin(), lists[1]->end(),
                   std::back_inserter(out));
    return out;
  }
  size_t total = 0;
  for (const auto* l : lists) total += l->size();
  std::vector<SeriesRef> out;
  out.reserve(total);
  for (const auto* l : lists) out.insert(out.end(), l->begin(), l->end());
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

void MemPostings::Add(SeriesRef ref, const InternedLabels& labels) {
  std::unique_lock lock(mu_);
  InsertSorted(&all_, ref);
  for (const SymbolPair& p : labels.pairs()) {
    const uint64_t key = Key(p.name, p.value);
    uint32_t idx = index_.Find(key);
    if (idx == 0) {
      lists_.push_back(PairList{p.name, p.value, {}});
      idx = static_cast<uint32_t>(lists_.size());
      index_.Insert(key, idx);
      names_[p.name].push_back(idx - 1);
    }
    InsertSorted(&lists_[idx - 1].refs, ref);
  }
}

void MemPostings::Remove(SeriesRef ref, const InternedLabels& labels) {
  std::unique_lock lock(mu_);
  auto erase = [ref](std::vector<SeriesRef>* list) {
    auto it = std::lower_bound(list->begin(), list->end(), ref);
    if (it != list->end() && *it == ref) list->erase(it);
  };
  erase(&all_);
  for (const SymbolPair& p : labels.pairs()) {
    const uint32_t idx = index_.Find(Key(p.name, p.value));
    if (idx != 0) erase(&lists_[idx - 1].refs);
  }
}

void MemPostings::ListsFor(const Matcher& m, bool want_match, ListSet* out) const {
  const std::optional<uint32_t> name = symbols_->Find(m.name());
  if (!name) return;
  auto add_value = [&](std::string_view v) {
    const std::optional<uint32_t> value = symbols_->Find(v);
    if (!value) return;
    const uint32_t idx = index_.Find(Key(*name, *value));
    if (idx != 0) out->push_back(&lists_[idx - 1].refs);
  };
  // Fast paths: the selected (or, for subtraction, the rejected) values are a known set.
  const bool literal_set = m.shape() == RegexShape::kLiteralSet;
  if (want_match && (m.type() == MatchType::kEqual ||
                     (m.type() == MatchType::kRegexMatch && literal_set))) {
    if (m.type() == MatchType::kEqual) {
      add_value(m.value());
    } else {
      for (const std::string& v : m.SetMatches()) add_value(v);
    }
    return;
  }
  if (!want_match && (m.type() == MatchType::kNotEqual ||
                      (m.type() == MatchType::kRegexNoMatch && literal_set))) {
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
  if (!result) result = all_;
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
  size_t n = sizeof(*this) + AllocSize(all_.capacity() * sizeof(SeriesRef)) +
             AllocSize(lists_.capacity() * sizeof(PairList)) + AllocSize(index_.MemoryUsage());
  for (const PairList& l : lists_) n += AllocSize(l.refs.capacity() * sizeof(SeriesRef));
  // unordered_map: one node per name (key, vector, next pointer, cached hash) plus the buckets.
  n += AllocSize(names_.bucket_count() * sizeof(void*));
  for (const auto& [name, idxs] : names_) {
    n += AllocSize(sizeof(void*) + sizeof(std::pair<const uint32_t, std::vector<uint32_t>>)) +
         AllocSize(idxs.capacity() * sizeof(uint32_t));
  }
  return n;
}

}  // namespace vigil::storage::head
