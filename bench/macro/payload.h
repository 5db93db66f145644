#pragma once

// Request bodies for the macro benchmark's sender, built before anything is timed: Prometheus
// remote write 1.0 (protobuf WriteRequest, snappy block format) and Influx line protocol.
//
// Both cut a dataset the same way, time-major and sharded by series, as Prometheus' remote-write
// queue does: series i (or line group i) belongs to shard i % shards, and each shard is sent in
// order over its own connection, so no series' samples ever overtake each other. The time axis is
// split into windows; each window walks every series (dataset order) and appends that series'
// samples in the window to its shard's current request, which is closed once it holds
// `batch_samples` samples. Every system so sees the same requests, and no series runs ahead of the
// others by more than about one request (Prometheus rejects samples older than its head's
// appendable range).
//
// Thread safety: free functions of their arguments.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/data/datasets.h"

namespace vigil::bench::macro {

struct Request {
  std::string body;
  size_t samples = 0;
  int64_t first_ts = 0;  // the smallest timestamp in the body (the sender paces shards by it)
};

struct BatchOptions {
  size_t batch_samples = 10'000;
  int64_t window_ms = 0;  // 0: ten times the first series' sampling interval
  size_t shards = 1;      // one per sending connection
};

// A series name in PromQL notation split into its metric name and labels (sorted by name, values
// unescaped). Returns false with *error naming the position when the text is not of that form.
struct ParsedName {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;
};
bool ParseSeriesName(std::string_view text, ParsedName* out, std::string* error);

// *out gets one list of requests per shard, each in the order it must be sent.
//
// Remote write 1.0 bodies (already snappy-compressed), made by Vigil's own encoder
// (server/ingest/remote_write_encode.h). Labels are __name__ plus the series' labels, sorted by
// name as the protocol requires.
bool BuildRemoteWrite(const Dataset& d, const BatchOptions& o, std::vector<std::vector<Request>>* out,
                      std::string* error);

// Line protocol bodies with millisecond timestamps (send with precision=ms). Series are grouped
// into multi-field lines as Dataset::line_measurement says; otherwise one line per sample with
// measurement = metric name and the single field `value`. Values are written in the shortest form
// that reads back to the same float64; non-finite values cannot be written and are an error
// (drop them from the dataset first).
bool BuildLineProtocol(const Dataset& d, const BatchOptions& o, std::vector<std::vector<Request>>* out,
                       std::string* error);

}  // namespace vigil::bench::macro
