#include "storage/db.h"

#include <algorithm>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/base/logging.h"
#include "storage/file_names.h"
#include "storage/compact/merge_querier.h"
#include "storage/db_impl.h"
#include "storage/block/block_querier.h"
#include "storage/head/head.h"
#include "storage/head/replay_workers.h"
#include "storage/wal/reader.h"
#include "storage/wal/records.h"
#include "storage/wal/wal.h"

namespace vigil::storage {
namespace {

wal::SyncPolicy ToWalPolicy(WalSyncPolicy p) {
  switch (p) {
    case WalSyncPolicy::kAlways: return wal::SyncPolicy::kAlways;
    case WalSyncPolicy::kInterval: return wal::SyncPolicy::kInterval;
    case WalSyncPolicy::kNever: return wal::SyncPolicy::kNever;
  }
  return wal::SyncPolicy::kInterval;
}


}  // namespace

DbImpl::DbImpl(const DbOptions& options, std::string dir)
    : options_(options),
      fs_(options.fs != nullptr ? options.fs : DefaultFileSystem()),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      dir_(std::move(dir)) {}

DbImpl::~DbImpl() {
  Status st = Close();
  if (!st.ok()) VIGIL_LOG(ERROR) << "closing " << dir_ << ": " << st.ToString();
}

Status DbImpl::OpenImpl() {
  if (options_.chunk_target_samples == 0 || options_.chunk_target_samples > 240) {
    return Status::InvalidArgument("chunk_target_samples must be in 1..240, got " +
                                   std::to_string(options_.chunk_target_samples));
  }
  if (options_.out_of_order_window_ms < 0) {
    return Status::InvalidArgument("out_of_order_window_ms must not be negative");
  }
  if (options_.block_range_ms <= 0) {
    return Status::InvalidArgument("block_range_ms must be positive, got " +
                                   std::to_string(options_.block_range_ms));
  }
  if (options_.retention_ms < 0) return Status::InvalidArgument("retention_ms must not be negative");
  if (options_.background_compaction && options_.compaction_interval_ms <= 0) {
    return Status::InvalidArgument("compaction_interval_ms must be positive");
  }
  VIGIL_RETURN_IF_ERROR(CreateDirsDurably(fs_, dir_).WithContext("creating data directory"));
  VIGIL_ASSIGN_OR_RETURN(lock_, fs_->LockFile(JoinPath(dir_, kLockFileName)));
  VIGIL_RETURN_IF_ERROR(RemoveLeftovers());

  VIGIL_ASSIGN_OR_RETURN(OpenedBlocks opened, OpenBlocks(fs_, dir_));
  blocks_ = std::move(opened.blocks);
  block_errors_ = std::move(opened.errors);
  quarantined_ = opened.quarantined;

  HeadOptions head_options;
  head_options.out_of_order_window_ms = options_.out_of_order_window_ms;
  head_options.chunk_target_samples = options_.chunk_target_samples;
  head_options.clock = clock_;
  head_options.adaptive_closed_chunks = options_.head_adaptive_chunks;
  head_options.chunk_range_ms = options_.block_range_ms;
  head_options.late_write_ms = options_.late_write_ms;
  head_ = std::make_unique<Head>(head_options);
  // Ranges that blocks hold are closed to the head, as after the flush that wrote them.
  int64_t blocks_end = INT64_MIN;
  for (const auto& b : blocks_) blocks_end = std::max(blocks_end, b->meta().max_time);
  if (!blocks_.empty()) head_->SetMinValidTime(blocks_end);

  const std::string wal_dir = JoinPath(dir_, kWalDirName);
  VIGIL_RETURN_IF_ERROR(ReplayWal(wal_dir));

  wal::WalOptions wal_options;
  wal_options.segment_size = options_.wal_segment_bytes;
  wal_options.sync_policy = ToWalPolicy(options_.wal_sync);
  wal_options.sync_interval = std::chrono::milliseconds(options_.wal_sync_interval_ms);
  wal_options.clock = clock_;
  VIGIL_ASSIGN_OR_RETURN(wal_, wal::Wal::Open(fs_, wal_dir, wal_options));
  if (options_.background_compaction) bg_thread_ = std::thread([this] { BackgroundLoop(); });
  return Status::OK();
}

BlockList DbImpl::CurrentBlocks() const {
  std::lock_guard<std::mutex> lock(blocks_mu_);
  return blocks_;
}

Result<std::unique_ptr<Querier>> DbImpl::NewQuerier(int64_t min_t, int64_t max_t) {
  if (min_t > max_t) {
    return Status::InvalidArgument("querier range is empty: min_t " + std::to_string(min_t) +
                                   " > max_t " + std::to_string(max_t));
  }
  // The head querier first: its pin makes a flush keep the head's samples until this querier is
  // gone, unless the block list read below already holds the flushed blocks.
  std::unique_ptr<Querier> head = head_->NewQuerier(min_t, max_t);
  auto held = std::make_shared<BlockList>();
  {
    std::lock_guard<std::mutex> lock(blocks_mu_);
    for (const auto& b : blocks_) {
      if (b->Overlaps(min_t, max_t)) held->push_back(b);
    }
  }
  if (held->empty()) return head;
  // Priority on equal timestamps: the head, then the most recently written block.
  std::sort(held->begin(), held->end(),
            [](const auto& a, const auto& b) { return a->meta().id > b->meta().id; });
  std::vector<std::unique_ptr<Querier>> sources;
  sources.push_back(std::move(head));
  for (const auto& b : *held) sources.push_back(NewBlockQuerier(b->reader(), min_t, max_t));
  return NewMergeQuerier(std::move(sources), std::move(held));
}

DbStats DbImpl::Stats() const {
  HeadStats h = head_->Stats();
  DbStats s;
  s.head_series = h.series;
  s.head_samples_appended = h.samples_appended;
  s.head_chunks = h.chunks;
  s.head_memory_bytes = h.memory_bytes;
  s.out_of_order_samples = h.out_of_order_samples;
  s.rejected_samples = h.rejected_samples;
  s.wal_replayed_samples = replayed_samples_;
  s.wal_torn_bytes = torn_bytes_;
  s.wal_corruption = wal_corruption_;
  s.head_series_removed = h.series_removed;
  const BlockList blocks = CurrentBlocks();
  s.blocks = blocks.size();
  for (const auto& b : blocks) {
    s.block_bytes += b->bytes();
    s.tombstones += b->reader()->tombstones()->size();
  }
  Result<uint64_t> wal_bytes = DirBytes(fs_, JoinPath(dir_, kWalDirName));
  s.wal_bytes = wal_bytes.ok() ? *wal_bytes : 0;
  s.bytes_on_disk = s.block_bytes + s.wal_bytes;
  s.head_flushes = head_flushes_.load(std::memory_order_relaxed);
  s.compactions = compactions_.load(std::memory_order_relaxed);
  s.compaction_failures = compaction_failures_.load(std::memory_order_relaxed);
  s.retention_deleted_blocks = retention_deleted_.load(std::memory_order_relaxed);
  s.quarantined_blocks = quarantined_;
  s.block_errors = block_errors_;
  for (uint64_t bound : wal::kFsyncBucketNanos) s.wal_fsync_bucket_bounds.push_back(bound / 1e9);
  s.wal_fsync_buckets.assign(wal::kFsyncBucketCount, 0);
  if (wal_ != nullptr) {
    const wal::FsyncHistogram h = wal_->fsync_histogram();
    s.wal_fsyncs = h.count;
    s.wal_fsync_seconds = static_cast<double>(h.sum_nanos) / 1e9;
    s.wal_fsync_buckets.assign(h.buckets.begin(), h.buckets.end());
  }
  return s;
}

std::vector<BlockInfo> DbImpl::Blocks() const {
  std::vector<BlockInfo> out;
  for (const auto& b : CurrentBlocks()) {
    const BlockMeta& m = b->meta();
    out.push_back({m.id, m.min_time, m.max_time, m.stats.series, m.stats.samples, b->bytes(),
                   m.compaction_level, m.compaction_sources});
  }
  return out;
}

Status DbImpl::Close() {
  std::lock_guard<std::mutex> g(close_mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    stop_ = true;
    stopping_.store(true);
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
  Status st;
  if (wal_ != nullptr) st = wal_->Close();
  lock_.reset();
  return st;
}

// Temporary directories and files of a process that crashed while publishing something.
Status DbImpl::RemoveLeftovers() {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  for (const std::string& name : names) {
    if (!IsTmpName(name)) continue;
    std::string path = JoinPath(dir_, name);
    VIGIL_LOG(WARN) << "removing leftover " << path << " of an interrupted write";
    Status st = fs_->DirExists(path) ? fs_->RemoveDirAll(path) : fs_->RemoveFile(path);
    VIGIL_RETURN_IF_ERROR(st);
  }
  return Status::OK();
}

// Replays the WAL into the head. A torn tail is normal after a crash and is dropped. Corruption
// before the tail is reported (logged with segment and offset) and the log is cut there, so the
// database still opens with everything before the damage.
Status DbImpl::ReplayWal(const std::string& wal_dir) {
  const int64_t start = clock_->NowNanos();
  VIGIL_ASSIGN_OR_RETURN(auto reader, wal::WalReader::Open(fs_, wal_dir));
  const unsigned threads = ReplayWorkers::ThreadsFor(options_.wal_replay_threads);
  std::optional<ReplayWorkers> workers;  // samples are applied on this thread when 1
  if (threads > 1) workers.emplace(head_.get(), threads);
  // Small records (an appender committing a few samples) are gathered into batches of about
  // kReplayBatchSamples before they are handed to the workers.
  constexpr size_t kReplayBatchSamples = 4096;
  std::shared_ptr<std::vector<wal::RefSample>> batch;
  const auto submit = [&] {
    if (batch != nullptr && !batch->empty()) workers->Submit(std::move(batch));
    batch.reset();
  };
  std::string_view record;
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  std::vector<wal::RefTombstone> tombstones;
  while (reader->Next(&record)) {
    VIGIL_ASSIGN_OR_RETURN(wal::RecordType type, wal::PeekRecordType(record));
    switch (type) {
      case wal::RecordType::kSeries:
        series.clear();
        VIGIL_RETURN_IF_ERROR(wal::DecodeSeries(record, &series));
        VIGIL_RETURN_IF_ERROR(head_->ReplaySeries(series));
        break;
      case wal::RecordType::kSamples:
        if (workers) {
          if (batch == nullptr) batch = std::make_shared<std::vector<wal::RefSample>>();
          if (batch->empty()) {
            VIGIL_RETURN_IF_ERROR(wal::DecodeSamples(record, batch.get()));
            replayed_samples_ += batch->size();
          } else {
            VIGIL_RETURN_IF_ERROR(wal::DecodeSamples(record, &samples));
            batch->insert(batch->end(), samples.begin(), samples.end());
            replayed_samples_ += samples.size();
          }
          if (batch->size() >= kReplayBatchSamples) submit();
        } else {
          samples.clear();
          VIGIL_RETURN_IF_ERROR(wal::DecodeSamples(record, &samples));
          VIGIL_RETURN_IF_ERROR(head_->ReplaySamples(samples));
          replayed_samples_ += samples.size();
        }
        break;
      case wal::RecordType::kTombstones:
        tombstones.clear();
        VIGIL_RETURN_IF_ERROR(wal::DecodeTombstones(record, &tombstones));
        if (workers) {  // a tombstone deletes what was applied before it
          submit();
          workers->Drain();
        }
        head_->ReplayTombstones(tombstones);
        break;
    }
  }
  if (workers) submit();
  workers.reset();  // every submitted record applied, threads joined
  const wal::ReplayStats& rs = reader->stats();
  torn_bytes_ = rs.torn_bytes;
  for (const std::string& torn : rs.torn) VIGIL_LOG(INFO) << "WAL torn tail dropped: " << torn;
  if (!reader->status().ok()) {
    if (!reader->corruption().has_value()) return reader->status().WithContext("WAL replay");
    VIGIL_LOG(ERROR) << "WAL replay stopped: " << reader->status().ToString()
                     << "; cutting the log there and opening with what came before";
    wal_corruption_ = reader->status().message();
    VIGIL_RETURN_IF_ERROR(wal::Repair(fs_, *reader->corruption()));
  }
  const double secs = double(clock_->NowNanos() - start) / 1e9;
  if (rs.records == 0) return Status::OK();
  VIGIL_LOG(INFO) << "WAL replay: " << rs.records << " records, " << replayed_samples_
                  << " samples, " << head_->ReplayUnknownRefSamples()
                  << " samples of unknown series skipped, " << secs << " s";
  return Status::OK();
}

Result<std::unique_ptr<Db>> Db::Open(const DbOptions& options, const std::string& dir) {
  auto db = std::make_unique<DbImpl>(options, dir);
  Status st = db->OpenImpl();
  if (!st.ok()) return st.WithContext("opening " + dir);
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace vigil::storage
