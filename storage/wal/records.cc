#include "storage/wal/records.h"

#include <bit>
#include <string>

#include "storage/wal/varint.h"

namespace vigil::storage::wal {
namespace {

using detail::AppendUvarint64;
using detail::AppendVarint64;
using detail::GetUvarint64;
using detail::GetVarint64;

Status Malformed(RecordType type, std::string_view what, size_t offset) {
  return Status::Corruption("wal " + std::string(RecordTypeName(type)) + " record: " +
                            std::string(what) + " at byte " + std::to_string(offset));
}

// Checks the type byte; returns the payload.
Status OpenRecord(std::string_view record, RecordType want, std::string_view* payload) {
  if (record.empty()) return Status::Corruption("wal record: empty");
  if (static_cast<uint8_t>(record[0]) != static_cast<uint8_t>(want)) {
    return Status::Corruption("wal record: type " +
                              std::to_string(static_cast<unsigned>(static_cast<uint8_t>(record[0]))) +
                              ", expected " + std::string(RecordTypeName(want)));
  }
  *payload = record.substr(1);
  return Status::OK();
}

// Reads uvarint length + bytes from [*p, end). Returns false if malformed.
bool GetLengthPrefixed(const char** p, const char* end, std::string_view* out) {
  uint64_t len = 0;
  const char* q = GetUvarint64(*p, end, &len);
  if (q == nullptr || len > static_cast<uint64_t>(end - q)) return false;
  *out = std::string_view(q, len);
  *p = q + len;
  return true;
}

}  // namespace

std::string_view RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kSeries: return "series";
    case RecordType::kSamples: return "samples";
    case RecordType::kTombstones: return "tombstones";
  }
  return "unknown";
}

void EncodeSeries(std::span<const RefSeries> series, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSeries));
  for (const RefSeries& s : series) {
    AppendUvarint64(s.ref, out);
    AppendUvarint64(s.labels.size(), out);
    out->append(s.labels);
  }
}

void EncodeSamples(std::span<const RefSample> samples, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSamples));
  if (samples.empty()) return;
  const SeriesRef base_ref = samples[0].ref;
  const int64_t base_t = samples[0].t;
  // Written through a pointer into room made once (a string append per field cost ~8% of a
  // remote-write load's CPU), then cut to what was written.
  const size_t start = out->size();
  out->resize(start + 2 * detail::kMaxVarint64Bytes + samples.size() * (2 * detail::kMaxVarint64Bytes + 8));
  char* p = out->data() + start;
  p = detail::PutUvarint64(p, base_ref);
  p = detail::PutUvarint64(p, detail::ZigZag(base_t));
  for (const RefSample& s : samples) {
    // Differences wrap in 64 bits, so every (ref, t) pair round-trips.
    p = detail::PutUvarint64(p, detail::ZigZag(static_cast<int64_t>(s.ref - base_ref)));
    p = detail::PutUvarint64(
        p, detail::ZigZag(static_cast<int64_t>(static_cast<uint64_t>(s.t) - static_cast<uint64_t>(base_t))));
    detail::PutFixed64(p, std::bit_cast<uint64_t>(s.v));
    p += 8;
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

void EncodeTombstones(std::span<const RefTombstone> tombstones, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kTombstones));
  for (const RefTombstone& s : tombstones) {
    AppendUvarint64(s.ref, out);
    AppendVarint64(s.min_t, out);
    AppendVarint64(
        static_cast<int64_t>(static_cast<uint64_t>(s.max_t) - static_cast<uint64_t>(s.min_t)), out);
  }
}

void EncodeLabelPairs(std::span<const LabelView> pairs, std::string* out) {
  for (const LabelView& l : pairs) {
    AppendUvarint64(l.name.size(), out);
    out->append(l.name);
    AppendUvarint64(l.value.size(), out);
    out->append(l.value);
  }
}

Result<RecordType> PeekRecordType(std::string_view record) {
  if (record.empty()) return Status::Corruption("wal record: empty");
  const auto t = static_cast<uint8_t>(record[0]);
  if (t < 1 || t > 3) {
    return Status::Corruption("wal record: unknown type " + std::to_string(static_cast<unsigned>(t)));
  }
  return static_cast<RecordType>(t);
}

