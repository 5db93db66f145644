#include "server/ingest/remote_write_decode.h"

#include <snappy.h>

#include <cstring>

#include "server/ingest/protobuf_reader.h"

namespace vigil::server::ingest {

using detail::ProtoReader;
using detail::WireType;

Status SnappyDecode(std::string_view body, size_t max_bytes, std::string* out) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &len)) {
    return Status::InvalidArgument("snappy: the body (" + std::to_string(body.size()) +
                                   " bytes) does not start with a valid block-format length");
  }
  if (len > max_bytes) {
    return Status::ResourceExhausted("snappy: decoded length " + std::to_string(len) +
                                     " bytes exceeds the limit of " + std::to_string(max_bytes) +
                                     " bytes");
  }
  out->resize(len);
  if (!snappy::RawUncompress(body.data(), body.size(), out->data())) {
    out->clear();
    return Status::InvalidArgument("snappy: corrupt or truncated block-format data (" +
                                   std::to_string(body.size()) + " bytes, announcing " +
                                   std::to_string(len) + " decoded bytes)");
  }
  return Status::OK();
}

namespace {

// Sample (both versions): double value = 1; int64 timestamp = 2. Other fields (2.0's
// start_timestamp = 3) are skipped.
void ReadSample(ProtoReader& parent, std::vector<RemoteWriteSample>* out) {
  size_t base = 0;
  const std::string_view msg = parent.ReadBytes(&base);
  if (!parent.ok()) return;
  ProtoReader r(msg, base);
  RemoteWriteSample s{0, 0.0};
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    if (f == 1) {
      if (r.Expect(wt, WireType::kFixed64, "Sample", f)) s.v = r.ReadDouble();
    } else if (f == 2) {
      if (r.Expect(wt, WireType::kVarint, "Sample", f)) s.t = static_cast<int64_t>(r.ReadVarint());
    } else {
      r.Skip(wt);
    }
  }
  if (parent.Adopt(r)) out->push_back(s);
}

// prometheus.Label: string name = 1; string value = 2.
[[gnu::always_inline]] inline void ReadLabelV1(ProtoReader& parent,
                                               std::vector<storage::Label>* out) {
  size_t base = 0;
  const std::string_view msg = parent.ReadBytes(&base);
  if (!parent.ok()) return;
  ProtoReader r(msg, base);
  storage::Label l;
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    if (f == 1) {
      if (r.Expect(wt, WireType::kLen, "Label", f)) l.name = r.ReadBytes();
    } else if (f == 2) {
      if (r.Expect(wt, WireType::kLen, "Label", f)) l.value = r.ReadBytes();
    } else {
      r.Skip(wt);
    }
  }
  if (parent.Adopt(r)) out->push_back(l);
}

// A varint for the fast path: false when truncated or longer than 10 bytes / 64 bits (the general
// path then reports it).
inline bool FastVarint(const unsigned char** pp, const unsigned char* end, uint64_t* v) {
  const unsigned char* p = *pp;
  if (p < end && *p < 0x80) {
    *v = *p;
    *pp = p + 1;
    return true;
  }
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char b = *p++;
    if (shift == 63 && b > 1) return false;
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = r;
      *pp = p;
      return true;
    }
  }
  return false;
}

