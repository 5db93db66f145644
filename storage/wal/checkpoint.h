#pragma once

// WAL checkpoints (storage/docs/format/wal.md §6): fold old segments into a smaller segment
// directory that keeps only what the head still needs, so replay does not grow without bound.

#include <cstdint>
#include <functional>
#include <string>

#include "storage/base/file_system.h"
#include "storage/base/status.h"
#include "storage/series_ref.h"
#include "storage/wal/wal.h"

namespace vigil::storage::wal {

struct CheckpointStats {
  uint64_t index = 0;  // the checkpoint written: checkpoint.<index>
  uint64_t series_kept = 0;
  uint64_t series_dropped = 0;
  uint64_t samples_kept = 0;
  uint64_t samples_dropped = 0;
  uint64_t tombstones_kept = 0;
  uint64_t tombstones_dropped = 0;
  uint64_t torn_bytes = 0;  // torn tails met in the folded segments
  uint64_t segments_deleted = 0;
  uint64_t checkpoints_deleted = 0;
};

// Folds the latest checkpoint (if older than `to`) and segments [from, to] of the WAL in `dir`
// into `dir/checkpoint.<to>/`, keeping:
//   * the first series record of every ref for which keep_series(ref) is true (called once per
//     ref),
//   * samples of kept series with t >= min_time,
//   * tombstones of kept series with max_t >= min_time.
// The checkpoint is written to `checkpoint.<to>.tmp/`, synced, renamed into place and the WAL
// directory synced; only then are segments <= `to` and older checkpoints deleted. A crash at any
// point leaves a directory that replays to the same head state.
// REQUIRES: no writer appends to segments <= `to` (Wal::LastSegment() > to); segments
// [from, to] exist. InvalidArgument if a segment before `from` is in no checkpoint (it would be
// deleted unfolded). Corruption in the input fails the checkpoint and changes nothing.
Result<CheckpointStats> Checkpoint(FileSystem* fs, const std::string& dir, uint64_t from,
                                   uint64_t to, const std::function<bool(SeriesRef)>& keep_series,
                                   int64_t min_time);

// Same, for the directory `wal` writes; InvalidArgument if `to` >= wal->LastSegment().
Result<CheckpointStats> Checkpoint(Wal* wal, uint64_t from, uint64_t to,
                                   const std::function<bool(SeriesRef)>& keep_series,
                                   int64_t min_time);

}  // namespace vigil::storage::wal
