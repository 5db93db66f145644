#pragma once

#include <cstdint>

#include "storage/base/status.h"
#include "storage/labels.h"
#include "storage/series_ref.h"

namespace vigil::storage {

// Collects a batch of samples and commits it atomically: Commit() writes one WAL batch first and
// only then makes the samples visible to queriers. Samples of a batch that has not committed are
// invisible; Rollback() (or destroying the appender) discards them.
//
// Errors of single samples are returned by Append() at once and the sample is left out of the batch;
// the rest of the batch stays valid. Typical errors: InvalidArgument (bad labels), OutOfRange
// (older than the out-of-order window; the message names the series and both timestamps; or
// older than the head's minimum valid time, i.e. in a range already flushed to blocks),
// AlreadyExists (a repeated timestamp with a different value). A repeated (t, v) with the same value
// bits is accepted and ignored.
//
// Thread safety: one Appender is used by one thread at a time; many appenders may run concurrently.
class Appender {
 public:
  virtual ~Appender() = default;

  // Appends by labels; creates the series if it is new. Returns the series' ref for later appends.
  virtual Result<SeriesRef> Append(const Labels& labels, int64_t t, double v) = 0;
  // Appends by a ref an earlier Append returned. NotFound if the ref is unknown (e.g. the series was
  // garbage-collected from the head); the caller then appends by labels.
  virtual Status AppendByRef(SeriesRef ref, int64_t t, double v) = 0;

  // Makes the batch durable (per the WAL sync policy) and visible. After Commit() the appender is
  // empty and may be reused. An error means nothing of the batch was kept.
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // Samples that were valid when appended but not when their batch was applied, so that an OK
  // Commit() did not keep them: another appender committed newer samples of the series first and
  // left them beyond the out-of-order window (or gave their timestamp another value); a head flush
  // made them older than the head's minimum valid time; or a later sample of the same batch and
  // series left an earlier one beyond the window. Callers that acknowledge writes must report
  // these as rejected, never as written.
  struct CommitRejections {
    uint64_t count = 0;
    Status first;  // the first one's error, as Append() would have returned it
  };
  // Of the last Commit() (count 0 after a commit that kept every sample, or before any commit).
  virtual const CommitRejections& last_commit_rejections() const = 0;

  // Samples buffered in the current batch.
  virtual size_t pending() const = 0;
};

}  // namespace vigil::storage
