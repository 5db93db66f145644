// The Db's lifecycle work: head flushes, compaction, retention, deletes, CleanTombstones,
// snapshots and the background thread (storage/README.md, "Lifecycle").

#include <algorithm>
#include <chrono>
#include <map>

#include "storage/base/logging.h"
#include "storage/block/block_querier.h"
#include "storage/block/piece_cache.h"
#include "storage/compact/merge_querier.h"
#include "storage/compact/planner.h"
#include "storage/compact/write_block.h"
#include "storage/db_impl.h"
#include "storage/file_names.h"
#include "storage/wal/checkpoint.h"
#include "storage/wal/records.h"
#include "storage/wal/segment.h"

namespace vigil::storage {
namespace {

// How long Compact() waits for queriers older than a flush before leaving the head truncation to
// a later call; the background thread does not wait.
constexpr int64_t kCompactWaitMs = 1000;

Status CopyFile(FileSystem* fs, const std::string& from, const std::string& to) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> in, fs->NewRandomAccessFile(from));
  VIGIL_ASSIGN_OR_RETURN(uint64_t size, in->Size());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, fs->NewWritableFile(to));
  std::string scratch(1 << 20, '\0');
  for (uint64_t off = 0; off < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(scratch.size(), size - off));
    VIGIL_ASSIGN_OR_RETURN(std::string_view got, in->ReadAt(off, n, scratch.data()));
    if (got.empty()) return Status::IOError(from + ": file shrank while being copied");
    VIGIL_RETURN_IF_ERROR(out->Append(got));
    off += got.size();
  }
  VIGIL_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

// Copies the tree `from` into the new directory `to`, every file and directory synced.
Status CopyTree(FileSystem* fs, const std::string& from, const std::string& to) {
  VIGIL_RETURN_IF_ERROR(fs->CreateDir(to));
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(from));
  for (const std::string& name : names) {
    const std::string src = JoinPath(from, name);
    const std::string dst = JoinPath(to, name);
    VIGIL_RETURN_IF_ERROR(fs->DirExists(src) ? CopyTree(fs, src, dst) : CopyFile(fs, src, dst));
  }
  return fs->SyncDir(to);
}

}  // namespace

Status DbImpl::RunCycle(bool force) {
  VIGIL_RETURN_IF_ERROR(FlushHead(force));
  for (bool did = true; did && !stopping_.load();) VIGIL_RETURN_IF_ERROR(CompactOnce(force, &did));
  return ApplyRetention();
}

Status DbImpl::PublishBlocks(const std::vector<BlockMeta>& metas, const BlockList& replaced) {
  BlockList added;
  for (const BlockMeta& m : metas) {
    const std::string path = BlockDirName(dir_, m.id);
    VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<BlockReader> r, BlockReader::Open(fs_, path));
    VIGIL_ASSIGN_OR_RETURN(uint64_t bytes, DirBytes(fs_, path));
    added.push_back(std::make_shared<LiveBlock>(fs_, dir_, std::move(r), bytes));
  }
  std::lock_guard<std::mutex> lock(blocks_mu_);
  for (const auto& old : replaced) {
    old->MarkDeleted();  // the directory goes when the last querier using it is gone
    std::erase(blocks_, old);
  }
  blocks_.insert(blocks_.end(), added.begin(), added.end());
  SortBlocks(&blocks_);
  return Status::OK();
}

Status DbImpl::FlushHead(bool all) {
  VIGIL_RETURN_IF_ERROR(FinishTruncation(all ? kCompactWaitMs : 0));
  if (pending_) return Status::OK();  // the previous flush is not truncated yet
  const int64_t range = options_.block_range_ms;
  for (;;) {
    const int64_t min_t = head_->MinTime();
    const int64_t max_t = head_->MaxTime();
    if (min_t > max_t) return Status::OK();
    int64_t before;
    if (all) {
      before = max_t == INT64_MAX ? max_t : max_t + 1;
    } else {
      if (max_t - min_t <= range + range / 2) return Status::OK();
      // The oldest range; after a long gap in the data, every range that leaves the head
      // spanning at most 1.5 block ranges (one pass instead of one per empty range).
      before = std::max(AlignDown(min_t, range) + range,
                        AlignDown(max_t - range - range / 2, range) + range);
    }
    // From here on the head refuses samples older than `before`; every sample logged before the
    // segment switch is in the head, so the blocks below hold all of them.
    Status wal_status;
    std::optional<uint64_t> wal_to;
    head_->SetMinValidTime(before, [&] {
      if (wal_ == nullptr) return;
      Result<uint64_t> next = wal_->NextSegment();
      if (next.ok()) {
        wal_to = *next - 1;
      } else {
        wal_status = next.status();
      }
    });
    VIGIL_RETURN_IF_ERROR(wal_status.WithContext("flushing the head"));
    WriteBlockOptions wo;
    wo.min_time = std::max(AlignDown(min_t, range), INT64_MIN + range);
    wo.max_time = before;
    wo.split_range_ms = range;
    wo.chunk_samples = options_.chunk_target_samples;
    wo.clock = clock_;
    std::vector<BlockMeta> metas;
    {
      std::unique_ptr<Querier> q = head_->NewQuerier(INT64_MIN, before - 1);
      VIGIL_ASSIGN_OR_RETURN(metas, WriteBlocks(fs_, dir_, q.get(), wo));
    }
    VIGIL_RETURN_IF_ERROR(PublishBlocks(metas, {}));
    head_flushes_.fetch_add(metas.size(), std::memory_order_relaxed);
    for (const BlockMeta& m : metas) {
      VIGIL_LOG(INFO) << "head flush: block " << m.id << " [" << m.min_time << ", " << m.max_time
                      << "), " << m.stats.series << " series, " << m.stats.samples << " samples";
    }
    pending_ = PendingTruncation{before, wal_to, head_->ReaderEpoch()};
    VIGIL_RETURN_IF_ERROR(FinishTruncation(all ? kCompactWaitMs : 0));
    if (pending_ || all) return Status::OK();
  }
}

