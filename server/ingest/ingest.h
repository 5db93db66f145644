#pragma once

// The write protocols as libraries the HTTP server (and the native TCP server) call: a request body
// goes in, samples go into a storage::Db, and an IngestOutcome says what happened in terms a
// protocol handler can answer with (HTTP status, message, the X-Prometheus-Remote-Write-*-Written
// counts). The formats are specified in server/docs/protocols/.
//
//   remote write 1.0  IngestRemoteWrite(db, body, RemoteWriteVersion::k1, opts)
//   remote write 2.0  IngestRemoteWrite(db, body, RemoteWriteVersion::k2, opts)
//   line protocol     IngestLineProtocol(db, body, precision, opts)
//
// Semantics shared by every protocol (DESIGN.md §7):
// - One request is one Appender batch: it commits once, atomically (WAL first). A request whose
//   framing is broken (bad snappy, bad protobuf) writes nothing. A request whose framing is fine
//   but some series / lines are bad keeps every good sample and answers kBadInput (HTTP 400) with
//   a message naming the first bad series or line; the counts say how much was written.
// - A failed commit (I/O error, disk full, WAL closed) writes nothing and answers kStorageFault or
//   kUnavailable (5xx, retryable). Overload (too many bytes in flight, see IngestLimiter) answers
//   kOverloaded (429) before anything is decoded.
// - Process-wide counters (IngestMetrics) count samples written per protocol and rejected per
//   reason; /metrics exports them with AppendIngestMetricsText().
//
// Thread safety: every function here may be called concurrently from any number of threads (each
// call uses its own Appender). IngestLimiter and IngestMetrics are thread-safe.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace vigil {
class Clock;
namespace storage {
class Db;
}  // namespace storage
}  // namespace vigil

namespace vigil::server::ingest {

class SeriesRefCache;  // server/ingest/series_cache.h
class MetadataStore;   // server/ingest/metadata.h

// ---- What a request did ----------------------------------------------------------------------

enum class Protocol : uint8_t {
  kRemoteWrite1 = 0,  // label "remote_write_v1"
  kRemoteWrite2,      // "remote_write_v2"
  kLineProtocol,      // "influx_line"
  kNative,            // "native"
};
inline constexpr size_t kProtocolCount = 4;
std::string_view ProtocolName(Protocol p);

// Why a sample (or a whole line / series) was not written. Each has a metric label (the name).
enum class RejectReason : uint8_t {
  kInvalidLabels = 0,  // "invalid_labels": bad name, bad UTF-8, unsorted / duplicate names, empty
  kOutOfOrder,         // "out_of_order": older than the series' newest sample minus the OOO window
  kDuplicateTimestamp, // "duplicate_timestamp": same timestamp, different value
  kMalformed,          // "malformed": a line protocol line (or native column) that does not parse
  kStringField,        // "string_field": an Influx string field (DESIGN.md §1: not a sample)
  kHistogram,          // "histogram": native histograms (the data model has no histograms yet)
  kTimestamp,          // "timestamp": a timestamp that does not fit int64 milliseconds
  kStorage,            // "storage": any other storage error for a single sample
};
inline constexpr size_t kRejectReasonCount = 8;
std::string_view RejectReasonName(RejectReason r);

// How the request as a whole ended. HttpStatus() gives the code a handler answers with.
enum class IngestCode : uint8_t {
  kOk = 0,           // 204: everything written (exemplars and metadata may have been skipped)
  kBadInput,         // 400: bad framing (nothing written) or bad series/lines (the rest written)
  kTooLarge,         // 413: body (or decompressed body) over the configured limit; nothing written
  kOverloaded,       // 429: IngestLimiter refused; nothing written; retry later
  kStorageFault,     // 500: commit failed (I/O error, disk full); nothing written; retryable
  kUnavailable,      // 503: the Db is closing or locked; nothing written; retryable
};
int HttpStatus(IngestCode code);
std::string_view IngestCodeName(IngestCode code);

struct IngestOutcome {
  IngestCode code = IngestCode::kOk;
  // Empty when kOk. Otherwise one line for the client: the first problems with the series (in
  // PromQL notation) or the line number and byte position, then "(and N more errors)".
  std::string message;

