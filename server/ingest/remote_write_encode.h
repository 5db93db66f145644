#pragma once

// Builds remote-write request bodies: prometheus.WriteRequest (1.0) and io.prometheus.write.v2.
// Request (2.0, with its symbol table), as protobuf or snappy-compressed. For tests, the benchmark
// harness and clients embedded in tools; the output is what Prometheus itself sends (fields in
// number order, packed label refs), so a receiver cannot tell the difference.
// Thread safety: none; one encoder per thread.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_decode.h"
#include "storage/labels.h"

namespace vigil::server::ingest {

// Protobuf wire primitives, appended to `out`.
namespace pb {
void AppendVarint(uint64_t v, std::string* out);
void AppendTag(uint32_t field, uint8_t wire_type, std::string* out);
void AppendLenField(uint32_t field, std::string_view payload, std::string* out);
void AppendFixed64Field(uint32_t field, uint64_t v, std::string* out);
void AppendVarintField(uint32_t field, uint64_t v, std::string* out);
}  // namespace pb

// 2.0 per-series metric metadata (help and unit go into the symbol table).
struct SeriesMetadata {
  uint64_t type = 0;  // wire value of MetricType
  std::string_view help;
  std::string_view unit;
};

struct SeriesExtras {
  uint32_t exemplars = 0;   // empty Exemplar messages to add (receivers skip them)
  uint32_t histograms = 0;  // empty Histogram messages to add (Vigil rejects them)
  // 2.0: a Metadata message for the series (Prometheus sends one with every series). Not owned.
  const SeriesMetadata* metadata = nullptr;
};

class RemoteWriteEncoder {
 public:
  explicit RemoteWriteEncoder(RemoteWriteVersion version) : version_(version) { Reset(); }

  // Adds one series. Labels are written in the order given (senders must sort them; tests may
  // not). Empty values are written as they are.
  void AddSeries(std::span<const storage::Label> labels,
                 std::span<const RemoteWriteSample> samples, SeriesExtras extras = {});
  void AddSeries(const storage::Labels& labels, std::span<const RemoteWriteSample> samples,
                 SeriesExtras extras = {});

  // 1.0: adds a WriteRequest.metadata entry (MetricMetadata) after what was added so far.
  void AddMetadata(uint64_t type, std::string_view family, std::string_view help,
                   std::string_view unit);

  // The request so far as protobuf / as a snappy block. The encoder keeps its content.
  std::string Proto() const;
  std::string Snappy() const;
  size_t series() const { return series_; }

  void Reset();

 private:
  uint32_t Symbol(std::string_view s);

  RemoteWriteVersion version_;
  std::string body_;  // 1.0: the whole message; 2.0: the timeseries fields
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, uint32_t> symbol_ids_;
  std::vector<storage::Label> scratch_;
  std::string series_buf_, sample_buf_, refs_buf_;
  size_t series_ = 0;
};

}  // namespace vigil::server::ingest