Status DecodeLabelPairs(std::string_view encoded, std::vector<LabelView>* out) {
  out->clear();
  const char* p = encoded.data();
  const char* const end = p + encoded.size();
  while (p < end) {
    LabelView l;
    if (!GetLengthPrefixed(&p, end, &l.name) || !GetLengthPrefixed(&p, end, &l.value)) {
      return Status::Corruption("wal label set: bad framing at byte " +
                                std::to_string(p - encoded.data()));
    }
    out->push_back(l);
  }
  return Status::OK();
}

Status DecodeSeries(std::string_view record, std::vector<RefSeries>* out) {
  out->clear();
  std::string_view payload;
  VIGIL_RETURN_IF_ERROR(OpenRecord(record, RecordType::kSeries, &payload));
  const char* p = payload.data();
  const char* const end = p + payload.size();
  while (p < end) {
    const char* const entry = p;
    RefSeries s;
    p = GetUvarint64(p, end, &s.ref);
    if (p == nullptr || !GetLengthPrefixed(&p, end, &s.labels)) {
      return Malformed(RecordType::kSeries, "truncated series entry", entry - record.data());
    }
    // Check the label-set framing so consumers can walk it without further checks.
    const char* q = s.labels.data();
    const char* const lend = q + s.labels.size();
    std::string_view ignored;
    while (q < lend) {
      if (!GetLengthPrefixed(&q, lend, &ignored) || !GetLengthPrefixed(&q, lend, &ignored)) {
        return Malformed(RecordType::kSeries, "bad label-set framing", q - record.data());
      }
    }
    out->push_back(s);
  }
  return Status::OK();
}

Status DecodeSamples(std::string_view record, std::vector<RefSample>* out) {
  out->clear();
  std::string_view payload;
  VIGIL_RETURN_IF_ERROR(OpenRecord(record, RecordType::kSamples, &payload));
  if (payload.empty()) return Status::OK();
  const char* p = payload.data();
  const char* const end = p + payload.size();
  uint64_t base_ref = 0;
  int64_t base_t = 0;
  p = GetUvarint64(p, end, &base_ref);
  if (p != nullptr) p = GetVarint64(p, end, &base_t);
  if (p == nullptr) return Malformed(RecordType::kSamples, "truncated base", 1);
  if (p == end) return Malformed(RecordType::kSamples, "base without samples", 1);
  // Each sample takes at least 10 bytes (two 1-byte varints and the value).
  out->reserve(static_cast<size_t>(end - p) / 10);
  while (p < end) {
    const char* const entry = p;
    int64_t dref = 0;
    int64_t dt = 0;
    p = GetVarint64(p, end, &dref);
    if (p != nullptr) p = GetVarint64(p, end, &dt);
    if (p == nullptr || end - p < 8) {
      return Malformed(RecordType::kSamples, "truncated sample", entry - record.data());
    }
    RefSample s;
    s.ref = base_ref + static_cast<uint64_t>(dref);
    s.t = static_cast<int64_t>(static_cast<uint64_t>(base_t) + static_cast<uint64_t>(dt));
    s.v = std::bit_cast<double>(detail::GetFixed64(p));
    p += 8;
    out->push_back(s);
  }
  return Status::OK();
}

Status DecodeTombstones(std::string_view record, std::vector<RefTombstone>* out) {
  out->clear();
  std::string_view payload;
  VIGIL_RETURN_IF_ERROR(OpenRecord(record, RecordType::kTombstones, &payload));
  const char* p = payload.data();
  const char* const end = p + payload.size();
  while (p < end) {
    const char* const entry = p;
    RefTombstone s;
    int64_t span = 0;
    p = GetUvarint64(p, end, &s.ref);
    if (p != nullptr) p = GetVarint64(p, end, &s.min_t);
    if (p != nullptr) p = GetVarint64(p, end, &span);
    if (p == nullptr) {
      return Malformed(RecordType::kTombstones, "truncated tombstone", entry - record.data());
    }
    s.max_t = static_cast<int64_t>(static_cast<uint64_t>(s.min_t) + static_cast<uint64_t>(span));
    out->push_back(s);
  }
  return Status::OK();
}

}  // namespace vigil::storage::wal
