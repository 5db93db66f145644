#pragma once

// The in-memory head of the storage engine: every committed sample lives here until it is written
// to a block. Design, locking, memory accounting and the commit protocol: storage/head/README.md.
//
//   Head head(HeadOptions{});
//   auto app = head.NewAppender(wal);            // wal may be nullptr
//   auto ref = app->Append(labels, t, v);         // -> SeriesRef for AppendByRef next time
//   VIGIL_RETURN_IF_ERROR(app->Commit());         // WAL first, then visible
//   auto q = head.NewQuerier(min_t, max_t);

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "storage/appender.h"
#include "storage/base/status.h"
#include "storage/labels.h"
#include "storage/querier.h"
#include "storage/series_ref.h"
#include "storage/wal/records.h"

namespace vigil {
class Clock;
}  // namespace vigil

namespace vigil::storage {

namespace wal {
class Wal;
}  // namespace wal

namespace head {
struct HeadState;
}  // namespace head

struct HeadOptions {
  // Samples older than their series' newest sample are kept if at most this much older (inclusive);
  // 0 disables out-of-order samples.
  int64_t out_of_order_window_ms = 3600000;
  // A chunk is cut when it holds this many samples (clamped to [1, 240]; 0 means 120), and when a
  // sample crosses a 2 h aligned boundary.
  uint32_t chunk_target_samples = 120;
  // Not owned. nullptr = SystemClock(). Reserved for time-based head truncation (not used yet).
  Clock* clock = nullptr;
  // Re-encode chunks with the adaptive compression::EncodeChunk when they are cut (smaller, costs
  // CPU on the append path); false keeps the Gorilla bytes of the open chunk.
  bool adaptive_closed_chunks = true;
  // Chunks are cut where a sample crosses a multiple of this (the Db's level-0 block range), so a
  // chunk never straddles two blocks.
  int64_t chunk_range_ms = 2 * 60 * 60 * 1000;
  // A commit holding a sample older than (clock now - late_write_ms) bumps LateWrites(): result
  // caches reuse answers for steps older than that and must drop them when it moves.
  int64_t late_write_ms = 5 * 60 * 1000;
  // Test hook: replaces Labels::Hash() as the series identity hash (e.g. to force collisions).
  uint64_t (*label_hash_for_testing)(const Labels&) = nullptr;
};

struct HeadStats {
  uint64_t series = 0;
  uint64_t samples_appended = 0;  // accepted samples (in order + out of order), replay included
  uint64_t chunks = 0;            // closed, open and out-of-order chunks
  uint64_t memory_bytes = 0;      // series, chunks, labels, symbols, postings, maps (malloc sizes)
  uint64_t out_of_order_samples = 0;
  uint64_t rejected_samples = 0;  // invalid at commit or replay (raced out of the window, conflicts)
  uint64_t series_removed = 0;    // garbage-collected after a truncation left them empty
  int64_t min_time = INT64_MAX;   // oldest / newest sample timestamp; MAX / MIN when empty
  int64_t max_time = INT64_MIN;
};

// Thread safety: every method may be called concurrently, except the Replay* methods, which run
// single-threaded before any appender exists. Stats() walks every series (O(series)).
class Head {
 public:
  explicit Head(HeadOptions options);
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // wal may be nullptr (then nothing is durable: tests, benchmarks). Not owned; it must outlive
  // the appender. The appender must not outlive the head.
  std::unique_ptr<Appender> NewAppender(wal::Wal* wal);
  // A querier over [min_t, max_t] (inclusive). It must not outlive the head.
  std::unique_ptr<Querier> NewQuerier(int64_t min_t, int64_t max_t);

