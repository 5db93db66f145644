#pragma once

// A minimal in-memory Queryable for the script runner and engine tests: series kept sorted by
// labels, samples sorted by time. Not for production use (Select scans every series).
// Thread safety: none while loading; concurrent queries are fine once loaded.

#include <map>
#include <memory>
#include <vector>

#include "query/engine.h"

namespace vigil::query::promqltest {

class MemStorage final : public Queryable {
 public:
  // Adds a sample; a repeated timestamp replaces the earlier value.
  void Add(const storage::Labels& labels, int64_t t, double v);
  void Clear() { series_.clear(); }
  size_t NumSeries() const { return series_.size(); }

  Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) override;

  struct Data {
    std::vector<int64_t> ts;
    std::vector<double> vs;
  };

 private:
  std::map<storage::Labels, Data> series_;
};

}  // namespace vigil::query::promqltest
