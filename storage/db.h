#pragma once

// The public way into storage: Db::Open(options, dir). See storage/README.md for the lifecycle
// (WAL -> head -> blocks -> compaction -> retention) and the files a data directory holds.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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
  // Re-encode each head chunk with the adaptive encoder when it is cut (about half the memory of
  // Gorilla on real telemetry, at the cost of append and replay speed). Off keeps Gorilla chunks
  // in the head; blocks are always written with the adaptive encoder.
  bool head_adaptive_chunks = true;
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
  // Flushes and syncs the WAL and releases the directory lock. Called by the destructor if needed.
  virtual Status Close() = 0;
};

}  // namespace vigil::storage
