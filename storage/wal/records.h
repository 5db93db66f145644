#pragma once

// WAL record formats: what the head logs (series definitions, samples, tombstones), independent of
// how records are framed into segments (storage/wal/framing.h). Byte layouts are specified in
// storage/docs/format/wal.md §4.
//
// Encoders append to a caller-owned buffer. Decoders are zero-copy where possible (series labels
// are views into the record), never read out of bounds, and return Corruption on malformed input.
// Thread safety: free functions on caller-owned data; safe to call concurrently.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/series_ref.h"

namespace vigil::storage::wal {

enum class RecordType : uint8_t {
  kSeries = 1,
  kSamples = 2,
  kTombstones = 3,
};

std::string_view RecordTypeName(RecordType type);

// One label as two views. Lifetime: as long as the memory they point into.
struct LabelView {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const LabelView&, const LabelView&) = default;
};

// A series definition. `labels` holds the canonical label-set encoding of storage/labels.h
// (for each label: uvarint len, name, uvarint len, value), i.e. Labels::Encoded(); convert with
// Labels::FromEncoded() on the way in to the head. When decoded, `labels` views the record.
struct RefSeries {
  SeriesRef ref = 0;
  std::string_view labels;
};

struct RefSample {
  SeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
};

// Deletes samples of `ref` with min_t <= t <= max_t.
struct RefTombstone {
  SeriesRef ref = 0;
  int64_t min_t = 0;
  int64_t max_t = 0;
  friend bool operator==(const RefTombstone&, const RefTombstone&) = default;
};

// --- Encoders: each appends one complete record (type byte + payload) to *out. ---

void EncodeSeries(std::span<const RefSeries> series, std::string* out);
// Values are stored as their raw 8-byte bit patterns: NaN payloads (the stale marker) and -0.0
// survive bit-exactly.
void EncodeSamples(std::span<const RefSample> samples, std::string* out);
void EncodeTombstones(std::span<const RefTombstone> tombstones, std::string* out);

// Appends the canonical label-set encoding of `pairs` (in the given order) to *out, for building a
// RefSeries without a Labels object. Callers pass pairs sorted by name with unique names.
void EncodeLabelPairs(std::span<const LabelView> pairs, std::string* out);

// --- Decoders ---

// The type of a record; Corruption if it is empty or of an unknown type.
Result<RecordType> PeekRecordType(std::string_view record);

// Each decoder clears *out, then fills it. On Corruption *out holds an unspecified prefix.
// DecodeSeries checks that every `labels` is well-framed (so DecodeLabelPairs on it succeeds); it
// does not check label order, uniqueness or names (Labels::FromEncoded/Validate do).
// Lifetime: RefSeries::labels views `record`.
Status DecodeSeries(std::string_view record, std::vector<RefSeries>* out);
Status DecodeSamples(std::string_view record, std::vector<RefSample>* out);
Status DecodeTombstones(std::string_view record, std::vector<RefTombstone>* out);

// Splits a label-set encoding into views of `encoded`; Corruption if badly framed.
Status DecodeLabelPairs(std::string_view encoded, std::vector<LabelView>* out);

}  // namespace vigil::storage::wal