// The fast path of a 1.0 TimeSeries, without ProtoReader: label fields (one contiguous run, not
// decoded), samples encoded as value (tag 0x09) then timestamp (tag 0x10), exemplars (skipped).
// False for anything else or any framing problem; the general path (ReadSeriesV1) then decodes
// the series and reports errors exactly as it always did. Fills samples and exemplars.
bool ScanSeriesV1(std::string_view msg, std::string_view* raw_labels,
                  std::vector<RemoteWriteSample>* samples, uint32_t* exemplars) {
  const auto* p = reinterpret_cast<const unsigned char*>(msg.data());
  const unsigned char* const end = p + msg.size();
  const unsigned char* labels_begin = nullptr;
  const unsigned char* labels_end = nullptr;
  samples->clear();
  *exemplars = 0;
  while (p < end) {
    const unsigned char* const field = p;
    const unsigned char tag = *p++;
    if (tag != 0x0a && tag != 0x12 && tag != 0x1a) return false;
    uint64_t len;
    if (!FastVarint(&p, end, &len) || len > static_cast<uint64_t>(end - p)) return false;
    const unsigned char* const payload = p;
    p += len;
    if (tag == 0x0a) {  // labels = 1
      if (labels_begin == nullptr) {
        labels_begin = field;
      } else if (field != labels_end) {
        return false;
      }
      labels_end = p;
    } else if (tag == 0x12) {  // samples = 2: 0x09 <8 bytes> 0x10 <varint>
      if (len < 11 || payload[0] != 0x09 || payload[9] != 0x10) return false;
      RemoteWriteSample x;
      std::memcpy(&x.v, payload + 1, 8);
      const unsigned char* q = payload + 10;
      uint64_t t;
      if (!FastVarint(&q, p, &t) || q != p) return false;
      x.t = static_cast<int64_t>(t);
      samples->push_back(x);
    } else {  // exemplars = 3
      ++*exemplars;
    }
  }
  if (labels_begin == nullptr) return false;
  *raw_labels = std::string_view(reinterpret_cast<const char*>(labels_begin),
                                 static_cast<size_t>(labels_end - labels_begin));
  return true;
}

// prometheus.TimeSeries: repeated Label labels = 1; repeated Sample samples = 2;
// repeated Exemplar exemplars = 3; repeated Histogram histograms = 4.
void ReadSeriesV1(std::string_view msg, size_t base, ProtoReader& parent, size_t index, bool fast,
                  RemoteWriteHandler& handler, RemoteWriteScratch* scratch) {
  DecodedSeries series;
  series.index = index;
  if (fast && ScanSeriesV1(msg, &series.raw_labels, &scratch->samples, &series.exemplars) &&
      handler.KnownLabels(series.raw_labels)) {
    series.labels_decoded = false;
    series.samples = scratch->samples;
    handler.OnSeries(series);
    return;
  }
  series = DecodedSeries();
  series.index = index;
  ProtoReader r(msg, base);
  scratch->labels.clear();
  scratch->samples.clear();
  // The label fields' run, relative to msg; raw_labels only when it is one run.
  size_t labels_begin = 0, labels_end = 0;
  bool have_labels = false, contiguous = true;
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    switch (f) {
      case 1:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) {
          const size_t at = r.tag_offset() - base;
          ReadLabelV1(r, &scratch->labels);
          if (!have_labels) {
            labels_begin = at;
            have_labels = true;
          } else if (at != labels_end) {
            contiguous = false;
          }
          labels_end = r.offset() - base;
        }
        break;
      case 2:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) ReadSample(r, &scratch->samples);
        break;
      case 3:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) r.ReadBytes();
        ++series.exemplars;
        break;
      case 4:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) r.ReadBytes();
        ++series.histograms;
        break;
      default:
        r.Skip(wt);
    }
  }
  if (!parent.Adopt(r)) return;
  series.labels = scratch->labels;
  series.samples = scratch->samples;
  if (have_labels && contiguous)
    series.raw_labels = msg.substr(labels_begin, labels_end - labels_begin);
  handler.OnSeries(series);
}

// prometheus.MetricMetadata: MetricType type = 1; string metric_family_name = 2; string help = 4;
// string unit = 5.
void ReadMetadataV1(ProtoReader& parent, RemoteWriteHandler& handler) {
  size_t base = 0;
  const std::string_view msg = parent.ReadBytes(&base);
  if (!parent.ok()) return;
  ProtoReader r(msg, base);
  DecodedMetadata m;
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    switch (f) {
      case 1:
        if (r.Expect(wt, WireType::kVarint, "MetricMetadata", f)) m.type = r.ReadVarint();
        break;
      case 2:
        if (r.Expect(wt, WireType::kLen, "MetricMetadata", f)) m.family = r.ReadBytes();
        break;
      case 4:
        if (r.Expect(wt, WireType::kLen, "MetricMetadata", f)) m.help = r.ReadBytes();
        break;
      case 5:
        if (r.Expect(wt, WireType::kLen, "MetricMetadata", f)) m.unit = r.ReadBytes();
        break;
      default:
        r.Skip(wt);
    }
  }
  if (parent.Adopt(r)) handler.OnMetadata(m);
}

