#include "server/api/write_api.h"

#include "server/api/envelope.h"
#include "server/http/json.h"

namespace vigil::server {
namespace {

void SetWrittenHeaders(const ingest::IngestOutcome& o, HttpResponse* resp) {
  resp->SetHeader("X-Prometheus-Remote-Write-Samples-Written", std::to_string(o.samples_written));
  resp->SetHeader("X-Prometheus-Remote-Write-Histograms-Written",
                  std::to_string(o.histograms_written));
  resp->SetHeader("X-Prometheus-Remote-Write-Exemplars-Written",
                  std::to_string(o.exemplars_written));
}

void RetryAfter(int status, HttpResponse* resp) {
  if (status == 429 || status == 503) resp->SetHeader("Retry-After", "1");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void WriteApi::Register(Router* router) {
  router->Register("POST", "/api/v1/write",
                   [this](HttpRequest& req, HttpResponse* resp) { RemoteWrite(req, resp); },
                   Scope::kWrite);
  router->Register("POST", "/write",
                   [this](HttpRequest& req, HttpResponse* resp) { LineProtocol(req, resp, false); },
                   Scope::kWrite);
  router->Register("POST", "/api/v2/write",
                   [this](HttpRequest& req, HttpResponse* resp) { LineProtocol(req, resp, true); },
                   Scope::kWrite);
}

void WriteApi::RemoteWrite(HttpRequest& req, HttpResponse* resp) {
  // Remote write errors are plain text, as Prometheus answers them.
  resp->content_type = "text/plain; charset=utf-8";
  auto version = ingest::ParseRemoteWriteContentType(req.Header("content-type"));
  if (!version.ok()) {
    resp->status = 415;
    resp->body = version.status().message() + "\n";
    return;
  }
  // snappy is the protocol's encoding; a body that arrived gzip-encoded was inflated by the HTTP
  // layer and is plain protobuf, as is one sent with identity (or no) encoding.
  std::string encoding = Lower(req.Header("content-encoding"));
  ingest::IngestOutcome o;
  if (encoding == "snappy") {
    o = ingest::IngestRemoteWrite(*db_, req.body, *version, options_);
  } else if (encoding.empty() || encoding == "identity") {
    o = ingest::IngestRemoteWriteProto(*db_, req.body, *version, options_);
  } else {
    resp->status = 415;
    resp->body = "unsupported Content-Encoding \"" + encoding +
                 "\" for remote write (snappy, gzip or identity)\n";
    return;
  }
  resp->status = o.http_status();
  SetWrittenHeaders(o, resp);
  RetryAfter(resp->status, resp);
  if (o.ok()) {
    resp->content_type.clear();
    resp->body.clear();
  } else {
    resp->body = o.message + "\n";
  }
}

void WriteApi::LineProtocol(HttpRequest& req, HttpResponse* resp, bool v2) {
  // InfluxDB 1.x answers errors as {"error": "..."}, 2.x as {"code": "...", "message": "..."}.
  auto error = [resp, v2](int status, std::string_view code, const std::string& message) {
    resp->status = status;
    resp->content_type = "application/json";
    resp->body.clear();
    JsonWriter w(&resp->body);
    w.BeginObject();
    if (v2) {
      w.Key("code").String(code).Key("message").String(message);
    } else {
      w.Key("error").String(message);
    }
    w.EndObject();
    RetryAfter(status, resp);
  };
  auto precision = ingest::ParsePrecision(req.Param("precision").value_or(""));
  if (!precision.ok()) return error(400, "invalid", precision.status().message());
  ingest::IngestOutcome o = ingest::IngestLineProtocol(*db_, req.body, *precision, options_);
  if (o.ok()) return RespondNoContent(resp);
  std::string_view code = "invalid";
  switch (o.code) {
    case ingest::IngestCode::kTooLarge: code = "request too large"; break;
    case ingest::IngestCode::kOverloaded: code = "too many requests"; break;
    case ingest::IngestCode::kStorageFault: code = "internal error"; break;
    case ingest::IngestCode::kUnavailable: code = "unavailable"; break;
    default: break;
  }
  error(o.http_status(), code, o.message);
}

}  // namespace vigil::server
