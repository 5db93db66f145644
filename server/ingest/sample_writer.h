#pragma once

// Internal to server/ingest: the one place where decoded samples meet the storage Appender. It
// classifies append errors into RejectReasons, collects the first error messages, commits the
// batch once and turns the commit result into an IngestCode.
// Thread safety: none; one writer per request.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/ingest/ingest.h"
#include "storage/appender.h"
#include "storage/labels.h"
#include "storage/series_ref.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::server::ingest::detail {

class SampleWriter {
 public:
  // `out` is not owned and must outlive the writer.
  SampleWriter(storage::Db& db, Protocol protocol, const IngestOptions& options,
               IngestOutcome* out);
  ~SampleWriter();
  SampleWriter(const SampleWriter&) = delete;
  SampleWriter& operator=(const SampleWriter&) = delete;

  // Appends one sample of a new or known series. Returns the series' ref, or kNoSeriesRef when the
  // sample was rejected (recorded in the outcome). When the labels themselves are invalid,
  // *labels_invalid is set so the caller can reject the series' remaining samples in one go.
  storage::SeriesRef Append(const storage::Labels& labels, int64_t t, double v,
                            bool* labels_invalid);
  // Appends by a ref from an earlier Append. Returns false when the ref is unknown to the head
  // (nothing recorded: the caller appends by labels instead); true otherwise (written or rejected
  // and recorded).
  bool AppendByRef(storage::SeriesRef ref, int64_t t, double v);

  // Records `count` samples rejected for `reason`; `message` is built only when it will be listed.
  template <typename MessageFn>
  void Reject(RejectReason reason, uint64_t count, MessageFn&& message) {
    out_->rejected[static_cast<size_t>(reason)] += count;
    if (errors_listed_ < options_.max_error_messages) {
      AddMessage(message());
    } else {
      ++errors_unlisted_;
    }
  }

  // Counts rejected samples whose error message was already recorded (e.g. the rest of a series
  // whose labels were refused).
  void CountRejected(RejectReason reason, uint64_t count) {
    out_->rejected[static_cast<size_t>(reason)] += count;
  }

  // Line-protocol line of the samples that follow; storage errors are then prefixed "line N: ".
  void set_line(size_t line) { line_ = line; }

  // Discards the batch: the request is refused as a whole (bad framing, limits). Every sample
  // appended so far is dropped and not counted as written.
  void Abort(IngestCode code, std::string message);

  // Commits the batch and settles the outcome's code and message. Call once, unless Abort() was
  // called. Records the request in GlobalIngestMetrics() (Abort does too).
  void Finish();

 private:
  void Classify(const Status& st, uint64_t count);
  void AddMessage(std::string message);

  Protocol protocol_;
  const IngestOptions& options_;
  IngestOutcome* out_;
  std::unique_ptr<storage::Appender> app_;
  uint64_t appended_ = 0;  // samples accepted by Append (written once Commit succeeds)
  size_t errors_listed_ = 0;
  uint64_t errors_unlisted_ = 0;
  bool storage_fault_ = false;
  Status fault_;
  bool done_ = false;
  size_t line_ = 0;
};

// `{name="value", ...}` in the order given, for messages about label sets that are not valid
// Labels (unsorted, duplicates, bad bytes). Control bytes and invalid UTF-8 are shown as \xHH.
std::string FormatLabelPairs(std::span<const storage::Label> labels);
// Appends `s` double-quoted with the escaping of FormatLabelPairs; at most `max_bytes` of s are
// shown (then "...").
void AppendQuotedForMessage(std::string_view s, size_t max_bytes, std::string* out);

}  // namespace vigil::server::ingest::detail
