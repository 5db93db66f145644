// Matcher evaluation on postings (IndexReader::PostingsForMatchers).
//
// Every matcher falls in one of two cases (Prometheus semantics: a missing label is ""):
//   * it does not match "" (`a="x"`, `a!=""`, `a=~"x.+"`): a series must carry a value that
//     matches, so the matcher contributes the union of the postings of the matching values, which
//     is intersected with the others';
//   * it matches "" (`a=""`, `a!="x"`, `a=~"x|"`, `a!~"y"`): series without the label qualify, so
//     the matcher contributes the union of the postings of the values that do NOT match, which is
//     subtracted at the end.
// If no matcher is of the first kind, the start set is every series (ids are dense: 0..n-1).
// Value sets are found without a regex engine where the shape allows: `=`/literal sets by
// binary search, prefixes by a range scan, `.*`/`.+` as every value; Matcher::Matches() on the
// remaining value scans only runs RE2 for general regexes.

#include <algorithm>
#include <numeric>

#include "storage/block/index_reader.h"
#include "storage/block/postings.h"

namespace vigil::storage {

using namespace block;  // NOLINT: the format helpers

Status IndexReader::ValuesPostings(const Matcher& m, bool want, PostingsList* out) const {
  const Name* n = FindName(m.name());
  if (n == nullptr) return Status::OK();
  std::vector<PostingsList> lists;
  auto add = [&](uint32_t entry) -> Status {
    lists.emplace_back();
    return ReadPostings(entry, &lists.back());
  };
  auto lower = [&](std::string_view v) {
    uint32_t lo = n->table_begin, hi = n->table_end;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (TableValue(mid) < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
  auto add_literal = [&](std::string_view v) -> Status {
    const uint32_t e = lower(v);
    if (e < n->table_end && TableValue(e) == v) return add(e);
    return Status::OK();
  };

  // Whether the wanted values are those matching the pattern itself (for `=`/`=~`, want; for the
  // negated types, !want). Stored values are never empty.
  const bool pattern = m.IsNegative() ? !want : want;
  const bool plain = !m.IsRegex();
  const RegexShape shape = plain ? RegexShape::kLiteralSet : m.shape();
  if (pattern && plain) {
    VIGIL_RETURN_IF_ERROR(add_literal(m.value()));
  } else if (pattern && shape == RegexShape::kLiteralSet) {
    for (const std::string& v : m.SetMatches()) VIGIL_RETURN_IF_ERROR(add_literal(v));
  } else if (pattern && shape == RegexShape::kPrefix) {
    for (uint32_t e = lower(m.Prefix()); e < n->table_end && TableValue(e).starts_with(m.Prefix()); ++e) {
      VIGIL_RETURN_IF_ERROR(add(e));
    }
  } else if (shape == RegexShape::kAny || shape == RegexShape::kNonEmpty) {
    // Every stored value matches the pattern.
    if (pattern) {
      for (uint32_t e = n->table_begin; e < n->table_end; ++e) VIGIL_RETURN_IF_ERROR(add(e));
    }
  } else {
    for (uint32_t e = n->table_begin; e < n->table_end; ++e) {
      if (m.Matches(TableValue(e)) == want) VIGIL_RETURN_IF_ERROR(add(e));
    }
  }
  *out = UnionPostings(std::move(lists), num_series_);
  return Status::OK();
}

Result<PostingsList> IndexReader::PostingsForMatchers(std::span<const Matcher> matchers) const {
  std::vector<PostingsList> intersect;
  std::vector<PostingsList> subtract;
  for (const Matcher& m : matchers) {
    PostingsList list;
    if (!m.MatchesEmpty()) {
      VIGIL_RETURN_IF_ERROR(ValuesPostings(m, true, &list));
      if (list.empty()) return PostingsList();
      intersect.push_back(std::move(list));
    } else {
      VIGIL_RETURN_IF_ERROR(ValuesPostings(m, false, &list));
      if (!list.empty()) subtract.push_back(std::move(list));
    }
  }
  PostingsList result;
  if (intersect.empty()) {
    result.resize(num_series_);
    std::iota(result.begin(), result.end(), BlockSeriesId{0});
  } else {
    result = IntersectPostings(std::move(intersect));
  }
  if (!subtract.empty() && !result.empty()) {
    result = SubtractPostings(result, UnionPostings(std::move(subtract), num_series_));
  }
  return result;
}

}  // namespace vigil::storage
