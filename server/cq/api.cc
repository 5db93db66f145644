#include "server/cq/api.h"

#include "server/http/json.h"

#include <cstdio>

namespace vigil::server::cq {

namespace {

// The body of a JSON string literal (without its quotes): server/http/json.h's escaping.
std::string Escape(std::string_view s) {
  std::string quoted;
  AppendJsonString(&quoted, s);
  return quoted.substr(1, quoted.size() - 2);
}

std::string Number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

ApiResponse Error(const Status& st) {
  int code = 500;
  std::string type = "internal";
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      code = 400;
      type = "bad_data";
      break;
    case StatusCode::kNotFound:
      code = 404;
      type = "not_found";
      break;
    case StatusCode::kAlreadyExists:
      code = 409;
      type = "conflict";
      break;
    case StatusCode::kUnavailable:
      code = 503;
      type = "unavailable";
      break;
    default:
      break;
  }
  return {code, "{\"status\":\"error\",\"errorType\":\"" + type + "\",\"error\":\"" +
                    Escape(st.message()) + "\"}"};
}

ApiResponse Success(const std::string& data) {
  return {200, "{\"status\":\"success\",\"data\":" + data + "}"};
}

}  // namespace

std::string StatusJson(const CqStatus& s) {
  const CqDefinition& d = s.def;
  std::string out = "{\"name\":\"" + Escape(d.name) + "\",\"kind\":\"" +
                    std::string(KindName(d.kind)) + "\",\"expr\":\"" + Escape(d.expr) +
                    "\",\"interval\":" + Number(static_cast<double>(d.interval_ms) / 1000);
  if (d.kind == CqKind::kForecast) {
    out += ",\"season\":" +
           (d.season_ms < 0 ? std::string("\"auto\"")
                            : Number(static_cast<double>(d.season_ms) / 1000)) +
           ",\"horizon\":" + Number(static_cast<double>(d.horizon_ms) / 1000) +
           ",\"coverage\":" + Number(d.coverage);
  }
  if (d.kind == CqKind::kAnomaly) out += ",\"sensitivity\":" + Number(d.sensitivity);
  out += ",\"labels\":{";
  for (size_t i = 0; i < d.labels.size(); ++i) {
    if (i) out += ",";
    out += "\"" + Escape(d.labels[i].first) + "\":\"" + Escape(d.labels[i].second) + "\"";
  }
  out += "},\"group\":\"" + Escape(d.group) +
         "\",\"lastEvaluation\":" + Number(static_cast<double>(s.last_eval_ms) / 1000) +
         ",\"nextEvaluation\":" + Number(static_cast<double>(s.next_eval_ms) / 1000) +
         ",\"lagSeconds\":" + Number(static_cast<double>(s.lag_ms) / 1000) +
         ",\"evaluations\":" + std::to_string(s.evaluations) +
         ",\"failures\":" + std::to_string(s.failures) +
         ",\"skipped\":" + std::to_string(s.skipped) + ",\"lastError\":\"" + Escape(s.last_error) +
         "\",\"evaluationTime\":" + Number(s.last_duration_s) +
         ",\"series\":" + std::to_string(s.series) + "}";
  return out;
}

ApiResponse HandleCqRequest(CqManager& manager, std::string_view method, std::string_view path,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            std::string_view body) {
  constexpr std::string_view kPrefix = "/api/v1/cq";
  if (path.substr(0, kPrefix.size()) != kPrefix) return Error(Status::NotFound("no such endpoint"));
  std::string_view rest = path.substr(kPrefix.size());
  if (rest.empty() || rest == "/") {
    if (method == "GET") {
      std::string data = "[";
      bool first = true;
      for (const CqStatus& s : manager.List()) {
        if (!first) data += ",";
        first = false;
        data += StatusJson(s);
      }
      return Success(data + "]");
    }
    if (method == "POST" || method == "PUT") {
      Result<CqDefinition> def = DefinitionFromParams(params);
      if (!def.ok()) return Error(def.status());
      Status st = manager.Create(*def);
      if (!st.ok()) return Error(st);
      Result<CqStatus> s = manager.Describe(def->name);
      if (!s.ok()) return Error(s.status());
      return Success(StatusJson(*s));
    }
    return {405,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"method not allowed\"}"};
  }
  if (rest == "/rules") {
    if (method != "POST" && method != "PUT") {
      return {405,
              "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"method not allowed\"}"};
    }
    Status st = manager.LoadRuleFile(body);
    if (!st.ok()) return Error(st);
    return Success("null");
  }
  const std::string_view name = rest.substr(1);
  if (rest[0] != '/' || name.find('/') != std::string_view::npos) {
    return Error(Status::NotFound("no such endpoint"));
  }
  if (method == "GET") {
    Result<CqStatus> s = manager.Describe(name);
    if (!s.ok()) return Error(s.status());
    return Success(StatusJson(*s));
  }
  if (method == "DELETE") {
    Status st = manager.Drop(name);
    if (!st.ok()) return Error(st);
    return Success("null");
  }
  return {405,
          "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"method not allowed\"}"};
}

}  // namespace vigil::server::cq
