#pragma once

// Helpers for the Db lifecycle tests: read everything a Db serves, and a simple in-memory model
// (labels -> timestamp -> value bits) to compare it with.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "storage/db.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::storage::testing {

using SeriesData = std::map<int64_t, uint64_t>;         // t -> value bits
using DbContent = std::map<std::string, SeriesData>;  // labels.ToString() -> samples

inline uint64_t BitsOf(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

inline std::vector<Matcher> NameMatcher(const std::string& name) {
  std::vector<Matcher> ms;
  ms.push_back(Matcher::Make(MatchType::kRegexMatch, "__name__", name).value());
  return ms;
}

// Everything `db` returns for series whose name matches `name_regex` in [min_t, max_t], checking
// that series come sorted by labels and samples strictly increasing in time.
inline DbContent ReadAll(Db& db, const std::string& name_regex = ".+", int64_t min_t = INT64_MIN,
                         int64_t max_t = INT64_MAX) {
  auto q = db.NewQuerier(min_t, max_t);
  REQUIRE(q.ok());
  auto ms = NameMatcher(name_regex);
  auto set = (*q)->Select(ms);
  DbContent out;
  Labels prev;
  bool first = true;
  while (set->Next()) {
    if (!first) CHECK(prev < set->labels());
    first = false;
    prev = set->labels();
    auto it = set->Samples();
    int64_t ts[37];
    double vs[37];
    SeriesData& d = out[set->labels().ToString()];
    int64_t last = INT64_MIN;
    bool any = false;
    while (size_t n = it->Next(ts, vs)) {
      for (size_t i = 0; i < n; ++i) {
        if (any) CHECK(ts[i] > last);
        any = true;
        last = ts[i];
        d[ts[i]] = BitsOf(vs[i]);
      }
    }
    REQUIRE(it->status().ok());
    if (d.empty()) out.erase(set->labels().ToString());
  }
  REQUIRE(set->status().ok());
  return out;
}

// The model: what a Db must return.
class Model {
 public:
  void Add(const Labels& ls, int64_t t, double v) { data_[ls.ToString()][t] = BitsOf(v); }
  void Delete(const std::string& labels_str, int64_t min_t, int64_t max_t) {
    auto it = data_.find(labels_str);
    if (it == data_.end()) return;
    it->second.erase(it->second.lower_bound(min_t), it->second.upper_bound(max_t));
    if (it->second.empty()) data_.erase(it);
  }
  bool Has(const Labels& ls, int64_t t) const {
    auto it = data_.find(ls.ToString());
    return it != data_.end() && it->second.contains(t);
  }
  DbContent Range(int64_t min_t, int64_t max_t) const {
    DbContent out;
    for (const auto& [k, d] : data_) {
      SeriesData r(d.lower_bound(min_t), d.upper_bound(max_t));
      if (!r.empty()) out[k] = std::move(r);
    }
    return out;
  }
  const DbContent& all() const { return data_; }

 private:
  DbContent data_;
};

// A readable first difference between two contents, for failure messages.
inline std::string FirstDifference(const DbContent& want, const DbContent& got) {
  for (const auto& [k, d] : want) {
    auto it = got.find(k);
    if (it == got.end()) return "missing series " + k + " (" + std::to_string(d.size()) + " samples)";
    for (const auto& [t, v] : d) {
      auto s = it->second.find(t);
      if (s == it->second.end()) return k + ": missing sample at " + std::to_string(t);
      if (s->second != v) return k + ": wrong value at " + std::to_string(t);
    }
    for (const auto& [t, v] : it->second) {
      if (!d.contains(t)) return k + ": extra sample at " + std::to_string(t);
    }
  }
  for (const auto& [k, d] : got) {
    if (!want.contains(k)) return "extra series " + k;
  }
  return "";
}

}  // namespace vigil::storage::testing
