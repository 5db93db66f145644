// IngestLineProtocol: LineProtocolParser feeding a SampleWriter with the DESIGN.md §1 mapping.

#include <string>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "server/ingest/sample_writer.h"
#include "server/ingest/series_cache.h"
#include "storage/base/clock.h"
#include "storage/labels.h"

namespace vigil::server::ingest {
namespace {

using detail::SampleWriter;

std::string Quote(std::string_view s) {
  std::string out;
  detail::AppendQuotedForMessage(s, 64, &out);
  return out;
}

// Label names: [a-zA-Z_][a-zA-Z0-9_]*; metric names also allow ':'. Every other byte becomes '_'
// and a leading digit gets a '_' in front.
void AppendSanitized(std::string_view s, bool metric, std::string* out) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') out->push_back('_');
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (metric && c == ':');
    out->push_back(ok ? c : '_');
  }
}

// Converts a timestamp in `precision` units to milliseconds (floor division for finer units).
bool ToMillis(int64_t ts, Precision precision, int64_t* ms) {
  auto floor_div = [](int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  };
  switch (precision) {
    case Precision::kNanoseconds:
      *ms = floor_div(ts, 1000000);
      return true;
    case Precision::kMicroseconds:
      *ms = floor_div(ts, 1000);
      return true;
    case Precision::kMilliseconds:
      *ms = ts;
      return true;
    case Precision::kSeconds:
      return !__builtin_mul_overflow(ts, int64_t{1000}, ms);
    case Precision::kMinutes:
      return !__builtin_mul_overflow(ts, int64_t{60000}, ms);
    case Precision::kHours:
      return !__builtin_mul_overflow(ts, int64_t{3600000}, ms);
  }
  return false;
}

class LineIngester {
 public:
  // `body` is the request's body: the previous line's keys are remembered as views into it.
  LineIngester(SampleWriter* w, const IngestOptions& options, Precision precision, int64_t now_ms,
               std::string_view body)
      : w_(w), options_(options), precision_(precision), now_ms_(now_ms), body_(body) {}

  ~LineIngester() {
    if (memo_hits_ != 0) options_.series_cache->CountHits(memo_hits_);
  }