Status DbImpl::FinishTruncation(int64_t wait_ms) {
  if (!pending_) return Status::OK();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (!head_->ReadersDone(pending_->reader_epoch)) {
    if (std::chrono::steady_clock::now() >= deadline) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const PendingTruncation p = *pending_;
  pending_.reset();
  const uint64_t removed = head_->Truncate(p.before);
  if (removed != 0) VIGIL_LOG(INFO) << "head: " << removed << " series without samples removed";
  if (!p.wal_to || wal_ == nullptr) return Status::OK();
  // Fold every segment not yet in a checkpoint, up to the one closed by the flush.
  const std::string wal_dir = JoinPath(dir_, kWalDirName);
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, wal::ListCheckpoints(fs_, wal_dir));
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, wal::ListSegments(fs_, wal_dir));
  std::optional<uint64_t> from;
  for (uint64_t seg : segments) {
    if ((checkpoints.empty() || seg > checkpoints.back()) && seg <= *p.wal_to) {
      from = seg;
      break;
    }
  }
  if (!from) return Status::OK();
  Head* head = head_.get();
  Result<wal::CheckpointStats> st = wal::Checkpoint(
      wal_.get(), *from, *p.wal_to, [head](SeriesRef ref) { return head->HasSeries(ref); },
      p.before);
  return st.status().WithContext("WAL checkpoint after a head flush");
}

Status DbImpl::CompactOnce(bool force, bool* did) {
  block::PieceCacheBypass bypass;  // reads every piece once: keep the shared cache for queries
  *did = false;
  const BlockList blocks = CurrentBlocks();
  std::vector<const BlockMeta*> metas;
  for (const auto& b : blocks) metas.push_back(&b->meta());
  const std::vector<int64_t> ranges =
      CompactionRanges(options_.block_range_ms, options_.retention_ms);
  const std::vector<size_t> plan = PlanCompaction(metas, ranges, force);
  if (plan.empty()) return Status::OK();
  *did = true;
  BlockList group;
  for (size_t i : plan) group.push_back(blocks[i]);
  // Newest block first: it wins equal timestamps, like in queries.
  std::sort(group.begin(), group.end(),
            [](const auto& a, const auto& b) { return a->meta().id > b->meta().id; });
  WriteBlockOptions wo;
  wo.min_time = INT64_MAX;
  wo.max_time = INT64_MIN;
  wo.compaction_level = 1;
  for (const auto& b : group) {
    wo.min_time = std::min(wo.min_time, b->meta().min_time);
    wo.max_time = std::max(wo.max_time, b->meta().max_time);
    wo.compaction_level = std::max(wo.compaction_level, b->meta().compaction_level + 1);
    wo.sources.push_back(b->meta().id);
  }
  wo.chunk_samples = options_.compacted_chunk_samples;
  wo.clock = clock_;
  std::vector<std::unique_ptr<Querier>> sources;
  for (const auto& b : group) sources.push_back(NewBlockQuerier(b->reader(), wo.min_time, wo.max_time - 1));
  std::unique_ptr<Querier> q = NewMergeQuerier(std::move(sources), nullptr);
  VIGIL_ASSIGN_OR_RETURN(std::vector<BlockMeta> metas_out, WriteBlocks(fs_, dir_, q.get(), wo));
  VIGIL_RETURN_IF_ERROR(PublishBlocks(metas_out, group));
  compactions_.fetch_add(1, std::memory_order_relaxed);
  VIGIL_LOG(INFO) << "compaction: " << group.size() << " blocks [" << wo.min_time << ", "
                  << wo.max_time << ") -> "
                  << (metas_out.empty() ? std::string("nothing (all deleted)") : metas_out[0].id)
                  << " at level " << wo.compaction_level;
  return Status::OK();
}

