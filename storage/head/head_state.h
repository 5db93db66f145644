#pragma once

// Internal state of a Head, shared by its appenders and queriers (storage/head/README.md).
// Thread safety: as stated per member; the Head outlives every appender and querier.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/head/epoch.h"
#include "storage/head/head.h"
#include "storage/head/postings.h"
#include "storage/head/series.h"
#include "storage/head/series_map.h"
#include "storage/labels.h"
#include "storage/symbol_table.h"

namespace vigil::storage::head {

struct HeadState {
  explicit HeadState(const HeadOptions& options);
  ~HeadState();  // deletes every series

  const int64_t ooo_window_ms;
  const uint32_t chunk_target;
  const bool adaptive_chunks;
  const int64_t chunk_range_ms;
  uint64_t (*const hash_fn)(const Labels&);
  Clock* const clock;
  const int64_t late_write_ms;
  std::atomic<uint64_t> late_writes{0};  // see Head::LateWrites()

  // Samples older than this are refused: they belong to ranges already flushed to blocks.
  // Changed only under the exclusive commit lock.
  std::atomic<int64_t> min_valid_time{kMinTime};
  // Commits (WAL log + apply) hold it shared; a flush holds it exclusive for an instant to change
  // min_valid_time or remove series. `commit_gate` makes new commits wait while a flush wants it.
  std::shared_mutex commit_mu;
  std::atomic<bool> commit_gate{false};
  // Pins: readers (queriers) pin `reader_epochs` (a flush waits for them before dropping flushed
  // samples) and everyone holding Series pointers (queriers, appenders with a batch) pins
  // `series_epochs` (removed series are freed once those pins are gone).
  EpochManager reader_epochs;
  EpochManager series_epochs;
  std::mutex retired_mu;
  std::vector<std::pair<uint64_t, Series*>> retired;  // (epoch of removal, series)
  std::atomic<uint64_t> series_removed{0};
  std::atomic<bool> has_aliases{false};  // replay met a label set under two refs

  void LockCommitsExclusive() {
    commit_gate.store(true, std::memory_order_seq_cst);
    commit_mu.lock();
  }
  void UnlockCommitsExclusive() {
    commit_mu.unlock();
    commit_gate.store(false, std::memory_order_seq_cst);
  }
  void LockCommitsShared() {
    while (commit_gate.load(std::memory_order_seq_cst)) std::this_thread::yield();
    commit_mu.lock_shared();
  }

  SymbolTable symbols;
  RefMap by_ref;      // ref -> series (aliases from replay included)
  SeriesMap by_hash;  // label hash -> series; owns the series
  MemPostings postings{&symbols};

  std::atomic<uint64_t> next_ref{1};
  std::atomic<uint64_t> samples_appended{0};
  std::atomic<uint64_t> ooo_samples{0};
  std::atomic<uint64_t> rejected_samples{0};
  std::atomic<uint64_t> replay_unknown_refs{0};
  std::atomic<int64_t> min_time{kMaxTime};
  std::atomic<int64_t> max_time{kMinTime};

  uint64_t HashOf(const Labels& ls) const { return hash_fn ? hash_fn(ls) : ls.Hash(); }

  // Whether s has exactly the labels ls.
  bool SameLabels(const Series& s, const Labels& ls) const;
  // The series with exactly these labels, or nullptr. `hash` is HashOf(ls).
  Series* FindByLabels(const Labels& ls, uint64_t hash) const;
  // Finds the series or creates it with the next ref (visible in the maps and postings at once;
  // queries ignore series without committed samples). REQUIRES: ls is valid.
  Series* GetOrCreate(const Labels& ls, uint64_t hash, bool* created);
  // Replay: (re)creates the series of ls under ref, or makes ref an alias of it.
  Status RecreateSeries(SeriesRef ref, const Labels& ls);

  // REQUIRES: s->mu() held. Applies one sample after Check(); returns the verdict and counts it
  // in *accepted / *ooo / *rejected (the caller adds them to the atomics once per batch).
  Verdict ApplyLocked(Series* s, int64_t t, double v, uint64_t* accepted, uint64_t* ooo,
                      uint64_t* rejected) {
    const Verdict verdict = s->Check(t, v, ooo_window_ms);
    switch (verdict) {
      case Verdict::kInOrder:
        s->AppendInOrder(t, v, chunk_target, adaptive_chunks, chunk_range_ms);
        ++*accepted;
        break;
      case Verdict::kOutOfOrder:
        s->AppendOutOfOrder(t, v, chunk_target);
        ++*accepted;
        ++*ooo;
        break;
      case Verdict::kDuplicate:
        break;
      case Verdict::kTooOld:
      case Verdict::kConflict:
        ++*rejected;
        break;
    }
    return verdict;
  }

  // Adds a batch's counts and time range to the head totals.
  void NoteApplied(uint64_t accepted, uint64_t ooo, uint64_t rejected, int64_t min_t,
                   int64_t max_t);

  // The error for a kTooOld or kConflict verdict: names the series, the sample's timestamp and
  // (for kTooOld) the series' newest timestamp and the window.
  Status SampleError(const Series& s, Verdict verdict, int64_t t, int64_t newest) const;
  // The error for a sample older than min_valid_time.
  Status TooOldForHead(const Series& s, int64_t t) const;
};

}  // namespace vigil::storage::head
