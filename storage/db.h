#pragma once

// The public way into storage: Db::Open(options, dir). See storage/README.md for the lifecycle
// (WAL -> head -> blocks -> compaction -> retention) and the files a data directory holds.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/appender.h"
#include "storage/base/status.h"
#include "storage/matcher.h"
#include "storage/querier.h"

namespace vigil {
class Clock;
class FileSystem;
}  // namespace vigil

namespace vigil::storage {

enum class WalSyncPolicy : uint8_t {
  kAlways,    // fdatasync before Commit() returns: nothing acknowledged is ever lost
  kInterval,  // a background sync every wal_sync_interval_ms: a power loss loses at most that window
  kNever,     // the OS decides: a process crash loses nothing, a power loss may lose recent writes
};

struct DbOptions {
  // Not owned; must outlive the Db. nullptr means the POSIX file system / the system clock.
  FileSystem* fs = nullptr;
  Clock* clock = nullptr;

  WalSyncPolicy wal_sync = WalSyncPolicy::kInterval;
  int64_t wal_sync_interval_ms = 1000;
  uint64_t wal_segment_bytes = 128ull << 20;

  // Samples older than a series' newest sample are kept if within this window; 0 disables.
  int64_t out_of_order_window_ms = 60 * 60 * 1000;
  // Samples per head chunk before it is cut (Vigil targets 120; hard cap 240).
  uint32_t chunk_target_samples = 120;
  // Samples per chunk in blocks written by compaction (and compacted snapshots), at most 240.
  // Longer chunks amortise each chunk's header and give zstd pieces more series to find
  // repetition across: on the telemetry dataset's 6 h, 240 instead of 120 takes a compacted block
  // from 0.677 to 0.652 bytes/sample; a query then decodes up to 240 samples at each end of its
  // range instead of 120.
  uint32_t compacted_chunk_samples = 240;
  // Re-encode each head chunk with the adaptive encoder when it is cut (about half the memory of
  // Gorilla on real telemetry, at the cost of append and replay speed). Off keeps Gorilla chunks
  // in the head; blocks are always written with the adaptive encoder.
  bool head_adaptive_chunks = true;
  // Threads that apply WAL samples to the head on open (storage/head/replay_workers.h): 0 means
  // one per core (at most 8); 1 replays on the opening thread alone.
  int wal_replay_threads = 0;
  // See Db::LateWriteGeneration().
  int64_t late_write_ms = 5 * 60 * 1000;

  // --- Blocks, compaction, retention (storage/README.md, "Data directory" and "Lifecycle") ---

  // Range of a level-0 block (and the alignment of every block range). When the head spans more
  // than 1.5 x this, its oldest aligned range is written as a block and dropped from the head.
  // Head chunks are cut at multiples of it, so a chunk never straddles two blocks. Must be > 0.
  int64_t block_range_ms = 2 * 60 * 60 * 1000;
  // Time retention: a block is deleted once its whole range is older than the newest sample in
  // the database minus this. 0 keeps data forever. Compacted blocks grow to at most 10 % of it.
  int64_t retention_ms = int64_t{15} * 24 * 60 * 60 * 1000;
  // Size retention: while the blocks take more bytes than this, the oldest block is deleted.
  // 0 disables. Counts block files only (the WAL and the head are not deleted by retention).
  uint64_t retention_bytes = 0;
  // Runs head flushes, compaction and retention in a background thread every
  // compaction_interval_ms. Off: they run only when Compact() is called (tests, tools).
  bool background_compaction = true;
  int64_t compaction_interval_ms = 60 * 1000;
};

struct DbStats {
  uint64_t head_series = 0;
  uint64_t head_samples_appended = 0;
  uint64_t head_chunks = 0;
  uint64_t head_memory_bytes = 0;  // accounted bytes of series, chunks, labels and postings
  uint64_t out_of_order_samples = 0;
  uint64_t rejected_samples = 0;
  uint64_t wal_replayed_samples = 0;
  uint64_t wal_torn_bytes = 0;      // dropped at torn WAL tails on open (normal after a crash)
  std::string wal_corruption;       // non-empty if open found real corruption and cut the log there

