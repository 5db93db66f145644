#include "tools/vigil/api.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace vigil::shell {

std::string_view Series::Label(std::string_view name) const {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return {};
}

size_t QueryResult::NumSamples() const {
  size_t n = 0;
  for (const auto& s : series) n += s.samples.size();
  return n;
}

double ParsePromValue(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return std::numeric_limits<double>::quiet_NaN();
  return v;
}

std::string FormatApiTime(int64_t ms) {
  char buf[40];
  int64_t sec = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    sec -= 1;
  }
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(sec),
                static_cast<long long>(frac));
  return buf;
}

namespace {

Status Malformed(std::string_view what) {
  return Status::Corruption("malformed answer from the server: " + std::string(what));
}

// [<unix seconds>, "<value>"] -> Sample.
Status DecodePair(const JsonValue& pair, Sample* out) {
  if (!pair.is_array() || pair.array().size() != 2 || !pair.array()[0].is_number() ||
      !pair.array()[1].is_string()) {
    return Malformed("a sample is not [time, \"value\"]");
  }
  out->t_ms = std::llround(pair.array()[0].number() * 1000.0);
  out->text = pair.array()[1].str();
  out->v = ParsePromValue(out->text);
  return Status::OK();
}

Status DecodeLabels(const JsonValue& metric, Series* out) {
  if (!metric.is_object()) return Malformed("\"metric\" is not an object");
  for (const auto& [k, v] : metric.object()) {
    if (!v.is_string()) return Malformed("label value of " + k + " is not a string");
    out->labels.emplace_back(k, v.str());
  }
  std::sort(out->labels.begin(), out->labels.end());
  return Status::OK();
}

}  // namespace

Status DecodeQueryData(const JsonValue& data, QueryResult* out) {
  out->result_type = std::string(data.StringOr("resultType"));
  const JsonValue* result = data.Find("result");
  if (result == nullptr) return Malformed("no \"result\" in data");
  out->series.clear();
  if (out->result_type == "scalar" || out->result_type == "string") {
    Series s;
    s.samples.emplace_back();
    VIGIL_RETURN_IF_ERROR(DecodePair(*result, &s.samples.back()));
    out->series.push_back(std::move(s));
    return Status::OK();
  }
  if (out->result_type != "vector" && out->result_type != "matrix") {
    return Malformed("unknown resultType \"" + out->result_type + "\"");
  }
  if (!result->is_array()) return Malformed("\"result\" is not an array");
  bool matrix = out->result_type == "matrix";
  out->series.reserve(result->array().size());
  for (const JsonValue& item : result->array()) {
    Series s;
    const JsonValue* metric = item.Find("metric");
    if (metric != nullptr) VIGIL_RETURN_IF_ERROR(DecodeLabels(*metric, &s));
    if (matrix) {
      const JsonValue* values = item.Find("values");
      if (values != nullptr) {
        if (!values->is_array()) return Malformed("\"values\" is not an array");
        s.samples.resize(values->array().size());
        for (size_t i = 0; i < s.samples.size(); ++i) {
          VIGIL_RETURN_IF_ERROR(DecodePair(values->array()[i], &s.samples[i]));
        }
      }
    } else if (const JsonValue* value = item.Find("value")) {
      s.samples.emplace_back();
      VIGIL_RETURN_IF_ERROR(DecodePair(*value, &s.samples.back()));
    }
    out->series.push_back(std::move(s));
  }
  return Status::OK();
}

Result<JsonValue> ApiClient::Envelope(Result<HttpResponse> response,
                                      std::vector<std::string>* warnings,
                                      std::vector<std::string>* infos) {
  last_error_type_.clear();
  last_http_status_ = response.ok() ? response->status : 0;
  if (!response.ok()) {
    last_error_type_ = response.status().code() == StatusCode::kCancelled ? "canceled" : "client";
    return response.status();
  }
  const HttpResponse& r = *response;
  auto doc = JsonValue::Parse(r.body);
  if (!doc.ok() || !doc->is_object()) {
    last_error_type_ = "http";
    std::string body = r.body.substr(0, 200);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    std::string msg = "HTTP " + std::to_string(r.status);
    if (!body.empty()) msg += ": " + body;
    if (r.status == 401 || r.status == 403) {
      return Status::InvalidArgument(msg + " (check --token / VIGIL_TOKEN / --token-file)");
    }
    if (r.status >= 200 && r.status < 300) {
      return Malformed("not JSON (" + doc.status().message() + ")");
    }
    return Status::Unavailable(msg);
  }
  auto collect = [&](const char* key, std::vector<std::string>* out) {
    const JsonValue* list = doc->Find(key);
    if (out == nullptr || list == nullptr || !list->is_array()) return;
    for (const auto& w : list->array()) {
      if (w.is_string()) out->push_back(w.str());
    }
  };
  collect("warnings", warnings);
  collect("infos", infos);
  if (doc->StringOr("status") != "success") {
    last_error_type_ = std::string(doc->StringOr("errorType", "error"));
    std::string msg(doc->StringOr("error", "the server reported an error without a message"));
    if (last_error_type_ == "timeout") return Status::DeadlineExceeded(msg);
    if (last_error_type_ == "canceled") return Status::Cancelled(msg);
    if (last_error_type_ == "unavailable") return Status::Unavailable(msg);
    if (last_error_type_ == "internal") return Status::Internal(msg);
    if (last_error_type_ == "execution") return Status::ResourceExhausted(msg);
    if (r.status == 401 || r.status == 403) {
      msg += " (check --token / VIGIL_TOKEN / --token-file)";
    }
    return Status::InvalidArgument(msg);
  }
  JsonValue* data = doc->FindMutable("data");
  if (data == nullptr) return Malformed("\"data\" missing");
  return std::move(*data);
}

