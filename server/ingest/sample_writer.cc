#include "server/ingest/sample_writer.h"

#include <algorithm>
#include <span>
#include <utility>

#include "storage/base/utf8.h"
#include "storage/db.h"

namespace vigil::server::ingest::detail {

SampleWriter::SampleWriter(storage::Db& db, Protocol protocol, const IngestOptions& options,
                           IngestOutcome* out)
    : protocol_(protocol), options_(options), out_(out), app_(db.NewAppender()) {}

SampleWriter::~SampleWriter() {
  if (!done_) app_->Rollback();
}

storage::SeriesRef SampleWriter::Append(const storage::Labels& labels, int64_t t, double v,
                                        bool* labels_invalid) {
  *labels_invalid = false;
  Result<storage::SeriesRef> r = app_->Append(labels, t, v);
  if (r.ok()) {
    ++appended_;
    return *r;
  }
  if (r.status().IsInvalidArgument()) *labels_invalid = true;
  Classify(r.status(), 1);
  return storage::kNoSeriesRef;
}

bool SampleWriter::AppendByRef(storage::SeriesRef ref, int64_t t, double v) {
  Status st = app_->AppendByRef(ref, t, v);
  if (st.ok()) {
    ++appended_;
    return true;
  }
  if (st.IsNotFound()) return false;
  Classify(st, 1);
  return true;
}

void SampleWriter::Classify(const Status& st, uint64_t count) {
  RejectReason reason;
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      reason = RejectReason::kInvalidLabels;
      break;
    case StatusCode::kOutOfRange:
      reason = RejectReason::kOutOfOrder;
      break;
    case StatusCode::kAlreadyExists:
      reason = RejectReason::kDuplicateTimestamp;
      break;
    default:
      // Not a property of the sample: the request should be retried.
      reason = RejectReason::kStorage;
      if (!storage_fault_) {
        storage_fault_ = true;
        fault_ = st;
      }
      break;
  }
  Reject(reason, count, [&] {
    return line_ == 0 ? st.message() : "line " + std::to_string(line_) + ": " + st.message();
  });
}

void SampleWriter::AddMessage(std::string message) {
  if (!out_->message.empty()) out_->message += "; ";
  out_->message += message;
  ++errors_listed_;
}

void SampleWriter::Abort(IngestCode code, std::string message) {
  app_->Rollback();
  done_ = true;
  appended_ = 0;
  out_->code = code;
  out_->samples_written = 0;
  out_->message = std::move(message);
  GlobalIngestMetrics().Record(protocol_, *out_);
}

void SampleWriter::Finish() {
  done_ = true;
  Status st = storage_fault_ ? fault_ : app_->Commit();
  if (storage_fault_) app_->Rollback();
  if (!st.ok()) {
    out_->samples_written = 0;
    out_->code = st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kCancelled
                     ? IngestCode::kUnavailable
                 : st.code() == StatusCode::kResourceExhausted ? IngestCode::kOverloaded
                                                               : IngestCode::kStorageFault;
    out_->message = "nothing was written: storage failed: " + st.ToString();
  } else {
    // Samples the commit could not keep (another writer moved their series on meanwhile) are
    // rejected like those Append() refused, never counted as written.
    const storage::Appender::CommitRejections& late = app_->last_commit_rejections();
    if (late.count != 0) {
      appended_ -= std::min<uint64_t>(appended_, late.count);
      const size_t line = line_;
      line_ = 0;  // the batch's samples are no longer tied to one line
      Classify(late.first, late.count);
      line_ = line;
    }
    out_->samples_written = appended_;
    if (out_->samples_rejected() > 0 || errors_listed_ > 0) {
      out_->code = IngestCode::kBadInput;
      if (errors_unlisted_ > 0) {
        out_->message += " (and " + std::to_string(errors_unlisted_) + " more errors)";
      }
    } else {
      out_->code = IngestCode::kOk;
    }
  }
  GlobalIngestMetrics().Record(protocol_, *out_);
}

void AppendQuotedForMessage(std::string_view s, size_t max_bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = s.size() > max_bytes;
  if (truncated) s = s.substr(0, max_bytes);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else {
      char32_t cp;
      const int n = c >= 0x80 ? DecodeUtf8(s, i, &cp) : 0;
      if (n > 0) {
        out->append(s.data() + i, n);
        i += n;
      } else {
        out->append("\\x");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
        ++i;
      }
    }
  }
  out->push_back('"');
  if (truncated) out->append("...");
}

std::string FormatLabelPairs(std::span<const storage::Label> labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    // Names are shown quoted too: they may hold any bytes when they are the problem.
    AppendQuotedForMessage(labels[i].name, 128, &out);
    out += '=';
    AppendQuotedForMessage(labels[i].value, 128, &out);
  }
  out += '}';
  return out;
}

}  // namespace vigil::server::ingest::detail
