#pragma once

// The store behind the script runner and the engine tests: Vigil's real storage engine (a Db with
// its WAL and head) over an in-memory file system, so every script exercises the same append and
// select paths that vigild serves. Samples are buffered and committed before the next query.
// Thread safety: none while loading; queries run after loading.

#include <map>
#include <memory>

#include "query/engine.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"

namespace vigil::query::promqltest {

class MemStorage final : public Queryable {
 public:
  MemStorage();
  ~MemStorage() override;

  // Adds a sample. Until the next query, a repeated (series, timestamp) replaces the earlier value,
  // as a script's later line overrides an earlier one. Against committed data, a repeated
  // timestamp with another value is the storage's AlreadyExists error (returned by the query).
  // Loads may go back in time without limit.
  void Add(const storage::Labels& labels, int64_t t, double v);
  // Drops every series (a fresh, empty database).
  void Clear();

  Result<std::unique_ptr<storage::Querier>> Querier(int64_t min_t, int64_t max_t) override;

 private:
  Status Flush();

  std::unique_ptr<MemFileSystem> fs_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::Appender> appender_;
  std::map<storage::Labels, std::map<int64_t, double>> pending_;
};

}  // namespace vigil::query::promqltest