  // Written = committed to storage. These feed X-Prometheus-Remote-Write-{Samples,Histograms,
  // Exemplars}-Written. Vigil stores no histograms or exemplars yet, so those two stay 0.
  uint64_t samples_written = 0;
  uint64_t histograms_written = 0;
  uint64_t exemplars_written = 0;

  // What the request held: series (remote write) or lines (line protocol) seen, exemplars
  // skipped (not errors: Vigil does not store them), metric metadata entries (remote write 1.0
  // metadata, 2.0 series with metadata), samples rejected by reason.
  uint64_t series_seen = 0;
  uint64_t exemplars_skipped = 0;
  uint64_t metadata_seen = 0;
  std::array<uint64_t, kRejectReasonCount> rejected{};

  uint64_t samples_rejected() const;
  int http_status() const { return HttpStatus(code); }
  bool ok() const { return code == IngestCode::kOk; }
};

// ---- Limits and options ------------------------------------------------------------------------

// Bounds the bytes of request bodies being decoded at once (after decompression), so a burst of
// writers gets 429 instead of exhausting memory. Thread-safe.
class IngestLimiter {
 public:
  explicit IngestLimiter(uint64_t max_inflight_bytes) : max_(max_inflight_bytes) {}
  IngestLimiter(const IngestLimiter&) = delete;
  IngestLimiter& operator=(const IngestLimiter&) = delete;

  // True and reserves `bytes` if they fit under the limit (a request alone larger than the limit
  // is admitted when nothing else is in flight, so it is never starved); false otherwise.
  bool TryAcquire(uint64_t bytes);
  void Release(uint64_t bytes);
  uint64_t inflight() const { return inflight_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return max_; }

  // Tests: `hook` runs in TryAcquire right after a request was admitted, on the request's thread,
  // with its bytes held, so a test can keep a real request in flight. Empty clears it. Costs one
  // relaxed load per request when unset.
  void SetAdmitHookForTesting(std::function<void(uint64_t bytes)> hook);

