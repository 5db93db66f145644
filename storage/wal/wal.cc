#include "storage/wal/wal.h"

#include <algorithm>
#include <vector>

#include "storage/base/logging.h"
#include "storage/wal/framing.h"
#include "storage/wal/segment.h"

namespace vigil::storage::wal {

std::string_view SyncPolicyName(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kAlways: return "always";
    case SyncPolicy::kInterval: return "interval";
    case SyncPolicy::kNever: return "never";
  }
  return "unknown";
}

Wal::Wal(FileSystem* fs, std::string dir, WalOptions options)
    : fs_(fs),
      dir_(std::move(dir)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : SystemClock()) {}

Wal::~Wal() {
  Status st = Close();
  if (!st.ok()) VIGIL_LOG(ERROR) << "wal " << dir_ << ": close: " << st.ToString();
}

Result<std::unique_ptr<Wal>> Wal::Open(FileSystem* fs, std::string dir, WalOptions options) {
  if (options.segment_size < kPageSize) {
    return Status::InvalidArgument("wal: segment_size must be at least one 32 KiB page");
  }
  if (options.sync_policy == SyncPolicy::kInterval && options.sync_interval.count() <= 0) {
    return Status::InvalidArgument("wal: sync_interval must be positive");
  }
  VIGIL_RETURN_IF_ERROR(CreateDirsDurably(fs, dir));
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, dir));
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, dir));
  uint64_t next = 0;
  if (!segments.empty()) next = segments.back() + 1;
  if (!checkpoints.empty()) next = std::max(next, checkpoints.back() + 1);

  std::unique_ptr<Wal> wal(new Wal(fs, std::move(dir), options));
  {
    std::lock_guard<std::mutex> lock(wal->mu_);
    VIGIL_RETURN_IF_ERROR(wal->StartSegmentLocked(next, /*session_start=*/true));
  }
  if (options.sync_policy == SyncPolicy::kInterval) {
    wal->sync_thread_ = std::thread([w = wal.get()] { w->SyncLoop(); });
  }
  return wal;
}

Status Wal::StartSegmentLocked(uint64_t index, bool session_start) {
  const std::string path = JoinPath(dir_, SegmentFileName(index));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_->NewWritableFile(path));
  std::string header;
  EncodeSegmentHeader({kFormatVersion, session_start ? kSegmentFlagSessionStart : uint8_t{0}},
                      &header);
  Status st = file->Append(header);
  if (st.ok()) st = file->Flush();
  // The directory entry must be durable before any sync of the data means anything.
  if (st.ok()) st = fs_->SyncDir(dir_);
  if (!st.ok()) {
    file->Close().IgnoreError();  // already failing; the first error is the one reported
    ++stats_.write_errors;
    return st.WithContext("wal: starting segment " + path);
  }
  file_ = std::move(file);
  segment_ = index;
  segment_offset_ = kSegmentHeaderSize;
  // Dirty from the start: the next sync (first data, rotation or Close()) makes the header
  // durable even if no record follows. A checkpoint that keeps no record is such a segment, and
  // replay refuses a checkpoint segment without its header.
  dirty_ = true;
  ++stats_.segments_created;
  stats_.bytes_written += kSegmentHeaderSize;
  return Status::OK();
}

Status Wal::SyncLocked() {
  if (file_ == nullptr || !dirty_) return Status::OK();
  const int64_t start = clock_->NowNanos();
  Status st = file_->Sync();
  const auto nanos = static_cast<uint64_t>(std::max<int64_t>(0, clock_->NowNanos() - start));
  ++stats_.fsyncs;
  stats_.fsync_nanos += nanos;
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kFsyncBucketNanos.begin(), kFsyncBucketNanos.end(), nanos) -
      kFsyncBucketNanos.begin());
  fsync_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  fsync_sum_nanos_.fetch_add(nanos, std::memory_order_relaxed);
  fsync_count_.fetch_add(1, std::memory_order_relaxed);
  if (!st.ok()) {
    // After a failed fsync the kernel may have dropped dirty pages: trust nothing more in this
    // segment and continue in a new one.
    ++stats_.write_errors;
    const std::string path = file_->path();
    AbandonSegmentLocked();
    return st.WithContext("wal: syncing " + path);
  }
  dirty_ = false;
  return Status::OK();
}

