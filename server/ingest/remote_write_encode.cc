#include "server/ingest/remote_write_encode.h"

#include <snappy.h>

#include <cstring>

namespace vigil::server::ingest {
namespace pb {

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void AppendTag(uint32_t field, uint8_t wire_type, std::string* out) {
  AppendVarint((static_cast<uint64_t>(field) << 3) | wire_type, out);
}

void AppendLenField(uint32_t field, std::string_view payload, std::string* out) {
  AppendTag(field, 2, out);
  AppendVarint(payload.size(), out);
  out->append(payload);
}

void AppendFixed64Field(uint32_t field, uint64_t v, std::string* out) {
  AppendTag(field, 1, out);
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian hosts
  out->append(buf, 8);
}

void AppendVarintField(uint32_t field, uint64_t v, std::string* out) {
  AppendTag(field, 0, out);
  AppendVarint(v, out);
}

}  // namespace pb

void RemoteWriteEncoder::Reset() {
  body_.clear();
  symbols_.clear();
  symbol_ids_.clear();
  series_ = 0;
  if (version_ == RemoteWriteVersion::k2) Symbol("");  // symbols[0] is the empty string
}

uint32_t RemoteWriteEncoder::Symbol(std::string_view s) {
  auto [it, inserted] = symbol_ids_.try_emplace(std::string(s), symbols_.size());
  if (inserted) symbols_.emplace_back(s);
  return it->second;
}

void RemoteWriteEncoder::AddSeries(const storage::Labels& labels,
                                   std::span<const RemoteWriteSample> samples,
                                   SeriesExtras extras) {
  scratch_.assign(labels.begin(), labels.end());
  AddSeries(std::span<const storage::Label>(scratch_), samples, extras);
}

void RemoteWriteEncoder::AddSeries(std::span<const storage::Label> labels,
                                   std::span<const RemoteWriteSample> samples,
                                   SeriesExtras extras) {
  ++series_;
  series_buf_.clear();
  if (version_ == RemoteWriteVersion::k1) {
    for (const storage::Label& l : labels) {
      std::string label;
      pb::AppendLenField(1, l.name, &label);
      pb::AppendLenField(2, l.value, &label);
      pb::AppendLenField(1, label, &series_buf_);
    }
  } else {
    refs_buf_.clear();
    for (const storage::Label& l : labels) {
      pb::AppendVarint(Symbol(l.name), &refs_buf_);
      pb::AppendVarint(Symbol(l.value), &refs_buf_);
    }
    if (!refs_buf_.empty()) pb::AppendLenField(1, refs_buf_, &series_buf_);
  }
  for (const RemoteWriteSample& s : samples) {
    sample_buf_.clear();
    uint64_t bits;
    std::memcpy(&bits, &s.v, 8);
    // proto3 leaves zero values out, as Prometheus' encoder does.
    if (bits != 0) pb::AppendFixed64Field(1, bits, &sample_buf_);
    if (s.t != 0) pb::AppendVarintField(2, static_cast<uint64_t>(s.t), &sample_buf_);
    pb::AppendLenField(2, sample_buf_, &series_buf_);
  }
  const uint32_t exemplar_field = version_ == RemoteWriteVersion::k1 ? 3 : 4;
  const uint32_t histogram_field = version_ == RemoteWriteVersion::k1 ? 4 : 3;
  for (uint32_t i = 0; i < extras.exemplars; ++i) pb::AppendLenField(exemplar_field, {}, &series_buf_);
  for (uint32_t i = 0; i < extras.histograms; ++i) pb::AppendLenField(histogram_field, {}, &series_buf_);
  if (extras.metadata != nullptr && version_ == RemoteWriteVersion::k2) {
    std::string md;
    if (extras.metadata->type != 0) pb::AppendVarintField(1, extras.metadata->type, &md);
    if (const uint32_t help = Symbol(extras.metadata->help); help != 0) pb::AppendVarintField(3, help, &md);
    if (const uint32_t unit = Symbol(extras.metadata->unit); unit != 0) pb::AppendVarintField(4, unit, &md);
    pb::AppendLenField(5, md, &series_buf_);
  }
  pb::AppendLenField(version_ == RemoteWriteVersion::k1 ? 1 : 5, series_buf_, &body_);
}

void RemoteWriteEncoder::AddMetadata(uint64_t type, std::string_view family, std::string_view help,
                                     std::string_view unit) {
  std::string md;
  if (type != 0) pb::AppendVarintField(1, type, &md);
  if (!family.empty()) pb::AppendLenField(2, family, &md);
  if (!help.empty()) pb::AppendLenField(4, help, &md);
  if (!unit.empty()) pb::AppendLenField(5, unit, &md);
  pb::AppendLenField(3, md, &body_);
}

std::string RemoteWriteEncoder::Proto() const {
  if (version_ == RemoteWriteVersion::k1) return body_;
  std::string out;
  for (const std::string& s : symbols_) pb::AppendLenField(4, s, &out);
  out += body_;
  return out;
}

std::string RemoteWriteEncoder::Snappy() const {
  const std::string proto = Proto();
  std::string out;
  snappy::Compress(proto.data(), proto.size(), &out);
  return out;
}

}  // namespace vigil::server::ingest