  uint64_t blocks = 0;              // published blocks currently served
  uint64_t block_bytes = 0;         // bytes of their files
  uint64_t wal_bytes = 0;           // bytes of the WAL directory (segments and checkpoints)
  uint64_t bytes_on_disk = 0;       // block_bytes + wal_bytes
  uint64_t head_flushes = 0;        // blocks written from the head since open
  uint64_t compactions = 0;         // compacted blocks written since open
  uint64_t compaction_failures = 0; // failed head flushes / compactions (logged; retried later)
  uint64_t retention_deleted_blocks = 0;
  uint64_t head_series_removed = 0; // series garbage-collected from the head after a flush
  uint64_t tombstones = 0;          // block series with deleted ranges (head deletes are applied at once)
  uint64_t quarantined_blocks = 0;  // blocks moved to quarantine/ at open
  // WAL fsync latency since open: every segment sync (per commit under kAlways, the background
  // syncs of kInterval, rotation, deletes, close). wal_fsync_buckets[i] counts the syncs that took
  // at most wal_fsync_bucket_bounds[i] seconds and more than the bound before (non-cumulative);
  // its last entry, one past the bounds, counts the slower ones (+Inf).
  uint64_t wal_fsyncs = 0;
  double wal_fsync_seconds = 0;  // sum of their durations
  std::vector<double> wal_fsync_bucket_bounds;
  std::vector<uint64_t> wal_fsync_buckets;
  // One entry per block that failed its checks at open: "<block dir>: <error>".
  std::vector<std::string> block_errors;
};

// A published block, as Db::Blocks() lists it.
struct BlockInfo {
  std::string id;
  int64_t min_time = 0;  // inclusive, ms
  int64_t max_time = 0;  // exclusive, ms
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t bytes = 0;  // all files of the block directory
  int compaction_level = 1;
  std::vector<std::string> sources;  // ids of the blocks it was compacted from
};

// Thread safety: all methods are safe to call concurrently.
class Db {
 public:
  // Opens (creating if needed) the data directory `dir`, takes its lock (a second open of the same
  // directory, from this or another process, fails with Unavailable), and replays the WAL.
  static Result<std::unique_ptr<Db>> Open(const DbOptions& options, const std::string& dir);

  virtual ~Db() = default;

  virtual std::unique_ptr<Appender> NewAppender() = 0;
  // A read view of [min_t, max_t] in milliseconds, inclusive.
  virtual Result<std::unique_ptr<Querier>> NewQuerier(int64_t min_t, int64_t max_t) = 0;
  virtual DbStats Stats() const = 0;

  // Deletes the samples of the series selected by `matchers` (Prometheus semantics; at least one
  // matcher, InvalidArgument otherwise) with min_t <= t <= max_t. Durable when it returns (a WAL
  // tombstone record for the head's series, a rewritten tombstones file per affected block);
  // queriers created afterwards no longer see the samples. Compaction drops them from disk.
  virtual Status DeleteSeries(std::span<const Matcher> matchers, int64_t min_t, int64_t max_t) = 0;
  // Rewrites every block that has tombstones without the deleted samples (and drops the
  // tombstones), so the deleted data leaves the disk now instead of at the next compaction.
  virtual Status CleanTombstones() = 0;
  // Writes a consistent copy of the database into `dir` (created; must not exist or be empty):
  // every block copied, and the head's samples (tombstones applied) written as blocks, so that
  // Db::Open(dir) serves everything that was committed before the call. No WAL is copied.
  virtual Status Snapshot(const std::string& dir) = 0;
  // The same copy, settled: blocks and head merged and written anew as blocks of the largest
  // compaction range (chunks of compacted_chunk_samples), as compaction would leave them over
  // time; the live database is not changed. Rewrites everything: for backups that should be
  // small and for measuring settled bytes on disk.
  virtual Status SnapshotCompacted(const std::string& dir) = 0;
  // Persists the whole head as blocks, runs compaction until nothing is left to merge, and
  // applies retention. For tests, benchmarks and admin; normally the background thread does this
  // in smaller steps. Blocks appenders and queriers only for the instants it swaps block lists.
  virtual Status Compact() = 0;
  // The published blocks, oldest range first.
  virtual std::vector<BlockInfo> Blocks() const = 0;
  // Grows whenever data older than DbOptions::late_write_ms before the clock may have changed: a
  // commit holding such a sample (backfill, out of order, a late sender), a delete, blocks
  // removed by retention. Query result caches (server/api/range_cache.h) reuse answers for steps
  // older than that and drop them when this moves.
  virtual uint64_t LateWriteGeneration() const = 0;
  // Stops the background thread, flushes and syncs the WAL and releases the directory lock.
  // Called by the destructor if needed. Queriers must be destroyed before Close().
  virtual Status Close() = 0;
};

}  // namespace vigil::storage
