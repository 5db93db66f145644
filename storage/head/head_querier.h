#pragma once

// Queries over the head: matcher evaluation on the in-memory postings, series ordered by labels,
// and batch sample iterators over a snapshot of each series' chunks (storage/head/README.md).
// Thread safety: one querier per thread (as for every Querier); any number run concurrently with
// appenders.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compression/chunk.h"
#include "storage/head/head_state.h"
#include "storage/querier.h"

namespace vigil::storage::head {

class HeadQuerier final : public Querier {
 public:
  // head is not owned and must outlive the querier and everything it returns.
  HeadQuerier(HeadState* head, int64_t min_t, int64_t max_t)
      : head_(head), min_t_(min_t), max_t_(max_t), pins_(std::make_shared<Pins>(head)) {}

  // A querier pins the reader epoch (a flush keeps the samples it persisted until every querier
  // older than the new blocks is gone) and the series epoch (removed series stay allocated).
  // Shared with the series sets, which hold Series pointers.
  struct Pins {
    explicit Pins(HeadState* h) : reader(&h->reader_epochs), series(&h->series_epochs) {}
    EpochPin reader;
    EpochPin series;
  };

  std::unique_ptr<SeriesSet> Select(std::span<const Matcher> matchers) override;
  // A series whose newest sample is at or before `at` gets an iterator over that one sample,
  // without a snapshot or any decoding; the others the full iterator.
  std::unique_ptr<SeriesSet> SelectNewest(std::span<const Matcher> matchers, int64_t at) override;
  Result<std::vector<std::string>> LabelNames(std::span<const Matcher> matchers) override;
  Result<std::vector<std::string>> LabelValues(std::string_view name,
                                               std::span<const Matcher> matchers) override;

 private:
  // The series the matchers select that have committed samples in the range, by ref.
  std::vector<Series*> Matching(std::span<const Matcher> matchers) const;
  // Whether any of refs has committed samples in the range.
  bool AnyInRange(const RefList& refs) const;
  std::vector<std::string> SortedStrings(std::vector<uint32_t> ids) const;

  HeadState* const head_;
  const int64_t min_t_;
  const int64_t max_t_;
  std::shared_ptr<Pins> pins_;
};

// Samples of one series in [min_t, max_t]. The constructor snapshots the series under its lock
// (references to closed chunks, a copy of the open chunk and of the out-of-order buffer); Next()
// decodes without any lock. Without out-of-order data it streams chunk by chunk straight into the
// caller's spans; with it, the range is decoded and merged once (in-order data wins ties).
class HeadSampleIterator final : public SampleIterator {
 public:
  HeadSampleIterator(Series* series, int64_t min_t, int64_t max_t);

  size_t Next(std::span<int64_t> ts, std::span<double> vs) override;
  void Seek(int64_t t) override;
  Status status() const override { return status_; }
  // Known without out-of-order data: from the first in-order chunk's start (the newest sample
  // bounds nothing; the range end does).
  bool TimeBounds(int64_t* min_t, int64_t* max_t) const override;

 private:
  bool OpenNextSource();
  void Fail(std::string_view what);
  void Merge();

  SeriesRef ref_;
  int64_t lo_;
  const int64_t hi_;
  SeriesSnapshot snap_;
  size_t next_source_ = 0;  // snap_.chunks, then the open chunk
  std::optional<compression::ChunkDecoder> dec_;
  bool done_ = false;
  // Merged mode (out-of-order data present).
  bool merged_ = false;
  std::vector<int64_t> merged_ts_;
  std::vector<double> merged_vs_;
  size_t merged_pos_ = 0;
  Status status_;
};

}  // namespace vigil::storage::head
