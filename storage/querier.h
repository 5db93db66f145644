#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::storage {

// Iterates one series' samples in time order in batches. One virtual call per batch, none per
// sample. Samples are deduplicated (out-of-order data merged) and limited to the querier's range.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  // Fills up to ts.size() (== vs.size()) samples; returns how many; 0 means the end (check status()).
  virtual size_t Next(std::span<int64_t> ts, std::span<double> vs) = 0;
  // Skips to the first sample with timestamp >= t. The next Next() starts there.
  virtual void Seek(int64_t t) = 0;
  virtual Status status() const = 0;
  // Inclusive bounds of every timestamp the iterator can return, known without decoding (an
  // empty iterator may report *min_t > *max_t); false when it cannot tell. A merge of several
  // sources whose bounds do not overlap reads them one after the other.
  virtual bool TimeBounds(int64_t* min_t, int64_t* max_t) const {
    (void)min_t;
    (void)max_t;
    return false;
  }
};

// Iterates the series a Select() matched, ordered by labels.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  // Advances to the next series; false at the end (check status()).
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  virtual const Labels& labels() const = 0;
  // A fresh iterator over the current series' samples within the querier's time range. It may be
  // used after the set advanced; it must not outlive the querier.
  virtual std::unique_ptr<SampleIterator> Samples() const = 0;
  virtual Status status() const = 0;
};

// A consistent read view over a time range [min_t, max_t] (inclusive, milliseconds). Thread safety:
// one querier per thread; queriers are cheap to create.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series matching every matcher (Prometheus semantics: a missing label equals ""). At least one
  // matcher should not match the empty string; if none does, every series is a candidate.
  virtual std::unique_ptr<SeriesSet> Select(std::span<const Matcher> matchers) = 0;
  // Select() for a reader that uses only each series' newest sample at or before `at` (an instant
  // vector selector): a series' iterator may then return just that sample, where a source knows
  // it without decoding (the head keeps every series' newest sample). It may return more; the
  // reader must still take the newest sample at or before `at` itself.
  virtual std::unique_ptr<SeriesSet> SelectNewest(std::span<const Matcher> matchers, int64_t at) {
    (void)at;
    return Select(matchers);
  }
  // Sorted label names / values of the series that match `matchers` (all series if empty) and
  // have samples in the querier's range.
  virtual Result<std::vector<std::string>> LabelNames(std::span<const Matcher> matchers) = 0;
  virtual Result<std::vector<std::string>> LabelValues(std::string_view name,
                                                       std::span<const Matcher> matchers) = 0;
};

}  // namespace vigil::storage
