#include "server/api/envelope.h"

namespace vigil::server {

std::string_view ApiErrorTypeName(ApiErrorType t) {
  switch (t) {
    case ApiErrorType::kBadData: return "bad_data";
    case ApiErrorType::kExecution: return "execution";
    case ApiErrorType::kCanceled: return "canceled";
    case ApiErrorType::kTimeout: return "timeout";
    case ApiErrorType::kUnavailable: return "unavailable";
    case ApiErrorType::kNotFound: return "not_found";
    case ApiErrorType::kInternal: return "internal";
  }
  return "internal";
}

int ApiErrorHttpStatus(ApiErrorType t) {
  switch (t) {
    case ApiErrorType::kBadData: return 400;
    case ApiErrorType::kExecution: return 422;
    case ApiErrorType::kCanceled: return 499;  // client closed the connection (nginx's code)
    case ApiErrorType::kTimeout: return 503;
    case ApiErrorType::kUnavailable: return 503;
    case ApiErrorType::kNotFound: return 404;
    case ApiErrorType::kInternal: return 500;
  }
  return 500;
}

ApiErrorType ClassifyQueryError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
    case StatusCode::kOutOfRange:
      return ApiErrorType::kExecution;
    case StatusCode::kDeadlineExceeded: return ApiErrorType::kTimeout;
    case StatusCode::kCancelled: return ApiErrorType::kCanceled;
    case StatusCode::kUnavailable: return ApiErrorType::kUnavailable;
    default: return ApiErrorType::kInternal;
  }
}

namespace {
void WriteNotes(JsonWriter* w, const Annotations& notes) {
  if (!notes.warnings.empty()) {
    w->Key("warnings").BeginArray();
    for (const auto& s : notes.warnings) w->String(s);
    w->EndArray();
  }
  if (!notes.infos.empty()) {
    w->Key("infos").BeginArray();
    for (const auto& s : notes.infos) w->String(s);
    w->EndArray();
  }
}
}  // namespace

void RespondApiError(HttpResponse* resp, ApiErrorType type, std::string_view message,
                     const Annotations& notes) {
  resp->status = ApiErrorHttpStatus(type);
  resp->content_type = "application/json";
  resp->body.clear();
  JsonWriter w(&resp->body);
  w.BeginObject().Key("status").String("error");
  w.Key("errorType").String(ApiErrorTypeName(type)).Key("error").String(message);
  WriteNotes(&w, notes);
  w.EndObject();
}

void RespondSuccess(HttpResponse* resp, std::string_view data_json, const Annotations& notes) {
  resp->status = 200;
  resp->content_type = "application/json";
  resp->body.clear();
  resp->body.reserve(data_json.size() + 64);
  JsonWriter w(&resp->body);
  w.BeginObject().Key("status").String("success").Key("data").Raw(data_json);
  WriteNotes(&w, notes);
  w.EndObject();
}

void RespondNoContent(HttpResponse* resp) {
  resp->status = 204;
  resp->content_type.clear();
  resp->body.clear();
}

void RespondQueryResult(HttpResponse* resp, const query::QueryResult& r, const Annotations& notes) {
  resp->status = 200;
  resp->content_type = "application/json";
  resp->body.clear();
  JsonWriter w(&resp->body);
  w.BeginObject().Key("status").String("success").Key("data");
  WriteQueryData(&w, r);
  WriteNotes(&w, notes);
  w.EndObject();
}

void WriteLabels(JsonWriter* w, const storage::Labels& ls) {
  w->BeginObject();
  for (const auto& l : ls) w->Key(l.name).String(l.value);
  w->EndObject();
}

namespace {
void WritePoint(JsonWriter* w, const query::Point& p) { w->PromPoint(p.t, p.v); }
}  // namespace

void WriteQueryData(JsonWriter* w, const query::QueryResult& r) {
  w->BeginObject();
  if (const auto* s = std::get_if<query::ScalarValue>(&r.value)) {
    w->Key("resultType").String("scalar").Key("result");
    WritePoint(w, s->point);
  } else if (const auto* str = std::get_if<query::StringValue>(&r.value)) {
    std::string ts;
    AppendPromTimestamp(&ts, str->t);
    w->Key("resultType").String("string").Key("result");
    w->BeginArray().Raw(ts).String(str->value).EndArray();
  } else if (const auto* vec = std::get_if<query::VectorValue>(&r.value)) {
    w->Key("resultType").String("vector").Key("result").BeginArray();
    for (const auto& sample : *vec) {
      w->BeginObject().Key("metric");
      WriteLabels(w, sample.labels);
      w->Key("value");
      WritePoint(w, sample.point);
      w->EndObject();
    }
    w->EndArray();
  } else if (const auto* mat = std::get_if<query::MatrixValue>(&r.value)) {
    w->Key("resultType").String("matrix").Key("result").BeginArray();
    for (const auto& series : *mat) {
      w->BeginObject().Key("metric");
      WriteLabels(w, series.labels);
      w->Key("values").BeginArray();
      for (const auto& p : series.points) WritePoint(w, p);
      w->EndArray().EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

}  // namespace vigil::server