namespace {

double MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<QueryResult> ApiClient::Query(std::string_view expr, std::optional<int64_t> time_ms) {
  QueryResult out;
  std::string form = "query=" + UrlEncode(expr);
  if (time_ms) form += "&time=" + FormatApiTime(*time_ms);
  auto t0 = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(
      out.data, Envelope(http_.PostForm("/api/v1/query", form), &out.warnings, &out.infos));
  out.elapsed_ms = MillisSince(t0);
  out.start_ms = time_ms.value_or(0);
  VIGIL_RETURN_IF_ERROR(DecodeQueryData(out.data, &out));
  return out;
}

Result<QueryResult> ApiClient::QueryRange(std::string_view expr, int64_t start_ms, int64_t end_ms,
                                          int64_t step_ms) {
  QueryResult out;
  out.range = true;
  out.start_ms = start_ms;
  out.end_ms = end_ms;
  out.step_ms = step_ms;
  std::string form = "query=" + UrlEncode(expr) + "&start=" + FormatApiTime(start_ms) +
                     "&end=" + FormatApiTime(end_ms) + "&step=" + FormatApiTime(step_ms);
  auto t0 = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(
      out.data, Envelope(http_.PostForm("/api/v1/query_range", form), &out.warnings, &out.infos));
  out.elapsed_ms = MillisSince(t0);
  VIGIL_RETURN_IF_ERROR(DecodeQueryData(out.data, &out));
  return out;
}

namespace {

Result<std::vector<std::string>> StringList(const JsonValue& data) {
  if (!data.is_array()) return Malformed("expected a list of strings");
  std::vector<std::string> out;
  out.reserve(data.array().size());
  for (const auto& v : data.array()) {
    if (!v.is_string()) return Malformed("expected a list of strings");
    out.push_back(v.str());
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ApiClient::LabelNames(std::string_view match) {
  std::string target = "/api/v1/labels";
  if (!match.empty()) target += "?match[]=" + UrlEncode(match);
  VIGIL_ASSIGN_OR_RETURN(JsonValue data, Envelope(http_.Get(target), nullptr, nullptr));
  return StringList(data);
}

Result<std::vector<std::string>> ApiClient::LabelValues(std::string_view label,
                                                        std::string_view match) {
  std::string target = "/api/v1/label/" + UrlEncode(label) + "/values";
  if (!match.empty()) target += "?match[]=" + UrlEncode(match);
  VIGIL_ASSIGN_OR_RETURN(JsonValue data, Envelope(http_.Get(target), nullptr, nullptr));
  return StringList(data);
}

Result<std::vector<Series>> ApiClient::SeriesOf(std::string_view match) {
  VIGIL_ASSIGN_OR_RETURN(
      JsonValue data,
      Envelope(http_.Get("/api/v1/series?match[]=" + UrlEncode(match)), nullptr, nullptr));
  if (!data.is_array()) return Malformed("series: expected a list");
  std::vector<Series> out;
  for (const auto& item : data.array()) {
    Series s;
    VIGIL_RETURN_IF_ERROR(DecodeLabels(item, &s));
    out.push_back(std::move(s));
  }
  return out;
}

Result<JsonValue> ApiClient::BuildInfo() { return GetData("/api/v1/status/buildinfo"); }
Result<JsonValue> ApiClient::TsdbStatus() { return GetData("/api/v1/status/tsdb"); }

Result<JsonValue> ApiClient::GetData(std::string_view target) {
  return Envelope(http_.Get(target), nullptr, nullptr);
}

Result<JsonValue> ApiClient::DeleteData(std::string_view target) {
  return Envelope(http_.Delete(target), nullptr, nullptr);
}

Result<JsonValue> ApiClient::PostData(std::string_view target, std::string_view form) {
  return Envelope(http_.PostForm(target, form), nullptr, nullptr);
}

}  // namespace vigil::shell
