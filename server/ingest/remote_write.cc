// IngestRemoteWrite: snappy + protobuf decoding (remote_write_decode.h) feeding a SampleWriter.

#include <snappy.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/metadata.h"
#include "server/ingest/remote_write_decode.h"
#include "server/ingest/sample_writer.h"
#include "server/ingest/series_cache.h"
#include "storage/labels.h"

namespace vigil::server::ingest {
namespace {

using detail::SampleWriter;

class IngestHandler final : public RemoteWriteHandler {
 public:
  IngestHandler(SampleWriter* writer, IngestOutcome* out, const IngestOptions& options)
      : w_(writer), out_(out), options_(options) {}

  void OnMetadata(const DecodedMetadata& m) override {
    ++out_->metadata_seen;
    if (options_.metadata != nullptr) {
      metadata_.push_back({m.family, MetricTypeFromWire(m.type), m.help, m.unit});
    }
  }

  // Metadata of the request, views into it; put into the store once the framing decoded.
  std::span<const MetadataUpdate> metadata() const { return metadata_; }

  bool KnowsSeries() const override { return options_.series_cache != nullptr; }

  bool KnownLabels(std::string_view raw) override {
    SeriesRefCache* cache = options_.series_cache;
    if (cache == nullptr) return false;
    asked_ = raw;
    known_ref_ = cache->GetTagged(SeriesRefCache::kRemoteWriteRawKey, raw);
    return known_ref_ != storage::kNoSeriesRef;
  }

  void OnSeries(const DecodedSeries& s) override {
    ++out_->series_seen;
    out_->exemplars_skipped += s.exemplars;
    if (s.has_metadata) SeriesMetadata(s);
    // The answer KnownLabels gave for this series, if it was asked.
    const bool asked = !s.raw_labels.empty() && s.raw_labels.data() == asked_.data() &&
                       s.raw_labels.size() == asked_.size();
    asked_ = {};
    if (s.samples.empty() && s.histograms == 0) return;
    // Appended in time order: the head checks a sample against committed data only, so an older
    // sample behind a newer one of the same batch would pass Append and be dropped at commit.
    std::span<const RemoteWriteSample> samples = s.samples;
    if (!std::is_sorted(samples.begin(), samples.end(), ByTime)) {
      sorted_.assign(samples.begin(), samples.end());
      std::stable_sort(sorted_.begin(), sorted_.end(), ByTime);
      samples = sorted_;
    }
    size_t i = 0;
    SeriesRefCache* cache = options_.series_cache;
    // 1.0 series whose label fields are one run are keyed by those bytes as sent
    // (kRemoteWriteRawKey); others by their labels (length-prefixed, so no two label lists share
    // one key).
    const bool raw_key = !s.raw_labels.empty();
    if (cache != nullptr && s.histograms == 0) {
      storage::SeriesRef ref = storage::kNoSeriesRef;
      if (asked) {
        ref = known_ref_;
      } else if (raw_key) {
        ref = cache->GetTagged(SeriesRefCache::kRemoteWriteRawKey, s.raw_labels);
      } else {
        key_.assign(1, SeriesRefCache::kRemoteWriteKey);
        for (const storage::Label& l : s.labels) {
          AppendKeyPart(l.name);
          AppendKeyPart(l.value);
        }
        ref = cache->Get(key_);
      }
      if (ref != storage::kNoSeriesRef) {
        while (i < samples.size() && w_->AppendByRef(ref, samples[i].t, samples[i].v)) ++i;
        if (i == samples.size()) return;
        // The head dropped the series since: go on by labels.
        cache->CountStale();
      }
    }
    if (!s.labels_decoded) {
      // A known series whose ref went stale: its label bytes decoded when they were put.
      DecodedSeries decoded = s;
      raw_decoded_.clear();
      if (!DecodeLabelsV1(s.raw_labels, &raw_decoded_).ok()) return;  // cannot happen
      decoded.labels = raw_decoded_;
      decoded.labels_decoded = true;
      return AppendByLabels(decoded, samples, i, raw_key);
    }
    AppendByLabels(s, samples, i, raw_key);
  }