 private:
  const uint64_t max_;
  std::atomic<uint64_t> inflight_{0};
  std::atomic<bool> has_hook_{false};
  std::mutex hook_mu_;
  std::shared_ptr<const std::function<void(uint64_t)>> hook_;  // guarded by hook_mu_
};

struct IngestOptions {
  // Not owned. Wall time for line-protocol lines without a timestamp (one reading per request);
  // nullptr means the system clock.
  Clock* clock = nullptr;
  // Not owned; nullptr means no overload control.
  IngestLimiter* limiter = nullptr;
  // Not owned; nullptr means every series is looked up by its labels. With a cache, known series
  // are appended by ref (several times faster for one sample per series). REQUIRES: the cache is
  // used with this Db only.
  SeriesRefCache* series_cache = nullptr;
  // Not owned; nullptr means metric metadata is skipped. Remote write puts the metadata of a
  // request whose framing decoded in it (also when some of its samples were rejected).
  MetadataStore* metadata = nullptr;
  // Remote write: a body whose snappy header announces more than this is refused with kTooLarge
  // before decompressing. Line protocol: the body itself. (The HTTP layer bounds raw body size.)
  size_t max_decoded_bytes = 64u << 20;
  // Line protocol: a longer line is rejected (kMalformed) and the rest of the body still parsed.
  size_t max_line_bytes = 1u << 20;
  // Labels per series, after mapping; a series with more is rejected (kInvalidLabels).
  size_t max_labels_per_series = 128;
  // How many individual error messages the outcome's message lists before "(and N more errors)".
  size_t max_error_messages = 5;
};

// ---- Remote write --------------------------------------------------------------------------------

enum class RemoteWriteVersion : uint8_t {
  k1 = 1,  // prometheus.WriteRequest
  k2 = 2,  // io.prometheus.write.v2.Request (symbol table)
};

// Picks the version from a Content-Type header as the 2.0 spec negotiates it:
//   ""                                                        -> k1 (old senders send none)
//   application/x-protobuf                                    -> k1
//   application/x-protobuf;proto=prometheus.WriteRequest      -> k1
//   application/x-protobuf;proto=io.prometheus.write.v2.Request -> k2
// Parameters and case of the media type are tolerated as RFC 9110 allows. Anything else is
// NotSupported (answer 415 Unsupported Media Type) with a message naming the content type.
Result<RemoteWriteVersion> ParseRemoteWriteContentType(std::string_view content_type);

// Decodes a snappy block-format body (Content-Encoding: snappy; NOT the snappy framing format)
// holding the protobuf of `version` and writes its samples into `db`.
// Per series: labels must be sorted by name with unique, valid names (empty values are dropped);
// samples may hold any float including NaN and the stale marker (kept bit-exactly). Exemplars are
// skipped (counted in exemplars_skipped); metric metadata goes to options.metadata (1.0: the
// request's metadata entries; 2.0: each series' Metadata, family derived by MetricFamilyOf);
// native histograms are rejected (kHistogram, HTTP 400 naming the series) while the series' float
// samples are still written.
IngestOutcome IngestRemoteWrite(storage::Db& db, std::string_view snappy_body,
                                RemoteWriteVersion version, const IngestOptions& options = {});

// As IngestRemoteWrite, for a body that is already decompressed protobuf (tests, benchmarks,
// senders that use Content-Encoding: identity).
IngestOutcome IngestRemoteWriteProto(storage::Db& db, std::string_view proto,
                                     RemoteWriteVersion version, const IngestOptions& options = {});

// ---- Influx line protocol ------------------------------------------------------------------------

// Timestamp unit of line-protocol timestamps; converted to milliseconds by floor division.
enum class Precision : uint8_t { kNanoseconds, kMicroseconds, kMilliseconds, kSeconds, kMinutes, kHours };

// The `precision` query parameter of /write (n, ns, u, us, µ, ms, s, m, h) and /api/v2/write
// (ns, us, ms, s); "" is nanoseconds. Anything else: InvalidArgument naming the value.
Result<Precision> ParsePrecision(std::string_view text);

// Parses an Influx line-protocol body (one point per line; see server/docs/protocols/
// line_protocol.md) and writes every numeric and boolean field as a sample of
// `<measurement>_<field>{<tags>}` (a field named `value` is plain `<measurement>`). A line that does
// not parse, or holds a string field, is rejected as a whole with its 1-based line number and byte
// column in the message; every other line is written. Line protocol carries no metric metadata:
// options.metadata is left alone.
IngestOutcome IngestLineProtocol(storage::Db& db, std::string_view body, Precision precision,
                                 const IngestOptions& options = {});

// ---- Self-metrics ------------------------------------------------------------------------------

// Process-wide counters, updated by every Ingest* call (relaxed atomics; no lock).
struct IngestMetrics {
  std::array<std::atomic<uint64_t>, kProtocolCount> requests{};
  std::array<std::atomic<uint64_t>, kProtocolCount> samples_written{};
  std::array<std::atomic<uint64_t>, kProtocolCount> samples_rejected{};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejected_by_reason{};
  std::array<std::atomic<uint64_t>, kProtocolCount> exemplars_skipped{};
  // Requests answered with something other than kOk, per protocol.
  std::array<std::atomic<uint64_t>, kProtocolCount> failed_requests{};

  // Adds one finished request.
  void Record(Protocol protocol, const IngestOutcome& outcome);
};
IngestMetrics& GlobalIngestMetrics();

// Appends the counters in Prometheus text exposition format (with # HELP / # TYPE lines):
//   vigil_ingest_requests_total{protocol="..."}
//   vigil_ingest_failed_requests_total{protocol="..."}
//   vigil_ingest_samples_total{protocol="..."}                 (samples written)
//   vigil_ingest_samples_rejected_total{reason="..."}
//   vigil_ingest_exemplars_skipped_total{protocol="..."}
void AppendIngestMetricsText(const IngestMetrics& metrics, std::string* out);

}  // namespace vigil::server::ingest
