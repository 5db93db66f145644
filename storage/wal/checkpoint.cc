#include "storage/wal/checkpoint.h"

#include <optional>
#include <unordered_set>
#include <vector>

#include "storage/base/logging.h"
#include "storage/wal/reader.h"
#include "storage/wal/records.h"
#include "storage/wal/segment.h"

namespace vigil::storage::wal {
namespace {

constexpr size_t kBatchBytes = 1 << 20;

// Collects filtered records and logs them in batches of about kBatchBytes.
class BatchWriter {
 public:
  explicit BatchWriter(Wal* out) : out_(out) {}

  std::string* NewRecord() {
    if (used_ == records_.size()) records_.emplace_back();
    std::string* r = &records_[used_++];
    r->clear();
    return r;
  }
  // Keeps the record produced by the last NewRecord() unless it is only a type byte.
  Status Commit() {
    if (records_[used_ - 1].size() <= 1) {
      --used_;
      return Status::OK();
    }
    bytes_ += records_[used_ - 1].size();
    return bytes_ >= kBatchBytes ? Flush() : Status::OK();
  }
  Status Flush() {
    if (used_ == 0) return Status::OK();
    views_.assign(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(used_));
    used_ = 0;
    bytes_ = 0;
    return out_->Log(views_);
  }

 private:
  Wal* out_;
  std::vector<std::string> records_;
  std::vector<std::string_view> views_;
  size_t used_ = 0;
  size_t bytes_ = 0;
};

Status Fold(WalReader* reader, Wal* out, const std::function<bool(SeriesRef)>& keep_series,
            int64_t min_time, CheckpointStats* stats) {
  std::unordered_set<SeriesRef> kept;
  std::unordered_set<SeriesRef> dropped;
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefTombstone> tombstones;
  BatchWriter batch(out);
  std::string_view rec;
  while (reader->Next(&rec)) {
    VIGIL_ASSIGN_OR_RETURN(RecordType type, PeekRecordType(rec));
    switch (type) {
      case RecordType::kSeries: {
        VIGIL_RETURN_IF_ERROR(DecodeSeries(rec, &series));
        size_t n = 0;
        for (const RefSeries& s : series) {
          if (kept.contains(s.ref) || dropped.contains(s.ref)) continue;
          if (keep_series(s.ref)) {
            kept.insert(s.ref);
            series[n++] = s;
          } else {
            dropped.insert(s.ref);
            ++stats->series_dropped;
          }
        }
        stats->series_kept += n;
        EncodeSeries(std::span<const RefSeries>(series.data(), n), batch.NewRecord());
        break;
      }
      case RecordType::kSamples: {
        VIGIL_RETURN_IF_ERROR(DecodeSamples(rec, &samples));
        size_t n = 0;
        for (const RefSample& s : samples) {
          if (s.t >= min_time && kept.contains(s.ref)) samples[n++] = s;
        }
        stats->samples_kept += n;
        stats->samples_dropped += samples.size() - n;
        EncodeSamples(std::span<const RefSample>(samples.data(), n), batch.NewRecord());
        break;
      }
      case RecordType::kTombstones: {
        VIGIL_RETURN_IF_ERROR(DecodeTombstones(rec, &tombstones));
        size_t n = 0;
        for (const RefTombstone& s : tombstones) {
          if (s.max_t >= min_time && kept.contains(s.ref)) tombstones[n++] = s;
        }
        stats->tombstones_kept += n;
        stats->tombstones_dropped += tombstones.size() - n;
        EncodeTombstones(std::span<const RefTombstone>(tombstones.data(), n), batch.NewRecord());
        break;
      }
    }
    VIGIL_RETURN_IF_ERROR(batch.Commit());
  }
  VIGIL_RETURN_IF_ERROR(reader->status());
  stats->torn_bytes = reader->stats().torn_bytes;
  return batch.Flush();
}

}  // namespace

Result<CheckpointStats> Checkpoint(FileSystem* fs, const std::string& dir, uint64_t from,
                                   uint64_t to, const std::function<bool(SeriesRef)>& keep_series,
                                   int64_t min_time) {
  CheckpointStats stats;
  stats.index = to;
  // Segments older than `from` and not yet in a checkpoint would be deleted without being folded.
  {
    VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, dir));
    std::optional<uint64_t> covered;
    for (uint64_t c : checkpoints) {
      if (c < to) covered = c;
    }
    VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, dir));
    for (uint64_t s : segments) {
      if ((!covered || s > *covered) && s < from) {
        return Status::InvalidArgument("wal checkpoint: segment " + SegmentFileName(s) +
                                       " is older than the first segment to fold (" +
                                       SegmentFileName(from) + ") and in no checkpoint");
      }
    }
  }
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WalReader> reader,
                         WalReader::OpenRange(fs, dir, from, to, /*with_checkpoint=*/true));
  const std::string final_dir = JoinPath(dir, CheckpointDirName(to));
  const std::string tmp_dir = final_dir + ".tmp";
  VIGIL_RETURN_IF_ERROR(fs->RemoveDirAll(tmp_dir));
  {
    WalOptions options;
    options.sync_policy = SyncPolicy::kNever;  // Close() syncs
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> out, Wal::Open(fs, tmp_dir, options));
    Status st = Fold(reader.get(), out.get(), keep_series, min_time, &stats);
    if (st.ok()) st = out->Close();
    if (!st.ok()) {
      out.reset();
      fs->RemoveDirAll(tmp_dir).IgnoreError();  // the fold error is the one to report
      return st.WithContext("wal checkpoint " + final_dir);
    }
  }
  VIGIL_RETURN_IF_ERROR(fs->SyncDir(tmp_dir));
  VIGIL_RETURN_IF_ERROR(fs->RemoveDirAll(final_dir));  // left by an interrupted earlier run
  VIGIL_RETURN_IF_ERROR(fs->Rename(tmp_dir, final_dir));
  VIGIL_RETURN_IF_ERROR(fs->SyncDir(dir));

  // The checkpoint is durable: what it replaces can go. Segments first, so that a crash in
  // between leaves segments that replay skips (they are <= the checkpoint index).
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, dir));
  for (uint64_t s : segments) {
    if (s > to) break;
    VIGIL_RETURN_IF_ERROR(fs->RemoveFile(JoinPath(dir, SegmentFileName(s))));
    ++stats.segments_deleted;
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, dir));
  for (uint64_t c : checkpoints) {
    if (c >= to) break;
    VIGIL_RETURN_IF_ERROR(fs->RemoveDirAll(JoinPath(dir, CheckpointDirName(c))));
    ++stats.checkpoints_deleted;
  }
  VIGIL_RETURN_IF_ERROR(fs->SyncDir(dir));
  VIGIL_LOG(INFO) << "wal: checkpoint " << final_dir << ": kept " << stats.series_kept
                  << " series, " << stats.samples_kept << " samples, " << stats.tombstones_kept
                  << " tombstones";
  return stats;
}

Result<CheckpointStats> Checkpoint(Wal* wal, uint64_t from, uint64_t to,
                                   const std::function<bool(SeriesRef)>& keep_series,
                                   int64_t min_time) {
  if (to >= wal->LastSegment()) {
    return Status::InvalidArgument("wal checkpoint: segment " + std::to_string(to) +
                                   " is still being written");
  }
  return Checkpoint(wal->fs(), wal->dir(), from, to, keep_series, min_time);
}

}  // namespace vigil::storage::wal