Status DecodeV1(std::string_view proto, RemoteWriteHandler& handler, RemoteWriteScratch* scratch) {
  ProtoReader r(proto);
  size_t index = 0;
  const bool fast = handler.KnowsSeries();
  uint32_t f;
  WireType wt;
  std::string_view msg;
  size_t base = 0;
  while (true) {
    // timeseries = 1, the tag byte 0x0a: most fields of a request.
    if (r.TryReadLenField(0x0a, &msg, &base)) {
      ReadSeriesV1(msg, base, r, index++, fast, handler, scratch);
      continue;
    }
    if (!r.NextField(&f, &wt)) break;
    if (f == 1) {
      if (r.Expect(wt, WireType::kLen, "WriteRequest", f)) {
        msg = r.ReadBytes(&base);
        if (r.ok()) ReadSeriesV1(msg, base, r, index++, fast, handler, scratch);
      }
    } else if (f == 3) {
      if (r.Expect(wt, WireType::kLen, "WriteRequest", f)) ReadMetadataV1(r, handler);
    } else if ((f == 4 || f == 5) && wt == WireType::kLen) {
      // Skipping these would silently drop a whole 2.0 request sent with the 1.0 content type.
      r.Fail(r.tag_offset(),
             "field " + std::to_string(f) +
                 " is not part of prometheus.WriteRequest (a 2.0 body? send "
                 "Content-Type: application/x-protobuf;proto=io.prometheus.write.v2."
                 "Request)");
    } else {
      r.Skip(wt);  // anything newer
    }
  }
  if (!r.ok()) return Status::InvalidArgument(r.error());
  return Status::OK();
}

// io.prometheus.write.v2.Metadata: MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4
// (references into the symbol table; 0 is the empty string).
void ReadMetadataV2(ProtoReader& parent, size_t index, const std::vector<std::string_view>& symbols,
                    DecodedMetadata* out) {
  size_t base = 0;
  const std::string_view msg = parent.ReadBytes(&base);
  if (!parent.ok()) return;
  ProtoReader r(msg, base);
  auto symbol = [&](const char* what, std::string_view* dst) {
    const size_t at = r.offset();
    const uint64_t ref = r.ReadVarint();
    if (!r.ok()) return;
    if (ref >= symbols.size()) {
      r.Fail(at, std::string(what) + " reference " + std::to_string(ref) +
                     " in the metadata of series " + std::to_string(index) +
                     " is outside the symbol table of " + std::to_string(symbols.size()) +
                     " entries");
      return;
    }
    *dst = symbols[ref];
  };
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    switch (f) {
      case 1:
        if (r.Expect(wt, WireType::kVarint, "Metadata", f)) out->type = r.ReadVarint();
        break;
      case 3:
        if (r.Expect(wt, WireType::kVarint, "Metadata", f)) symbol("help", &out->help);
        break;
      case 4:
        if (r.Expect(wt, WireType::kVarint, "Metadata", f)) symbol("unit", &out->unit);
        break;
      default:
        r.Skip(wt);
    }
  }
  parent.Adopt(r);
}

