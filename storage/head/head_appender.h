#pragma once

// The head's Appender: buffers a batch, logs it to the WAL in one Wal::Log() call at Commit() and
// only then applies it to the series (the commit protocol of storage/head/README.md).
// Thread safety: one thread at a time per appender; any number of appenders run concurrently.

#include <cstdint>
#include <string>
#include <vector>

#include "storage/appender.h"
#include "storage/head/head_state.h"
#include "storage/wal/records.h"

namespace vigil::storage {
namespace wal {
class Wal;
}  // namespace wal

namespace head {

class HeadAppender final : public Appender {
 public:
  // Neither argument is owned; wal may be nullptr.
  HeadAppender(HeadState* head, wal::Wal* wal) : head_(head), wal_(wal) {}
  ~HeadAppender() override = default;

  Result<SeriesRef> Append(const Labels& labels, int64_t t, double v) override;
  Status AppendByRef(SeriesRef ref, int64_t t, double v) override;
  Status Commit() override;
  void Rollback() override;
  size_t pending() const override { return samples_.size(); }
  const CommitRejections& last_commit_rejections() const override { return rejections_; }

 private:
  // Checks the sample against the series' committed samples and adds it to the batch.
  Status Add(Series* s, int64_t t, double v);
  // Encodes and logs the batch. REQUIRES: wal_ != nullptr.
  Status LogBatch();
  // Applies the batch to the series. REQUIRES: the batch is logged (or there is no WAL).
  void Apply();
  void Clear();
  // Re-resolves by labels the series of the batch that a flush removed from the head since they
  // were added, and drops samples older than the head's min valid time (counted as rejected).
  // REQUIRES: commits locked shared.
  void Revalidate();

  HeadState* const head_;
  wal::Wal* const wal_;
  CommitRejections rejections_;
  // The first sample Apply() rejected, turned into an error after the series lock is released.
  struct FirstRejected {
    Series* series = nullptr;
    Verdict verdict = Verdict::kInOrder;
    int64_t t = 0;
    int64_t newest = 0;
  };
  // Held while the batch (or a look-up) holds Series pointers, so removed series stay allocated.
  EpochPin pin_;
  // The batch: samples_[i] belongs to series_[i]. Buffers keep their capacity across commits.
  std::vector<wal::RefSample> samples_;
  std::vector<Series*> series_;
  std::vector<Series*> unlogged_;  // series of the batch whose series record is not yet logged
  // Scratch for encoding WAL records.
  std::string series_record_;
  std::string samples_record_;
  std::string label_bytes_;
  std::vector<wal::LabelView> label_views_;
  std::vector<size_t> label_ends_;
  std::vector<wal::RefSeries> ref_series_;
};

}  // namespace head
}  // namespace vigil::storage
