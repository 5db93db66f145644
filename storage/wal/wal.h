#pragma once

// The write-ahead log writer. Layout, framing and record formats: storage/docs/format/wal.md.
//
//   auto wal = Wal::Open(fs, dir, WalOptions{});          // creates a new segment
//   std::string rec; EncodeSamples(samples, &rec);         // storage/wal/records.h
//   std::string_view batch[] = {series_rec, rec};
//   VIGIL_RETURN_IF_ERROR((*wal)->Log(batch));             // one atomic batch
//
// Replay with WalReader (storage/wal/reader.h) BEFORE opening the writer; fold old segments with
// Checkpoint() (storage/wal/checkpoint.h).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/base/status.h"

namespace vigil::storage::wal {

enum class SyncPolicy : uint8_t {
  // Log() returns after fdatasync: an acknowledged batch survives a power loss.
  kAlways,
  // A background thread syncs every `sync_interval` when something was written. A power loss loses
  // at most the batches acknowledged in the last sync_interval plus one fsync duration.
  kInterval,
  // Never synced except on rotation and Close(); the OS decides when data reaches the disk.
  kNever,
};

std::string_view SyncPolicyName(SyncPolicy policy);

struct WalOptions {
  // Segments are rotated before a batch that would push one past this size (a single batch larger
  // than this still goes into one segment).
  uint64_t segment_size = 128ull << 20;
  SyncPolicy sync_policy = SyncPolicy::kInterval;
  std::chrono::milliseconds sync_interval{1000};
  // For fsync durations; nullptr means SystemClock(). Not owned.
  Clock* clock = nullptr;
};

// Counters since Open(). All policies hand every batch to the OS before Log() returns, so a
// process crash (kill -9) loses no acknowledged batch; the policy only matters for power loss.
struct WalStats {
  uint64_t bytes_written = 0;  // framed bytes including segment headers and padding
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t fsyncs = 0;
  uint64_t fsync_nanos = 0;  // total time spent in fsync
  uint64_t segments_created = 0;
  uint64_t write_errors = 0;
};

// Upper bounds (inclusive, nanoseconds) of the fsync latency histogram's buckets; a last bucket
// counts the syncs slower than every bound (+Inf).
inline constexpr std::array<uint64_t, 17> kFsyncBucketNanos = {
    50'000,      100'000,     250'000,     500'000,       1'000'000,     2'500'000,
    5'000'000,   10'000'000,  25'000'000,  50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr size_t kFsyncBucketCount = kFsyncBucketNanos.size() + 1;

// Every segment fsync since Open() (data syncs: per batch under kAlways, the background syncs of
// kInterval, rotation, Sync() and Close()), failed ones included. Buckets are non-cumulative.
struct FsyncHistogram {
  uint64_t count = 0;
  uint64_t sum_nanos = 0;
  std::array<uint64_t, kFsyncBucketCount> buckets{};
};

// Thread safety: all methods may be called from any number of threads; Log() calls are serialised
// by one mutex (and fsync runs under it), so batches appear in the log in the order their Log()
// calls took the mutex.
class Wal {
 public:
  // Creates `dir` if needed and starts a new segment numbered after every existing segment and
  // checkpoint: a writer never appends to a segment of an earlier run.
  // `fs` is not owned and must outlive the Wal.
  static Result<std::unique_ptr<Wal>> Open(FileSystem* fs, std::string dir, WalOptions options);

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;
  // Close()s; an error is logged.
  ~Wal();

  // Appends one batch: after a crash, replay yields either every record of the batch or none.
  // Returns after the batch is handed to the OS (and synced under kAlways). Records must be
  // non-empty (InvalidArgument otherwise); an empty batch is a no-op.
  // After a write or sync error the current segment is abandoned: the next Log() starts a new
  // segment (a torn tail in the abandoned one is tolerated by replay).
  Status Log(std::span<const std::string_view> records);
  Status Log(std::string_view record) { return Log(std::span<const std::string_view>(&record, 1)); }

  // Makes everything logged so far durable.
  Status Sync();

  // Closes the current segment and starts the next one; returns the new segment's index. The head
  // calls this before checkpointing so that all older segments are closed.
  Result<uint64_t> NextSegment();

  // Syncs and closes; the background sync thread stops. Further Log() calls fail. Idempotent.
  Status Close();

  // Index of the segment currently written.
  uint64_t LastSegment() const;

  WalStats stats() const;
  // Lock-free (relaxed atomics): never waits for a Log() or an fsync in progress, so a scrape
  // is cheap. The fields are read one by one and may be off by the sync that is being recorded.
  FsyncHistogram fsync_histogram() const;
  FileSystem* fs() const { return fs_; }
  const std::string& dir() const { return dir_; }

 private:
  Wal(FileSystem* fs, std::string dir, WalOptions options);

  // REQUIRES: mu_ held.
  Status StartSegmentLocked(uint64_t index, bool session_start);
  Status SyncLocked();
  Status CloseSegmentLocked();
  void AbandonSegmentLocked();
  void SyncLoop();

  FileSystem* const fs_;
  const std::string dir_;
  const WalOptions options_;
  Clock* const clock_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::unique_ptr<WritableFile> file_;  // current segment; null after an error or Close()
  uint64_t segment_ = 0;
  uint64_t segment_offset_ = 0;  // bytes in the current segment
  bool dirty_ = false;           // written since the last sync
  bool closed_ = false;
  bool stopping_ = false;
  std::string entry_;  // scratch: the batch being built
  std::string framed_;  // scratch: its fragments
  WalStats stats_;
  // Written under mu_ (in SyncLocked), read without it by fsync_histogram().
  std::array<std::atomic<uint64_t>, kFsyncBucketCount> fsync_buckets_{};
  std::atomic<uint64_t> fsync_count_{0};
  std::atomic<uint64_t> fsync_sum_nanos_{0};
  std::thread sync_thread_;
};

}  // namespace vigil::storage::wal