 private:
  // Samples [i, end) of a series by its (decoded) labels; puts its ref in the cache.
  void AppendByLabels(const DecodedSeries& s, std::span<const RemoteWriteSample> samples, size_t i,
                      bool raw_key) {
    SeriesRefCache* cache = options_.series_cache;
    if (!CheckLabels(s)) return;
    const storage::Labels ls = storage::Labels::FromSorted(labels_);
    if (s.histograms > 0) {
      w_->Reject(RejectReason::kHistogram, s.histograms, [&] {
        return "series " + ls.ToString() + ": " + std::to_string(s.histograms) +
               " native histogram sample(s) rejected (Vigil stores float samples only)";
      });
    }
    storage::SeriesRef ref = storage::kNoSeriesRef;
    for (; i < samples.size(); ++i) {
      const RemoteWriteSample& sample = samples[i];
      if (ref != storage::kNoSeriesRef && w_->AppendByRef(ref, sample.t, sample.v)) continue;
      bool labels_invalid = false;
      ref = w_->Append(ls, sample.t, sample.v, &labels_invalid);
      if (labels_invalid) {
        // The error is the series', not the sample's: reject the rest without asking again.
        w_->CountRejected(RejectReason::kInvalidLabels, samples.size() - i - 1);
        return;
      }
      if (ref != storage::kNoSeriesRef && cache != nullptr && s.histograms == 0) {
        if (raw_key) {
          cache->PutTagged(SeriesRefCache::kRemoteWriteRawKey, s.raw_labels, ref);
        } else {
          cache->Put(key_, ref);
        }
        cache = nullptr;  // once per series
      }
    }
  }

  static bool ByTime(const RemoteWriteSample& a, const RemoteWriteSample& b) { return a.t < b.t; }

  // 2.0: the family is the series' metric name (less the suffixes of its type). Series of one
  // family usually follow each other: a repeat of the previous entry is not queued again.
  void SeriesMetadata(const DecodedSeries& s) {
    ++out_->metadata_seen;
    if (options_.metadata == nullptr) return;
    const MetricType type = MetricTypeFromWire(s.metadata.type);
    if (type == MetricType::kUnknown && s.metadata.help.empty() && s.metadata.unit.empty()) return;
    std::string_view name;
    for (const storage::Label& l : s.labels) {
      if (l.name == storage::kMetricNameLabel) name = l.value;
    }
    if (name.empty()) return;
    const MetadataUpdate u{MetricFamilyOf(name, type), type, s.metadata.help, s.metadata.unit};
    if (!metadata_.empty()) {
      const MetadataUpdate& last = metadata_.back();
      if (last.family == u.family && last.type == u.type && last.help == u.help &&
          last.unit == u.unit) {
        return;
      }
    }
    metadata_.push_back(u);
  }

  void AppendKeyPart(std::string_view part) {
    const auto n = static_cast<uint32_t>(part.size());
    key_.append(reinterpret_cast<const char*>(&n), sizeof(n));
    key_.append(part);
  }

  // Copies the non-empty labels to labels_ and checks order, uniqueness and count. On failure the
  // series' samples are rejected with a message naming it.
  bool CheckLabels(const DecodedSeries& s) {
    labels_.clear();
    for (const storage::Label& l : s.labels) {
      if (!l.value.empty()) labels_.push_back(l);
    }
    std::string problem;
    if (labels_.size() > options_.max_labels_per_series) {
      problem = std::to_string(labels_.size()) + " labels exceed the limit of " +
                std::to_string(options_.max_labels_per_series);
    } else {
      for (size_t i = 1; i < labels_.size(); ++i) {
        if (labels_[i - 1].name < labels_[i].name) continue;
        std::string a, b;
        detail::AppendQuotedForMessage(labels_[i - 1].name, 64, &a);
        detail::AppendQuotedForMessage(labels_[i].name, 64, &b);
        problem = labels_[i - 1].name == labels_[i].name
                      ? "duplicate label name " + a
                      : "labels are not sorted by name (" + b + " comes after " + a + ")";
        break;
      }
    }
    if (problem.empty()) return true;
    w_->Reject(RejectReason::kInvalidLabels, s.samples.size() + s.histograms, [&] {
      return "series " + detail::FormatLabelPairs(s.labels) + " (#" + std::to_string(s.index) +
             " in the request): " + problem;
    });
    return false;
  }