  // The line the parser is on; its tags may be deferred (set_defer_tags).
  void Ingest(LineProtocolParser& parser) {
    const ParsedLine& line = parser.line();
    w_->set_line(line.line_number);
    const size_t n = line.fields.size();
    for (const LineField& f : line.fields) {
      if (f.kind == FieldKind::kString) {
        if (!ParseTags(parser)) return;
        w_->Reject(RejectReason::kStringField, n, [&] {
          return "line " + std::to_string(line.line_number) + ": field " + Quote(f.key) +
                 " of measurement " + Quote(line.measurement) +
                 " is a string; Vigil stores numbers only, so the line was not written";
        });
        return;
      }
    }
    int64_t t = now_ms_;
    if (line.has_timestamp && !ToMillis(line.timestamp, precision_, &t)) {
      if (!ParseTags(parser)) return;  // malformed tags are the line's first error
      w_->Reject(RejectReason::kTimestamp, n, [&] {
        return "line " + std::to_string(line.line_number) + ": timestamp " +
               std::to_string(line.timestamp) + " does not fit int64 milliseconds";
      });
      return;
    }
    SeriesRefCache* cache = options_.series_cache;
    uint64_t series_hash = 0;
    bool all_hit = cache != nullptr;
    if (cache != nullptr && SameSeriesAsPreviousLine(line)) {
      // refs_ still holds the previous line's refs, every one of them known.
      memo_hits_ += n;
    } else if (cache != nullptr) {
      refs_.assign(n, storage::kNoSeriesRef);
      // "measurement,tags" as written cannot hold a '\n', nor can a field key: no ambiguity. A key
      // is only ever put after its line parsed completely, so a hit means the deferred tags parse.
      series_hash = SeriesRefCache::HashBytes(line.series_key);
      cache->GetLineFields(
          series_hash, line.series_key, n, [&](size_t i) { return line.fields[i].key; },
          refs_.data());
      for (size_t fi = 0; fi < n; ++fi) {
        if (refs_[fi] == storage::kNoSeriesRef) all_hit = false;
      }
    } else {
      refs_.assign(n, storage::kNoSeriesRef);
    }
    memo_valid_ = false;  // set again below once every field of this line has its ref
    if (!all_hit) {
      if (!ParseTags(parser)) return;
      if (line.tags.size() + 1 > options_.max_labels_per_series) {
        w_->Reject(RejectReason::kInvalidLabels, n, [&] {
          return "line " + std::to_string(line.line_number) + ": " +
                 std::to_string(line.tags.size() + 1) + " labels exceed the limit of " +
                 std::to_string(options_.max_labels_per_series);
        });
        return;
      }
    }
    bool prepared = false;
    size_t metric_base = 0, measurement_end = 0;
    for (size_t fi = 0; fi < n; ++fi) {
      const LineField& f = line.fields[fi];
      if (refs_[fi] != storage::kNoSeriesRef) {
        if (w_->AppendByRef(refs_[fi], t, f.value)) continue;
        cache->CountStale();  // garbage-collected since: by labels, and the new ref is put
        refs_[fi] = storage::kNoSeriesRef;
        if (series_hash == 0) series_hash = SeriesRefCache::HashBytes(line.series_key);
        if (!ParseTags(parser)) return;  // cannot fail: the key parsed when it was put
      }
      if (!prepared) {
        // Tag keys, sanitised, into one buffer (views taken after it stops growing).
        prepared = true;
        names_.clear();
        name_ends_.clear();
        for (const LineTag& tag : line.tags) {
          AppendSanitized(tag.key, false, &names_);
          name_ends_.push_back(names_.size());
        }
        metric_base = names_.size();
        AppendSanitized(line.measurement, true, &names_);
        measurement_end = names_.size();
      }
      names_.resize(measurement_end);
      if (f.key != "value") {
        names_.push_back('_');
        AppendSanitized(f.key, true, &names_);
      }
      builder_.Reset();
      builder_.Add(storage::kMetricNameLabel,
                   std::string_view(names_).substr(metric_base, names_.size() - metric_base));
      size_t begin = 0;
      for (size_t i = 0; i < line.tags.size(); ++i) {
        const std::string_view key(names_.data() + begin, name_ends_[i] - begin);
        begin = name_ends_[i];
        if (key == storage::kMetricNameLabel) {
          w_->Reject(RejectReason::kInvalidLabels, n - fi, [&] {
            return "line " + std::to_string(line.line_number) + ": tag key " +
                   Quote(line.tags[i].key) + " is reserved for the metric name";
          });
          return;
        }
        builder_.Add(key, line.tags[i].value);
      }
      Result<storage::Labels> ls = builder_.Build();
      if (!ls.ok()) {
        // Two tag keys that are equal after sanitising (e.g. "a-b" and "a_b"), or a repeated key.
        w_->Reject(RejectReason::kInvalidLabels, n - fi, [&] {
          return "line " + std::to_string(line.line_number) + ": " + ls.status().message();
        });
        return;
      }
      bool labels_invalid = false;
      const storage::SeriesRef ref = w_->Append(*ls, t, f.value, &labels_invalid);
      if (labels_invalid) {
        // The other fields share the tags: one message is enough.
        w_->CountRejected(RejectReason::kInvalidLabels, n - fi - 1);
        return;
      }
      if (cache != nullptr && ref != storage::kNoSeriesRef) {
        cache->PutLine(series_hash, line.series_key, f.key, ref);
        refs_[fi] = ref;
      }
    }
    if (cache != nullptr) Remember(line);
  }

