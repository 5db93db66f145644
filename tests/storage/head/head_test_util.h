#pragma once

// Helpers for the head tests: read everything a querier returns, build matchers and labels.

#include <bit>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/head/head.h"
#include "storage/matcher.h"

namespace vigil::storage::testing {

struct SeriesData {
  std::string labels;  // Labels::ToString()
  std::vector<int64_t> ts;
  std::vector<uint64_t> bits;  // value bit patterns, so that NaN payloads compare exactly
};

inline std::vector<SeriesData> ReadAll(Querier& q, const std::vector<Matcher>& ms,
                                       size_t batch = 1024) {
  std::vector<SeriesData> out;
  auto set = q.Select(ms);
  std::vector<int64_t> ts(batch);
  std::vector<double> vs(batch);
  while (set->Next()) {
    SeriesData d;
    d.labels = set->labels().ToString();
    auto it = set->Samples();
    for (size_t n; (n = it->Next(ts, vs)) != 0;) {
      for (size_t i = 0; i < n; ++i) {
        d.ts.push_back(ts[i]);
        d.bits.push_back(std::bit_cast<uint64_t>(vs[i]));
      }
    }
    REQUIRE(it->status().ok());
    out.push_back(std::move(d));
  }
  REQUIRE(set->status().ok());
  return out;
}

inline std::vector<SeriesData> ReadAll(Head& head, const std::vector<Matcher>& ms,
                                       int64_t min_t = INT64_MIN, int64_t max_t = INT64_MAX) {
  auto q = head.NewQuerier(min_t, max_t);
  return ReadAll(*q, ms);
}

inline Matcher M(MatchType type, std::string_view name, std::string_view value) {
  auto m = Matcher::Make(type, name, value);
  REQUIRE(m.ok());
  return *m;
}
inline Matcher Eq(std::string_view name, std::string_view value) {
  return M(MatchType::kEqual, name, value);
}

inline Labels L(std::initializer_list<Label> pairs) { return Labels::FromPairs(pairs); }

inline std::vector<std::string> Names(const std::vector<SeriesData>& d) {
  std::vector<std::string> out;
  for (const auto& s : d) out.push_back(s.labels);
  return out;
}

inline uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

}  // namespace vigil::storage::testing