Status DbImpl::ApplyRetention() {
  int64_t newest = head_->MaxTime();
  std::lock_guard<std::mutex> lock(blocks_mu_);
  for (const auto& b : blocks_) newest = std::max(newest, b->meta().max_time - 1);
  BlockList doomed;
  if (options_.retention_ms > 0 && newest != INT64_MIN) {
    for (const auto& b : blocks_) {
      if (b->meta().max_time <= newest - options_.retention_ms) doomed.push_back(b);
    }
  }
  if (options_.retention_bytes > 0) {
    BlockList by_age = blocks_;
    std::sort(by_age.begin(), by_age.end(),
              [](const auto& a, const auto& b) { return a->meta().max_time < b->meta().max_time; });
    uint64_t total = 0;
    for (const auto& b : blocks_) {
      if (std::find(doomed.begin(), doomed.end(), b) == doomed.end()) total += b->bytes();
    }
    for (const auto& b : by_age) {
      if (total <= options_.retention_bytes) break;
      if (std::find(doomed.begin(), doomed.end(), b) != doomed.end()) continue;
      doomed.push_back(b);
      total -= b->bytes();
    }
  }
  for (const auto& b : doomed) {
    VIGIL_LOG(INFO) << "retention: deleting block " << b->meta().id << " [" << b->meta().min_time
                    << ", " << b->meta().max_time << "), " << b->bytes() << " bytes";
    b->MarkDeleted();
    std::erase(blocks_, b);
  }
  retention_deleted_.fetch_add(doomed.size(), std::memory_order_relaxed);
  return Status::OK();
}

Status DbImpl::Compact() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  return RunCycle(/*force=*/true);
}

Status DbImpl::DeleteSeries(std::span<const Matcher> matchers, int64_t min_t, int64_t max_t) {
  if (matchers.empty()) return Status::InvalidArgument("delete series: at least one matcher is required");
  if (min_t > max_t) {
    return Status::InvalidArgument("delete series: empty range, min_t " + std::to_string(min_t) +
                                   " > max_t " + std::to_string(max_t));
  }
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  VIGIL_RETURN_IF_ERROR(head_->DeleteSeries(matchers, min_t, max_t, [&](std::span<const SeriesRef> refs) {
    if (wal_ == nullptr || refs.empty()) return Status::OK();
    std::vector<wal::RefTombstone> ts;
    ts.reserve(refs.size());
    for (SeriesRef ref : refs) ts.push_back({ref, min_t, max_t});
    std::string record;
    wal::EncodeTombstones(ts, &record);
    VIGIL_RETURN_IF_ERROR(wal_->Log(record));
    return wal_->Sync();
  }));
  for (const auto& b : CurrentBlocks()) {
    if (!b->Overlaps(min_t, max_t)) continue;
    VIGIL_ASSIGN_OR_RETURN(PostingsList ids, b->reader()->index().PostingsForMatchers(matchers));
    if (ids.empty()) continue;
    TombstoneMap t = *b->reader()->tombstones();
    const Interval iv{std::max(min_t, b->meta().min_time), std::min(max_t, b->meta().max_time - 1)};
    for (BlockSeriesId id : ids) AddInterval(&t[id], iv);
    const std::string path = BlockDirName(dir_, b->meta().id);
    VIGIL_RETURN_IF_ERROR(WriteTombstones(fs_, path, t));
    VIGIL_RETURN_IF_ERROR(b->reader()->ReloadTombstones());
  }
  // Again after the blocks changed: a result cached between the head's delete and here is stale.
  block_deletes_.fetch_add(1, std::memory_order_release);
  return Status::OK();
}

Status DbImpl::CleanTombstones() {
  block::PieceCacheBypass bypass;  // reads every piece once: keep the shared cache for queries
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  for (const auto& b : CurrentBlocks()) {
    if (b->reader()->tombstones()->empty()) continue;
    WriteBlockOptions wo;
    wo.min_time = b->meta().min_time;
    wo.max_time = b->meta().max_time;
    wo.compaction_level = b->meta().compaction_level;
    wo.sources = {b->meta().id};
    wo.chunk_samples = options_.chunk_target_samples;
    wo.clock = clock_;
    std::unique_ptr<Querier> q = NewBlockQuerier(b->reader(), wo.min_time, wo.max_time - 1);
    VIGIL_ASSIGN_OR_RETURN(std::vector<BlockMeta> metas, WriteBlocks(fs_, dir_, q.get(), wo));
    VIGIL_RETURN_IF_ERROR(PublishBlocks(metas, {b}));
    VIGIL_LOG(INFO) << "clean tombstones: block " << b->meta().id << " rewritten"
                    << (metas.empty() ? " (nothing left)" : " as " + metas[0].id);
  }
  return Status::OK();
}