// io.prometheus.write.v2.TimeSeries: repeated uint32 labels_refs = 1 (packed); repeated Sample
// samples = 2; repeated Histogram histograms = 3; repeated Exemplar exemplars = 4; Metadata
// metadata = 5; int64 created_timestamp = 6.
void ReadSeriesV2(ProtoReader& parent, size_t index, RemoteWriteHandler& handler,
                  RemoteWriteScratch* scratch) {
  size_t base = 0;
  const std::string_view msg = parent.ReadBytes(&base);
  if (!parent.ok()) return;
  ProtoReader r(msg, base);
  scratch->labels.clear();
  scratch->samples.clear();
  const std::vector<std::string_view>& symbols = scratch->symbols;
  DecodedSeries series;
  series.index = index;
  // Label refs come in (name, value) pairs, possibly split over several packed runs.
  bool have_name = false;
  std::string_view pending_name;
  auto add_ref = [&](uint64_t ref, size_t at) {
    if (ref >= symbols.size()) {
      r.Fail(at, "label reference " + std::to_string(ref) + " of series " + std::to_string(index) +
                     " is outside the symbol table of " + std::to_string(symbols.size()) +
                     " entries");
      return;
    }
    if (!have_name) {
      pending_name = symbols[ref];
      have_name = true;
    } else {
      scratch->labels.push_back({pending_name, symbols[ref]});
      have_name = false;
    }
  };
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    switch (f) {
      case 1:
        if (wt == WireType::kLen) {
          size_t run_base = 0;
          const std::string_view run = r.ReadBytes(&run_base);
          ProtoReader refs(run, run_base);
          while (!refs.at_end() && refs.ok()) {
            const size_t at = refs.offset();
            const uint64_t ref = refs.ReadVarint();
            if (refs.ok()) add_ref(ref, at);
          }
          r.Adopt(refs);
        } else if (r.Expect(wt, WireType::kVarint, "TimeSeries", f)) {
          const size_t at = r.offset();
          add_ref(r.ReadVarint(), at);
        }
        break;
      case 2:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) ReadSample(r, &scratch->samples);
        break;
      case 3:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) r.ReadBytes();
        ++series.histograms;
        break;
      case 4:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) r.ReadBytes();
        ++series.exemplars;
        break;
      case 5:
        if (r.Expect(wt, WireType::kLen, "TimeSeries", f)) {
          series.has_metadata = true;
          ReadMetadataV2(r, index, symbols, &series.metadata);
        }
        break;
      default:
        r.Skip(wt);  // created_timestamp = 6
    }
  }
  if (r.ok() && have_name) {
    r.Fail(base, "series " + std::to_string(index) +
                     " has an odd number of label references (a name without a value)");
  }
  if (!parent.Adopt(r)) return;
  series.labels = scratch->labels;
  series.samples = scratch->samples;
  handler.OnSeries(series);
}

Status DecodeV2(std::string_view proto, RemoteWriteHandler& handler, RemoteWriteScratch* scratch) {
  // Pass 1: the symbol table (string symbols = 4), wherever it sits in the message.
  scratch->symbols.clear();
  {
    ProtoReader r(proto);
    uint32_t f;
    WireType wt;
    while (r.NextField(&f, &wt)) {
      if (f == 4) {
        if (r.Expect(wt, WireType::kLen, "Request", f)) scratch->symbols.push_back(r.ReadBytes());
      } else if (f <= 3 && wt == WireType::kLen) {
        // Fields 1 to 3 are reserved in 2.0; field 1 is 1.0's timeseries.
        r.Fail(r.tag_offset(),
               "field " + std::to_string(f) +
                   " is reserved in io.prometheus.write.v2.Request (a 1.0 body? send "
                   "Content-Type: application/x-protobuf)");
      } else {
        r.Skip(wt);
      }
    }
    if (!r.ok()) return Status::InvalidArgument(r.error());
  }
  // Pass 2: the series (TimeSeries timeseries = 5).
  ProtoReader r(proto);
  size_t index = 0;
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    if (f == 5 && r.Expect(wt, WireType::kLen, "Request", f)) {
      ReadSeriesV2(r, index++, handler, scratch);
    } else {
      r.Skip(wt);
    }
  }
  if (!r.ok()) return Status::InvalidArgument(r.error());
  return Status::OK();
}

}  // namespace

Status DecodeLabelsV1(std::string_view raw, std::vector<storage::Label>* out) {
  ProtoReader r(raw);
  uint32_t f;
  WireType wt;
  while (r.NextField(&f, &wt)) {
    if (f == 1 && r.Expect(wt, WireType::kLen, "TimeSeries", f)) {
      ReadLabelV1(r, out);
    } else if (f != 1) {
      r.Fail(r.tag_offset(), "field " + std::to_string(f) + " among the label fields");
    }
  }
  if (!r.ok()) return Status::InvalidArgument(r.error());
  return Status::OK();
}

Status DecodeRemoteWrite(std::string_view proto, RemoteWriteVersion version,
                         RemoteWriteHandler& handler, RemoteWriteScratch* scratch) {
  return version == RemoteWriteVersion::k2 ? DecodeV2(proto, handler, scratch)
                                           : DecodeV1(proto, handler, scratch);
}

}  // namespace vigil::server::ingest
