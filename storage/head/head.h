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

  HeadStats Stats() const;

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
