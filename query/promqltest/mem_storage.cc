#include "query/promqltest/mem_storage.h"

#include <limits>

#include "storage/base/logging.h"

namespace vigil::query::promqltest {

MemStorage::MemStorage() { Clear(); }

MemStorage::~MemStorage() = default;

void MemStorage::Clear() {
  pending_.clear();
  appender_.reset();
  db_.reset();
  fs_ = NewMemFileSystem();
  storage::DbOptions options;
  options.fs = fs_.get();
  options.wal_sync = storage::WalSyncPolicy::kNever;
  // Scripts load series in any time order across `load` commands.
  options.out_of_order_window_ms = std::numeric_limits<int64_t>::max() / 4;
  // Scripts span days of data and may run longer than a compaction interval: no background flush
  // (which would refuse older `load`s after it) and no retention (which would drop old blocks).
  options.background_compaction = false;
  options.retention_ms = 0;
  auto db = storage::Db::Open(options, "/promqltest");
  VIGIL_CHECK(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  appender_ = db_->NewAppender();
}

void MemStorage::Add(const storage::Labels& labels, int64_t t, double v) {
  pending_[labels][t] = v;
}

Status MemStorage::Flush() {
  if (pending_.empty()) return Status::OK();
  auto pending = std::move(pending_);
  pending_.clear();
  for (const auto& [labels, samples] : pending) {
    for (const auto& [t, v] : samples) {
      if (auto r = appender_->Append(labels, t, v); !r.ok()) {
        appender_->Rollback();
        return r.status().WithContext("loading " + labels.ToString());
      }
    }
  }
  return appender_->Commit();
}

Result<std::unique_ptr<storage::Querier>> MemStorage::Querier(int64_t min_t, int64_t max_t) {
  VIGIL_RETURN_IF_ERROR(Flush());
  return db_->NewQuerier(min_t, max_t);
}

}  // namespace vigil::query::promqltest