 private:
  SampleWriter* w_;
  const IngestOptions& options_;
  Precision precision_;
  int64_t now_ms_;
  std::string names_;
  std::vector<size_t> name_ends_;
  std::string_view body_;
  // Per field of the line: cached ref or kNoSeriesRef. After a line whose every field has a ref
  // (memo_valid_), they stay here for the next line: a client that sends a series' samples one
  // line after another (a per-series batch) then costs one key comparison per line instead of a
  // hash and a look-up per field. The keys are views into the body (lines whose field keys were
  // unescaped are not remembered).
  std::vector<storage::SeriesRef> refs_;
  bool memo_valid_ = false;
  std::string_view memo_series_key_;
  std::vector<std::string_view> memo_fields_;
  uint64_t memo_hits_ = 0;

  bool InBody(std::string_view s) const {
    return s.data() >= body_.data() && s.data() + s.size() <= body_.data() + body_.size();
  }

  bool SameSeriesAsPreviousLine(const ParsedLine& line) const {
    if (!memo_valid_ || line.series_key != memo_series_key_ ||
        line.fields.size() != memo_fields_.size()) {
      return false;
    }
    for (size_t i = 0; i < memo_fields_.size(); ++i) {
      if (line.fields[i].key != memo_fields_[i]) return false;
    }
    return true;
  }

  void Remember(const ParsedLine& line) {
    memo_valid_ = false;
    memo_fields_.clear();
    for (size_t i = 0; i < line.fields.size(); ++i) {
      if (refs_[i] == storage::kNoSeriesRef || !InBody(line.fields[i].key)) return;
      memo_fields_.push_back(line.fields[i].key);
    }
    memo_series_key_ = line.series_key;
    memo_valid_ = true;
  }
  storage::LabelsBuilder builder_;

  // Splits deferred tags; a line whose tags do not parse is malformed, as without deferral.
  bool ParseTags(LineProtocolParser& parser) {
    if (parser.ParseTags()) return true;
    w_->Reject(RejectReason::kMalformed, 1, [&] { return parser.error().ToString(); });
    return false;
  }
};

}  // namespace

IngestOutcome IngestLineProtocol(storage::Db& db, std::string_view body, Precision precision,
                                 const IngestOptions& options) {
  IngestOutcome out;
  SampleWriter writer(db, Protocol::kLineProtocol, options, &out);
  if (body.size() > options.max_decoded_bytes) {
    writer.Abort(IngestCode::kTooLarge, "nothing was written: body of " +
                                            std::to_string(body.size()) +
                                            " bytes exceeds the limit of " +
                                            std::to_string(options.max_decoded_bytes) + " bytes");
    return out;
  }
  if (options.limiter != nullptr && !options.limiter->TryAcquire(body.size())) {
    writer.Abort(IngestCode::kOverloaded,
                 "too many writes in flight (" + std::to_string(options.limiter->inflight()) +
                     " bytes being decoded, limit " + std::to_string(options.limiter->limit()) +
                     "); retry later");
    return out;
  }
  const Clock* clock = options.clock != nullptr ? options.clock : SystemClock();
  LineIngester ingester(&writer, options, precision, clock->NowMillis(), body);
  LineProtocolParser parser(body, options.max_line_bytes);
  // With the cache, a known series needs only its key as written: tags are split on a miss.
  parser.set_defer_tags(options.series_cache != nullptr);
  while (true) {
    const LineProtocolParser::Event ev = parser.Next();
    if (ev == LineProtocolParser::Event::kEnd) break;
    ++out.series_seen;
    if (ev == LineProtocolParser::Event::kError) {
      writer.Reject(RejectReason::kMalformed, 1, [&] { return parser.error().ToString(); });
      continue;
    }
    ingester.Ingest(parser);
  }
  writer.Finish();
  if (options.limiter != nullptr) options.limiter->Release(body.size());
  return out;
}

}  // namespace vigil::server::ingest
