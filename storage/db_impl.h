#pragma once

// The Db implementation (internal): db.cc opens, replays, serves queriers and stats;
// db_lifecycle.cc flushes the head to blocks, compacts, applies retention and deletes, snapshots
// and runs the background thread. storage/README.md describes the lifecycle.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/compact/block_set.h"
#include "storage/db.h"
#include "storage/head/head.h"
#include "storage/wal/wal.h"

namespace vigil::storage {

class DbImpl final : public Db {
 public:
  DbImpl(const DbOptions& options, std::string dir);
  ~DbImpl() override;

  Status OpenImpl();

  std::unique_ptr<Appender> NewAppender() override { return head_->NewAppender(wal_.get()); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t min_t, int64_t max_t) override;
  DbStats Stats() const override;
  Status DeleteSeries(std::span<const Matcher> matchers, int64_t min_t, int64_t max_t) override;
  Status CleanTombstones() override;
  Status Snapshot(const std::string& dir) override;
  Status SnapshotCompacted(const std::string& dir) override;
  Status Compact() override;
  std::vector<BlockInfo> Blocks() const override;
  uint64_t LateWriteGeneration() const override {
    return head_->LateWrites() + retention_deleted_.load(std::memory_order_acquire) +
           block_deletes_.load(std::memory_order_acquire);
  }
  Status Close() override;

 private:
  // --- db.cc ---
  Status RemoveLeftovers();
  Status ReplayWal(const std::string& wal_dir);
  BlockList CurrentBlocks() const;

  // --- db_lifecycle.cc; all REQUIRE lifecycle_mu_ held. ---
  // One round of background work: flush the head while it spans more than 1.5 block ranges
  // (everything with `force`), compact until no plan is left, apply retention.
  Status RunCycle(bool force);
  Status FlushHead(bool all);
  // Drops the flushed range from the head and checkpoints the WAL once every querier older than
  // the new blocks is gone; waits at most wait_ms for them (the rest is done by a later call).
  Status FinishTruncation(int64_t wait_ms);
  // One compaction step; *did tells whether a plan was found.
  Status CompactOnce(bool force, bool* did);
  Status ApplyRetention();
  // Publishes the blocks of `metas` (written into dir_) and drops `replaced` from the list.
  Status PublishBlocks(const std::vector<BlockMeta>& metas, const BlockList& replaced);
  void BackgroundLoop();

  const DbOptions options_;
  FileSystem* const fs_;
  Clock* const clock_;
  const std::string dir_;

  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<Head> head_;
  std::unique_ptr<wal::Wal> wal_;
  uint64_t replayed_samples_ = 0;
  uint64_t torn_bytes_ = 0;
  std::string wal_corruption_;

  // The served blocks, sorted by (min_time, id). Readers copy the list under the mutex.
  mutable std::mutex blocks_mu_;
  BlockList blocks_;
  std::vector<std::string> block_errors_;  // set at open
  uint64_t quarantined_ = 0;

  // Serialises flushes, compactions, retention, deletes, CleanTombstones and snapshots.
  std::mutex lifecycle_mu_;
  struct PendingTruncation {
    int64_t before = 0;             // drop head samples older than this
    std::optional<uint64_t> wal_to;  // then checkpoint WAL segments up to this one
    uint64_t reader_epoch = 0;
  };
  std::optional<PendingTruncation> pending_;  // guarded by lifecycle_mu_

  std::atomic<uint64_t> head_flushes_{0};
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> compaction_failures_{0};
  std::atomic<uint64_t> retention_deleted_{0};
  std::atomic<uint64_t> block_deletes_{0};  // DeleteSeries calls, counted once blocks are updated

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;  // guarded by bg_mu_
  std::atomic<bool> stopping_{false};
  std::thread bg_thread_;

  std::mutex close_mu_;
  bool closed_ = false;
};

}  // namespace vigil::storage