void Wal::AbandonSegmentLocked() {
  if (file_ == nullptr) return;
  file_->Close().IgnoreError();  // the segment is being given up after an earlier error
  file_.reset();
}

Status Wal::CloseSegmentLocked() {
  if (file_ == nullptr) return Status::OK();
  Status st = SyncLocked();
  if (file_ == nullptr) return st;  // abandoned by the failed sync
  Status close = file_->Close();
  file_.reset();
  return st.ok() ? close : st;
}

Status Wal::Log(std::span<const std::string_view> records) {
  if (records.empty()) return Status::OK();
  for (std::string_view r : records) {
    if (r.empty()) return Status::InvalidArgument("wal: empty record");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Unavailable("wal " + dir_ + ": closed");
  if (file_ == nullptr) {
    // The previous segment was abandoned after an error.
    VIGIL_RETURN_IF_ERROR(StartSegmentLocked(segment_ + 1, /*session_start=*/true));
  }
  entry_.clear();
  for (std::string_view r : records) AppendRecordToEntry(r, &entry_);

  FrameWriter framer(segment_offset_);
  if (segment_offset_ > kSegmentHeaderSize &&
      segment_offset_ + framer.FramedSize(entry_.size()) > options_.segment_size) {
    VIGIL_RETURN_IF_ERROR(CloseSegmentLocked());
    VIGIL_RETURN_IF_ERROR(StartSegmentLocked(segment_ + 1, /*session_start=*/false));
    framer.Reset(segment_offset_);
  }
  framed_.clear();
  framer.Append(entry_, &framed_);
  Status st = file_->Append(framed_);
  if (st.ok()) st = file_->Flush();
  if (!st.ok()) {
    ++stats_.write_errors;
    const std::string path = file_->path();
    AbandonSegmentLocked();
    return st.WithContext("wal: writing " + path);
  }
  segment_offset_ = framer.offset();
  dirty_ = true;
  stats_.bytes_written += framed_.size();
  stats_.records += records.size();
  ++stats_.batches;
  if (options_.sync_policy == SyncPolicy::kAlways) return SyncLocked();
  return Status::OK();
}

Status Wal::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  return SyncLocked();
}

Result<uint64_t> Wal::NextSegment() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Unavailable("wal " + dir_ + ": closed");
  const bool clean = file_ != nullptr;
  Status st = CloseSegmentLocked();
  // A segment that failed to close cleanly may end torn; flag its successor so replay knows.
  VIGIL_RETURN_IF_ERROR(StartSegmentLocked(segment_ + 1, /*session_start=*/!clean || !st.ok()));
  VIGIL_RETURN_IF_ERROR(st);
  return segment_;
}

Status Wal::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::OK();
    closed_ = true;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return CloseSegmentLocked();
}

uint64_t Wal::LastSegment() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segment_;
}

WalStats Wal::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

FsyncHistogram Wal::fsync_histogram() const {
  FsyncHistogram h;
  h.count = fsync_count_.load(std::memory_order_relaxed);
  h.sum_nanos = fsync_sum_nanos_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kFsyncBucketCount; ++i) {
    h.buckets[i] = fsync_buckets_[i].load(std::memory_order_relaxed);
  }
  return h;
}

void Wal::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, options_.sync_interval, [this] { return stopping_; });
    if (stopping_) break;
    Status st = SyncLocked();
    if (!st.ok()) VIGIL_LOG(WARN) << "wal " << dir_ << ": background sync: " << st.ToString();
  }
}

}  // namespace vigil::storage::wal