  SampleWriter* w_;
  IngestOutcome* out_;
  const IngestOptions& options_;
  std::vector<storage::Label> labels_;
  std::vector<RemoteWriteSample> sorted_;
  std::string key_;
  std::string_view asked_;  // the raw labels of the last KnownLabels call
  storage::SeriesRef known_ref_ = storage::kNoSeriesRef;
  std::vector<storage::Label> raw_decoded_;
  std::vector<MetadataUpdate> metadata_;
};

Protocol ProtocolOf(RemoteWriteVersion v) {
  return v == RemoteWriteVersion::k2 ? Protocol::kRemoteWrite2 : Protocol::kRemoteWrite1;
}

IngestOutcome Refuse(Protocol protocol, IngestCode code, std::string message) {
  IngestOutcome out;
  out.code = code;
  out.message = std::move(message);
  GlobalIngestMetrics().Record(protocol, out);
  return out;
}

// Holds limiter bytes for the duration of a request.
class LimiterGuard {
 public:
  LimiterGuard(IngestLimiter* limiter, uint64_t bytes) : limiter_(limiter), bytes_(bytes) {
    acquired_ = limiter_ == nullptr || limiter_->TryAcquire(bytes_);
  }
  ~LimiterGuard() {
    if (limiter_ != nullptr && acquired_) limiter_->Release(bytes_);
  }
  bool acquired() const { return acquired_; }

 private:
  IngestLimiter* limiter_;
  uint64_t bytes_;
  bool acquired_;
};

// Large decode buffers are not kept by idle threads.
constexpr size_t kMaxRetainedScratch = 8u << 20;

RemoteWriteScratch& ThreadScratch() {
  thread_local RemoteWriteScratch scratch;
  return scratch;
}

IngestOutcome IngestDecoded(storage::Db& db, std::string_view proto, RemoteWriteVersion version,
                            const IngestOptions& options, RemoteWriteScratch& scratch) {
  IngestOutcome out;
  SampleWriter writer(db, ProtocolOf(version), options, &out);
  IngestHandler handler(&writer, &out, options);
  Status st = DecodeRemoteWrite(proto, version, handler, &scratch);
  if (!st.ok()) {
    writer.Abort(IngestCode::kBadInput, "nothing was written: " + st.message());
    return out;
  }
  if (options.metadata != nullptr && !handler.metadata().empty()) {
    options.metadata->Update(handler.metadata());
  }
  writer.Finish();
  return out;
}

}  // namespace

IngestOutcome IngestRemoteWriteProto(storage::Db& db, std::string_view proto,
                                     RemoteWriteVersion version, const IngestOptions& options) {
  const Protocol protocol = ProtocolOf(version);
  if (proto.size() > options.max_decoded_bytes) {
    return Refuse(protocol, IngestCode::kTooLarge,
                  "request of " + std::to_string(proto.size()) + " bytes exceeds the limit of " +
                      std::to_string(options.max_decoded_bytes) + " bytes");
  }
  LimiterGuard guard(options.limiter, proto.size());
  if (!guard.acquired()) {
    return Refuse(protocol, IngestCode::kOverloaded,
                  "too many writes in flight (" + std::to_string(options.limiter->inflight()) +
                      " bytes being decoded, limit " + std::to_string(options.limiter->limit()) +
                      "); retry later");
  }
  return IngestDecoded(db, proto, version, options, ThreadScratch());
}

IngestOutcome IngestRemoteWrite(storage::Db& db, std::string_view snappy_body,
                                RemoteWriteVersion version, const IngestOptions& options) {
  const Protocol protocol = ProtocolOf(version);
  size_t decoded_len = 0;
  if (!snappy::GetUncompressedLength(snappy_body.data(), snappy_body.size(), &decoded_len)) {
    return Refuse(protocol, IngestCode::kBadInput,
                  "nothing was written: snappy: the body (" + std::to_string(snappy_body.size()) +
                      " bytes) does not start with a valid block-format length");
  }
  if (decoded_len > options.max_decoded_bytes) {
    return Refuse(protocol, IngestCode::kTooLarge,
                  "nothing was written: snappy: decoded length " + std::to_string(decoded_len) +
                      " bytes exceeds the limit of " + std::to_string(options.max_decoded_bytes) +
                      " bytes");
  }
  LimiterGuard guard(options.limiter, decoded_len);
  if (!guard.acquired()) {
    return Refuse(protocol, IngestCode::kOverloaded,
                  "too many writes in flight (" + std::to_string(options.limiter->inflight()) +
                      " bytes being decoded, limit " + std::to_string(options.limiter->limit()) +
                      "); retry later");
  }
  RemoteWriteScratch& scratch = ThreadScratch();
  Status st = SnappyDecode(snappy_body, options.max_decoded_bytes, &scratch.decoded);
  if (!st.ok()) {
    return Refuse(protocol, IngestCode::kBadInput, "nothing was written: " + st.message());
  }
  IngestOutcome out = IngestDecoded(db, scratch.decoded, version, options, scratch);
  if (scratch.decoded.capacity() > kMaxRetainedScratch) std::string().swap(scratch.decoded);
  return out;
}

}  // namespace vigil::server::ingest
