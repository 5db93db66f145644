#pragma once

// Decoding of remote-write bodies without building protobuf objects: snappy block format, then a
// single pass over prometheus.WriteRequest (1.0) or io.prometheus.write.v2.Request (2.0) that hands
// each series to a handler as views into the decoded buffer. Used by IngestRemoteWrite and by the
// parse-only benchmark. Wire format: server/docs/protocols/remote_write.md.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/ingest/ingest.h"
#include "storage/base/status.h"
#include "storage/labels.h"

namespace vigil::server::ingest {

struct RemoteWriteSample {
  int64_t t;  // milliseconds
  double v;
};

// Metric metadata as the wire carries it. 1.0: a WriteRequest.metadata entry (family given);
// 2.0: a series' Metadata (family empty: it is the series' metric name; help and unit resolved
// from the symbol table). Views into the decoded request.
struct DecodedMetadata {
  uint64_t type = 0;  // wire value (MetricTypeFromWire)
  std::string_view family;
  std::string_view help;
  std::string_view unit;
};

// One series of a request. Views are valid only during the OnSeries call.
struct DecodedSeries {
  size_t index = 0;                        // 0-based position in the request
  std::span<const storage::Label> labels;  // wire order, not yet checked; empty when
                                           // !labels_decoded
  // 1.0: the bytes of the label fields as sent (every `labels = 1` entry, tag and length
  // included) when they are contiguous and decoded (or were known, see KnownLabels); else empty.
  std::string_view raw_labels;
  // False when the handler's KnownLabels(raw_labels) returned true: the labels were not decoded
  // (DecodeLabelsV1 decodes them when needed).
  bool labels_decoded = true;
  std::span<const RemoteWriteSample> samples;
  uint32_t histograms = 0;
  uint32_t exemplars = 0;
  bool has_metadata = false;  // 2.0 only: the series carried a Metadata message
  DecodedMetadata metadata;
};

class RemoteWriteHandler {
 public:
  virtual ~RemoteWriteHandler() = default;
  virtual void OnSeries(const DecodedSeries& series) = 0;
  // Whether KnownLabels can ever return true (asked once per request; false spares the fast scan).
  virtual bool KnowsSeries() const { return false; }
  // 1.0 only, asked before a series' labels are decoded when the series is in the common shape
  // (contiguous label fields, samples as value then timestamp, no histograms) and its framing is
  // sound: `raw` are its label fields' bytes. True means the handler knows the series by exactly
  // these bytes (they decoded and were accepted before): OnSeries then gets labels_decoded false.
  // False: the series is decoded in full as usual. The view is valid until the OnSeries call.
  virtual bool KnownLabels(std::string_view raw) {
    (void)raw;
    return false;
  }
  // 1.0 only: one WriteRequest.metadata entry, in wire order among the series. Its views stay
  // valid until DecodeRemoteWrite returns.
  virtual void OnMetadata(const DecodedMetadata& metadata) { (void)metadata; }
};

// Buffers reused across calls (one per thread; not thread-safe).
struct RemoteWriteScratch {
  std::string decoded;                    // snappy output
  std::vector<std::string_view> symbols;  // 2.0 symbol table
  std::vector<storage::Label> labels;
  std::vector<RemoteWriteSample> samples;
};

// Decompresses a snappy block-format body into *out. InvalidArgument when corrupt;
// ResourceExhausted when the announced length exceeds max_bytes (nothing is decompressed then).
Status SnappyDecode(std::string_view body, size_t max_bytes, std::string* out);

// Decodes DecodedSeries::raw_labels (1.0 label fields) into *out (appended).
Status DecodeLabelsV1(std::string_view raw, std::vector<storage::Label>* out);

// Walks the protobuf and calls handler.OnSeries once per complete series, in order. Framing errors
// (bad varints, lengths, wire types, symbol references) return InvalidArgument with the byte
// offset; series before the error have already been handed over, so callers that need all-or-
// nothing must roll back. Unknown fields are skipped.
Status DecodeRemoteWrite(std::string_view proto, RemoteWriteVersion version,
                         RemoteWriteHandler& handler, RemoteWriteScratch* scratch);

}  // namespace vigil::server::ingest
