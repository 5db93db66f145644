#pragma once

// The Prometheus HTTP API as the shell uses it (vigild serves the same API): query, query_range,
// labels, label values, series, buildinfo and TSDB status. Responses are decoded from the JSON
// envelope {"status", "data", "errorType", "error", "warnings", "infos"}.
//
// Errors: a server error keeps the server's text as the Status message (so that a parse error's
// "line:col" can be pointed at) and its errorType in ApiClient::last_error_type().
//
// Thread safety: one ApiClient per thread (it owns an HttpClient).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "tools/vigil/http_client.h"
#include "tools/vigil/json.h"

namespace vigil::shell {

struct Sample {
  int64_t t_ms = 0;
  double v = 0;
  std::string text;  // the value as the server wrote it ("1.5e+06", "NaN", or a string result)
};

struct Series {
  // Sorted by name as the server sent them; the metric name is "__name__".
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<Sample> samples;

  std::string_view Label(std::string_view name) const;
  std::string_view Name() const { return Label("__name__"); }
};

struct QueryResult {
  std::string result_type;     // "vector", "matrix", "scalar" or "string"
  std::vector<Series> series;  // scalar and string: one series without labels, one sample
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  JsonValue data;         // the envelope's "data", for JSON output
  double elapsed_ms = 0;  // client-side round trip
  bool range = false;
  int64_t start_ms = 0, end_ms = 0, step_ms = 0;  // range queries; start_ms is the time of an
                                                  // instant query

  size_t NumSamples() const;
};

// Parses a sample value as Prometheus writes it: decimal, "NaN", "+Inf", "-Inf".
double ParsePromValue(std::string_view text);

// Decodes an envelope's `data` of a query response into `out` (result_type, series).
Status DecodeQueryData(const JsonValue& data, QueryResult* out);

class ApiClient {
 public:
  ApiClient(Url url, HttpOptions options) : http_(std::move(url), std::move(options)) {}

  Result<QueryResult> Query(std::string_view expr, std::optional<int64_t> time_ms);
  Result<QueryResult> QueryRange(std::string_view expr, int64_t start_ms, int64_t end_ms,
                                 int64_t step_ms);
  // `match` is an optional series selector restricting the answer.
  Result<std::vector<std::string>> LabelNames(std::string_view match = {});
  Result<std::vector<std::string>> LabelValues(std::string_view label, std::string_view match = {});
  Result<std::vector<Series>> SeriesOf(std::string_view match);
  Result<JsonValue> BuildInfo();
  Result<JsonValue> TsdbStatus();
  // Any GET endpoint under the base URL, decoded from the envelope (for \cq and \status).
  Result<JsonValue> GetData(std::string_view target);
  Result<JsonValue> PostData(std::string_view target, std::string_view form);
  Result<JsonValue> DeleteData(std::string_view target);

  const std::string& last_error_type() const { return last_error_type_; }
  // HTTP status of the last answer (0 when none arrived).
  int last_http_status() const { return last_http_status_; }
  const Url& url() const { return http_.url(); }

 private:
  // Checks the envelope and returns "data"; collects warnings and infos when asked.
  Result<JsonValue> Envelope(Result<HttpResponse> response, std::vector<std::string>* warnings,
                             std::vector<std::string>* infos);

  HttpClient http_;
  std::string last_error_type_;
  int last_http_status_ = 0;
};

// "1700000000.123" (seconds with millisecond precision, as the API takes times).
std::string FormatApiTime(int64_t ms);

}  // namespace vigil::shell
