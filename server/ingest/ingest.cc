#include "server/ingest/ingest.h"

#include <algorithm>
#include <cctype>

namespace vigil::server::ingest {

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kRemoteWrite1:
      return "remote_write_v1";
    case Protocol::kRemoteWrite2:
      return "remote_write_v2";
    case Protocol::kLineProtocol:
      return "influx_line";
    case Protocol::kNative:
      return "native";
  }
  return "unknown";
}

std::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kInvalidLabels:
      return "invalid_labels";
    case RejectReason::kOutOfOrder:
      return "out_of_order";
    case RejectReason::kDuplicateTimestamp:
      return "duplicate_timestamp";
    case RejectReason::kMalformed:
      return "malformed";
    case RejectReason::kStringField:
      return "string_field";
    case RejectReason::kHistogram:
      return "histogram";
    case RejectReason::kTimestamp:
      return "timestamp";
    case RejectReason::kStorage:
      return "storage";
  }
  return "unknown";
}

int HttpStatus(IngestCode code) {
  switch (code) {
    case IngestCode::kOk:
      return 204;
    case IngestCode::kBadInput:
      return 400;
    case IngestCode::kTooLarge:
      return 413;
    case IngestCode::kOverloaded:
      return 429;
    case IngestCode::kStorageFault:
      return 500;
    case IngestCode::kUnavailable:
      return 503;
  }
  return 500;
}