  // WAL replay, single-threaded, before any appender exists. Series records re-create series with
  // their original refs (the next new ref continues after the max seen); a label set seen again
  // under another ref makes that ref an alias of the same series; a ref seen again with other
  // labels is Corruption. Samples for unknown refs are counted and skipped; duplicates are
  // idempotent. Out-of-order rules apply as on the live path (rejections are counted).
  Status ReplaySeries(std::span<const wal::RefSeries> series);
  Status ReplaySamples(std::span<const wal::RefSample> samples);
  uint64_t ReplayUnknownRefSamples() const;
  // Parallel replay (storage/head/replay_workers.h): applies only the samples of `shard` out of
  // `shards`, so that `shards` threads given the same record each apply a disjoint part and every
  // series is applied by one thread, in WAL order. These calls may run concurrently with each
  // other and with ReplaySeries (not with ReplayTombstones). `by_series` is ReplayHasAliases() as
  // it was when the record was read: without aliases a sample's shard is its ref's; with them it
  // is its series' own ref's, which an alias shares (a series' own ref is its first ref, so the
  // shard of every earlier sample is unchanged when the first alias appears).
  void ReplaySamplesShard(std::span<const wal::RefSample> samples, unsigned shard, unsigned shards,
                          bool by_series);
  bool ReplayHasAliases() const;

  HeadStats Stats() const;
  // Changes (grows) whenever data older than HeadOptions::late_write_ms before the clock may have
  // changed: a commit with such a sample, a replayed batch, a delete.
  uint64_t LateWrites() const;

  // --- Truncation after a flush to blocks (storage/head/README.md, "Truncation") ---

  // Samples older than this are refused from now on (OutOfRange) and dropped by replay.
  // `fn` runs after the change with no commit in progress (e.g. to rotate the WAL segment), so
  // every sample logged before `fn` is already in the head.
  void SetMinValidTime(int64_t t, const std::function<void()>& fn = {});
  int64_t MinValidTime() const;
  // The oldest possible and the newest sample timestamp (MAX / MIN when the head never held one).
  // The oldest is a lower bound: it is raised to the min valid time by a truncation.
  int64_t MinTime() const;
  int64_t MaxTime() const;
  // Call after the blocks holding the flushed range are visible to new queriers: returns an epoch
  // to pass to ReadersDone().
  uint64_t ReaderEpoch() const;
  // Whether every querier created before ReaderEpoch() returned `epoch` is gone.
  bool ReadersDone(uint64_t epoch) const;
  // Drops every sample older than t and garbage-collects series left without samples (removed
  // from the maps and postings; freed once no appender batch or querier can still hold them).
  // REQUIRES: t <= MinValidTime(). Returns the number of series removed.
  uint64_t Truncate(int64_t t);
  // Frees removed series that nobody can hold any more (Truncate calls it too).
  void FreeRetired();

  // Deletes the samples in [min_t, max_t] of the series `matchers` select (all series if empty),
  // physically (chunks re-encoded). `fn(refs)` runs first with the refs of the selected series,
  // with no commit in progress (the Db logs the WAL tombstone there, so that the WAL order of
  // samples and tombstones is the order in which the head applied them); if it fails nothing is
  // deleted and its error is returned.
  Status DeleteSeries(std::span<const Matcher> matchers, int64_t min_t, int64_t max_t,
                      const std::function<Status(std::span<const SeriesRef>)>& fn);
  // Replay of a WAL tombstone record. Unknown refs are skipped.
  void ReplayTombstones(std::span<const wal::RefTombstone> tombstones);
  // Whether ref resolves to a series (for WAL checkpoints).
  bool HasSeries(SeriesRef ref) const;

  // Every ref the head resolves (aliases from replay included), ascending: for WAL checkpoints.
  std::vector<SeriesRef> SeriesRefs() const;
  // Calls fn(ref, labels) for every ref of SeriesRefs(), ascending. fn must not call into the head.
  void ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& fn) const;
  // The labels of ref; false if unknown.
  bool SeriesLabels(SeriesRef ref, Labels* out) const;

 private:
  std::unique_ptr<head::HeadState> state_;
};

}  // namespace vigil::storage
