#include "storage/db.h"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/base/logging.h"
#include "storage/file_names.h"
#include "storage/head/head.h"
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

// The Db of this milestone: WAL + head. Blocks, compaction and retention join it later.
class DbImpl final : public Db {
 public:
  DbImpl(const DbOptions& options, std::string dir)
      : options_(options),
        fs_(options.fs != nullptr ? options.fs : DefaultFileSystem()),
        clock_(options.clock != nullptr ? options.clock : SystemClock()),
        dir_(std::move(dir)) {}

  ~DbImpl() override {
    Status st = Close();
    if (!st.ok()) VIGIL_LOG(ERROR) << "closing " << dir_ << ": " << st.ToString();
  }

  Status OpenImpl() {
    if (options_.chunk_target_samples == 0 || options_.chunk_target_samples > 240) {
      return Status::InvalidArgument("chunk_target_samples must be in 1..240, got " +
                                     std::to_string(options_.chunk_target_samples));
    }
    if (options_.out_of_order_window_ms < 0) {
      return Status::InvalidArgument("out_of_order_window_ms must not be negative");
    }
    VIGIL_RETURN_IF_ERROR(CreateDirsDurably(fs_, dir_).WithContext("creating data directory"));
    VIGIL_ASSIGN_OR_RETURN(lock_, fs_->LockFile(JoinPath(dir_, kLockFileName)));
    VIGIL_RETURN_IF_ERROR(RemoveLeftovers());

    HeadOptions head_options;
    head_options.out_of_order_window_ms = options_.out_of_order_window_ms;
    head_options.chunk_target_samples = options_.chunk_target_samples;
    head_options.clock = clock_;
    head_options.adaptive_closed_chunks = options_.head_adaptive_chunks;
    head_ = std::make_unique<Head>(head_options);

    const std::string wal_dir = JoinPath(dir_, kWalDirName);
    VIGIL_RETURN_IF_ERROR(ReplayWal(wal_dir));

    wal::WalOptions wal_options;
    wal_options.segment_size = options_.wal_segment_bytes;
    wal_options.sync_policy = ToWalPolicy(options_.wal_sync);
    wal_options.sync_interval = std::chrono::milliseconds(options_.wal_sync_interval_ms);
    wal_options.clock = clock_;
    VIGIL_ASSIGN_OR_RETURN(wal_, wal::Wal::Open(fs_, wal_dir, wal_options));
    return Status::OK();
  }

  std::unique_ptr<Appender> NewAppender() override { return head_->NewAppender(wal_.get()); }

  Result<std::unique_ptr<Querier>> NewQuerier(int64_t min_t, int64_t max_t) override {
    if (min_t > max_t) {
      return Status::InvalidArgument("querier range is empty: min_t " + std::to_string(min_t) +
                                     " > max_t " + std::to_string(max_t));
    }
    return head_->NewQuerier(min_t, max_t);
  }

  Status DeleteSeries(std::span<const Matcher>, int64_t, int64_t) override {
    return Status::NotSupported("Db::DeleteSeries is not implemented yet");
  }
  Status CleanTombstones() override {
    return Status::NotSupported("Db::CleanTombstones is not implemented yet");
  }
  Status Snapshot(const std::string&) override {
    return Status::NotSupported("Db::Snapshot is not implemented yet");
  }
  Status Compact() override { return Status::NotSupported("Db::Compact is not implemented yet"); }
  std::vector<BlockInfo> Blocks() const override { return {}; }

  DbStats Stats() const override {
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
    return s;
  }

  Status Close() override {
    std::lock_guard<std::mutex> g(close_mu_);
    if (closed_) return Status::OK();
    closed_ = true;
    Status st;
    if (wal_ != nullptr) st = wal_->Close();
    lock_.reset();
    return st;
  }

 private:
  // Temporary directories and files of a process that crashed while publishing something.
  Status RemoveLeftovers() {
    VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
    for (const std::string& name : names) {
      if (name.size() <= kTmpSuffix.size() || !name.ends_with(kTmpSuffix)) continue;
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
  Status ReplayWal(const std::string& wal_dir) {
    const int64_t start = clock_->NowNanos();
    VIGIL_ASSIGN_OR_RETURN(auto reader, wal::WalReader::Open(fs_, wal_dir));
    std::string_view record;
    std::vector<wal::RefSeries> series;
    std::vector<wal::RefSample> samples;
    while (reader->Next(&record)) {
      VIGIL_ASSIGN_OR_RETURN(wal::RecordType type, wal::PeekRecordType(record));
      switch (type) {
        case wal::RecordType::kSeries:
          series.clear();
          VIGIL_RETURN_IF_ERROR(wal::DecodeSeries(record, &series));
          VIGIL_RETURN_IF_ERROR(head_->ReplaySeries(series));
          break;
        case wal::RecordType::kSamples:
          samples.clear();
          VIGIL_RETURN_IF_ERROR(wal::DecodeSamples(record, &samples));
          VIGIL_RETURN_IF_ERROR(head_->ReplaySamples(samples));
          replayed_samples_ += samples.size();
          break;
        case wal::RecordType::kTombstones:
          // Deletes arrive with the blocks milestone; until then the WAL holds none.
          break;
      }
    }
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

  const DbOptions options_;
  FileSystem* const fs_;
  Clock* const clock_;
  const std::string dir_;

  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<Head> head_;
  std::unique_ptr<wal::Wal> wal_;
  uint64_t replayed_samples_ = 0;
  uint64_t torn_bytes_ = 0;
  std::string wal_corruption_;

  std::mutex close_mu_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const DbOptions& options, const std::string& dir) {
  auto db = std::make_unique<DbImpl>(options, dir);
  Status st = db->OpenImpl();
  if (!st.ok()) return st.WithContext("opening " + dir);
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace vigil::storage