std::string_view IngestCodeName(IngestCode code) {
  switch (code) {
    case IngestCode::kOk:
      return "ok";
    case IngestCode::kBadInput:
      return "bad_input";
    case IngestCode::kTooLarge:
      return "too_large";
    case IngestCode::kOverloaded:
      return "overloaded";
    case IngestCode::kStorageFault:
      return "storage_fault";
    case IngestCode::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

uint64_t IngestOutcome::samples_rejected() const {
  uint64_t n = 0;
  for (uint64_t r : rejected) n += r;
  return n;
}

bool IngestLimiter::TryAcquire(uint64_t bytes) {
  uint64_t cur = inflight_.load(std::memory_order_relaxed);
  while (true) {
    if (cur != 0 && (bytes > max_ || cur > max_ - bytes)) return false;
    if (inflight_.compare_exchange_weak(cur, cur + bytes, std::memory_order_acq_rel)) break;
  }
  if (has_hook_.load(std::memory_order_relaxed)) {
    std::shared_ptr<const std::function<void(uint64_t)>> hook;
    {
      std::lock_guard<std::mutex> lock(hook_mu_);
      hook = hook_;
    }
    if (hook) (*hook)(bytes);
  }
  return true;
}

void IngestLimiter::SetAdmitHookForTesting(std::function<void(uint64_t bytes)> hook) {
  std::lock_guard<std::mutex> lock(hook_mu_);
  hook_ = hook ? std::make_shared<const std::function<void(uint64_t)>>(std::move(hook)) : nullptr;
  has_hook_.store(hook_ != nullptr, std::memory_order_relaxed);
}

void IngestLimiter::Release(uint64_t bytes) {
  inflight_.fetch_sub(bytes, std::memory_order_acq_rel);
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<RemoteWriteVersion> ParseRemoteWriteContentType(std::string_view content_type) {
  std::string_view rest = Trim(content_type);
  if (rest.empty()) return RemoteWriteVersion::k1;
  size_t semi = rest.find(';');
  const std::string media = Lower(Trim(rest.substr(0, semi)));
  if (media != "application/x-protobuf") {
    return Status::NotSupported("unsupported Content-Type \"" + std::string(content_type) +
                                "\": remote write takes application/x-protobuf with "
                                "proto=prometheus.WriteRequest or "
                                "proto=io.prometheus.write.v2.Request");
  }
  RemoteWriteVersion version = RemoteWriteVersion::k1;
  while (semi != std::string_view::npos) {
    rest = rest.substr(semi + 1);
    semi = rest.find(';');
    std::string_view param = Trim(rest.substr(0, semi));
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (Lower(Trim(param.substr(0, eq))) != "proto") continue;
    std::string_view value = Trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value == "prometheus.WriteRequest") {
      version = RemoteWriteVersion::k1;
    } else if (value == "io.prometheus.write.v2.Request") {
      version = RemoteWriteVersion::k2;
    } else {
      return Status::NotSupported("unsupported remote write proto \"" + std::string(value) +
                                  "\": Vigil takes prometheus.WriteRequest (1.0) and "
                                  "io.prometheus.write.v2.Request (2.0)");
    }
  }
  return version;
}

Result<Precision> ParsePrecision(std::string_view text) {
  if (text.empty() || text == "n" || text == "ns") return Precision::kNanoseconds;
  if (text == "u" || text == "us" || text == "\xc2\xb5" || text == "\xc2\xb5s") {
    return Precision::kMicroseconds;
  }
  if (text == "ms") return Precision::kMilliseconds;
  if (text == "s") return Precision::kSeconds;
  if (text == "m") return Precision::kMinutes;
  if (text == "h") return Precision::kHours;
  return Status::InvalidArgument("invalid precision \"" + std::string(text.substr(0, 32)) +
                                 "\": expected one of ns, us, ms, s (or n, u, m, h)");
}

void IngestMetrics::Record(Protocol protocol, const IngestOutcome& outcome) {
  const auto p = static_cast<size_t>(protocol);
  requests[p].fetch_add(1, std::memory_order_relaxed);
  if (outcome.code != IngestCode::kOk) failed_requests[p].fetch_add(1, std::memory_order_relaxed);
  samples_written[p].fetch_add(outcome.samples_written, std::memory_order_relaxed);
  const uint64_t rejected = outcome.samples_rejected();
  if (rejected > 0) samples_rejected[p].fetch_add(rejected, std::memory_order_relaxed);
  for (size_t r = 0; r < kRejectReasonCount; ++r) {
    if (outcome.rejected[r] > 0) {
      rejected_by_reason[r].fetch_add(outcome.rejected[r], std::memory_order_relaxed);
    }
  }
  if (outcome.exemplars_skipped > 0) {
    exemplars_skipped[p].fetch_add(outcome.exemplars_skipped, std::memory_order_relaxed);
  }
}

IngestMetrics& GlobalIngestMetrics() {
  static IngestMetrics* metrics = new IngestMetrics();
  return *metrics;
}

namespace {

void AppendFamily(std::string_view name, std::string_view help, std::string_view label,
                  const std::atomic<uint64_t>* values, size_t n,
                  std::string_view (*label_value)(size_t), std::string* out) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" counter\n");
  for (size_t i = 0; i < n; ++i) {
    out->append(name).append("{").append(label).append("=\"").append(label_value(i));
    out->append("\"} ").append(std::to_string(values[i].load(std::memory_order_relaxed)));
    out->append("\n");
  }
}

std::string_view ProtocolLabel(size_t i) { return ProtocolName(static_cast<Protocol>(i)); }
std::string_view ReasonLabel(size_t i) { return RejectReasonName(static_cast<RejectReason>(i)); }

}  // namespace

void AppendIngestMetricsText(const IngestMetrics& m, std::string* out) {
  AppendFamily("vigil_ingest_requests_total", "Write requests (or native batches) received.",
               "protocol", m.requests.data(), kProtocolCount, ProtocolLabel, out);
  AppendFamily("vigil_ingest_failed_requests_total",
               "Write requests answered with an error (some of their samples may be written).",
               "protocol", m.failed_requests.data(), kProtocolCount, ProtocolLabel, out);
  AppendFamily("vigil_ingest_samples_total", "Samples written to storage.", "protocol",
               m.samples_written.data(), kProtocolCount, ProtocolLabel, out);
  AppendFamily("vigil_ingest_samples_rejected_total", "Samples not written, by reason.", "reason",
               m.rejected_by_reason.data(), kRejectReasonCount, ReasonLabel, out);
  AppendFamily("vigil_ingest_exemplars_skipped_total",
               "Exemplars received and not stored (Vigil does not store exemplars).", "protocol",
               m.exemplars_skipped.data(), kProtocolCount, ProtocolLabel, out);
}

}  // namespace vigil::server::ingest