namespace {

// Creates `dir` (durably) for a snapshot; AlreadyExists when it holds anything.
Status CreateEmptySnapshotDir(FileSystem* fs, const std::string& dir) {
  VIGIL_RETURN_IF_ERROR(CreateDirsDurably(fs, dir));
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> existing, fs->ListDir(dir));
  if (!existing.empty()) return Status::AlreadyExists("snapshot directory " + dir + " is not empty");
  return Status::OK();
}

}  // namespace

Status DbImpl::Snapshot(const std::string& dir) {
  block::PieceCacheBypass bypass;  // reads every piece once: keep the shared cache for queries
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  VIGIL_RETURN_IF_ERROR(CreateEmptySnapshotDir(fs_, dir));
  for (const auto& b : CurrentBlocks()) {
    const std::string tmp = JoinPath(dir, b->meta().id + std::string(kTmpSuffix));
    VIGIL_RETURN_IF_ERROR(CopyTree(fs_, b->reader()->dir(), tmp));
    VIGIL_RETURN_IF_ERROR(fs_->Rename(tmp, BlockDirName(dir, b->meta().id)));
  }
  const int64_t min_t = head_->MinTime(), max_t = head_->MaxTime();
  if (min_t <= max_t) {
    // The head goes out as few blocks as the compactor would leave: cut at the second compaction
    // range (6 h by default), not at every block range. A head crossing 2 h boundaries would
    // otherwise give a snapshot more, smaller blocks (an index each, chunks cut at the boundary)
    // than the same data once compacted; like Prometheus' snapshot, which writes its head as one
    // block.
    const std::vector<int64_t> ranges = CompactionRanges(options_.block_range_ms, options_.retention_ms);
    const int64_t range = ranges.size() > 1 ? ranges[1] : options_.block_range_ms;
    WriteBlockOptions wo;
    wo.min_time = AlignDown(min_t, options_.block_range_ms);  // where the blocks end, usually
    wo.max_time = max_t == INT64_MAX ? max_t : max_t + 1;
    wo.split_range_ms = range;
    wo.chunk_samples = options_.chunk_target_samples;
    wo.clock = clock_;
    std::unique_ptr<Querier> q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    VIGIL_RETURN_IF_ERROR(WriteBlocks(fs_, dir, q.get(), wo).status());
  }
  return fs_->SyncDir(dir);
}

Status DbImpl::SnapshotCompacted(const std::string& dir) {
  block::PieceCacheBypass bypass;  // reads every piece once: keep the shared cache for queries
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  VIGIL_RETURN_IF_ERROR(CreateEmptySnapshotDir(fs_, dir));
  int64_t min_t = head_->MinTime(), max_t = head_->MaxTime();
  int level = 1;
  for (const auto& b : CurrentBlocks()) {
    min_t = std::min(min_t, b->meta().min_time);
    max_t = std::max(max_t, b->meta().max_time - 1);
    level = std::max(level, b->meta().compaction_level);
  }
  if (min_t <= max_t) {
    const std::vector<int64_t> ranges = CompactionRanges(options_.block_range_ms, options_.retention_ms);
    WriteBlockOptions wo;
    wo.min_time = AlignDown(min_t, ranges.back());
    wo.max_time = max_t == INT64_MAX ? max_t : max_t + 1;
    wo.split_range_ms = ranges.back();
    wo.chunk_samples = options_.compacted_chunk_samples;
    wo.compaction_level = level + 1;
    wo.clock = clock_;
    // Blocks and head merged as queries see them (tombstones applied, the newest copy of a
    // repeated timestamp).
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q, NewQuerier(INT64_MIN, INT64_MAX));
    VIGIL_RETURN_IF_ERROR(WriteBlocks(fs_, dir, q.get(), wo).status());
  }
  return fs_->SyncDir(dir);
}

void DbImpl::BackgroundLoop() {
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(l, std::chrono::milliseconds(options_.compaction_interval_ms), [this] { return stop_; });
    if (stop_) break;
    l.unlock();
    Status st;
    {
      std::lock_guard<std::mutex> lock(lifecycle_mu_);
      st = RunCycle(/*force=*/false);
    }
    if (!st.ok()) {
      compaction_failures_.fetch_add(1, std::memory_order_relaxed);
      VIGIL_LOG(ERROR) << "background compaction of " << dir_ << ": " << st.ToString()
                       << " (retried at the next interval)";
    }
    l.lock();
  }
}

}  // namespace vigil::storage
