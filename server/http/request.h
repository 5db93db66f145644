#pragma once

// The request and response a route handler sees (server/http/router.h). The HTTP server
// (server/http/http_server.h) fills HttpRequest from the wire, runs the handler on a worker
// thread, and writes HttpResponse back (gzip-compressed when the client accepts it).

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::server {

using ParamList = std::vector<std::pair<std::string, std::string>>;

// Fired by the server when the client closes its connection while its request is being handled.
// Handlers of long operations link their own cancel flag (query::QueryContext::cancelled) for the
// duration of the operation. Thread safety: all methods may be called from any thread.
class ClientGoneSignal {
 public:
  void Fire();
  bool fired() const { return fired_.load(); }
  // Sets *flag at once if already fired, else when fired, until Unlink(flag).
  void Link(std::atomic<bool>* flag);
  void Unlink(std::atomic<bool>* flag);

 private:
  std::atomic<bool> fired_{false};
  std::mutex mu_;
  std::vector<std::atomic<bool>*> linked_;
};

// Links a flag to a signal for the lifetime of the scope (signal may be null).
class ScopedCancelLink {
 public:
  ScopedCancelLink(ClientGoneSignal* signal, std::atomic<bool>* flag) : signal_(signal), flag_(flag) {
    if (signal_ != nullptr) signal_->Link(flag_);
  }
  ~ScopedCancelLink() {
    if (signal_ != nullptr) signal_->Unlink(flag_);
  }
  ScopedCancelLink(const ScopedCancelLink&) = delete;
  ScopedCancelLink& operator=(const ScopedCancelLink&) = delete;

 private:
  ClientGoneSignal* signal_;
  std::atomic<bool>* flag_;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query string
  std::string path;    // percent-decoded path without the query string
  // Form values as Go's Request.Form holds them: a form-encoded POST body's values first, then
  // the URL query's, each in order.
  ParamList params;
  // Values of `<name>` segments of the route pattern that matched.
  ParamList path_params;
  // Header names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body after removing a `Content-Encoding: gzip` / `deflate` (other encodings, such as
  // remote write's snappy, are left to the handler).
  std::string body;
  std::string remote_address;  // "ip:port"
  // Fired when the client closes its connection while the handler runs. Never null while a
  // handler runs under the server (tests calling handlers directly may leave it null).
  std::shared_ptr<ClientGoneSignal> client_gone;
  // Name of the bearer token the request authenticated with (auth on), else empty.
  std::string token_name;

  // First value of a header, or "" when absent. name in lower case.
  std::string_view Header(std::string_view name) const;
  // First form value of name, or nullopt.
  std::optional<std::string_view> Param(std::string_view name) const;
  // Every form value of name, in order (for repeated parameters such as match[]).
  std::vector<std::string_view> Params(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const;
  bool ClientGone() const { return client_gone != nullptr && client_gone->fired(); }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (Content-Type, Content-Length and Content-Encoding are set by the server).
  std::vector<std::pair<std::string, std::string>> headers;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Percent-decoding of URL components; '+' becomes ' ' when plus_is_space (query strings and
// form bodies). False on a malformed escape.
bool UrlDecode(std::string_view in, bool plus_is_space, std::string* out);
// Appends the pairs of an application/x-www-form-urlencoded string ("a=1&b=2") to *out. Keys
// without '=' get an empty value; empty pieces are skipped. InvalidArgument-style message in
// *error for a malformed escape, naming the piece.
bool ParseFormEncoded(std::string_view text, ParamList* out, std::string* error);
// Percent-encodes a query-string component (RFC 3986 unreserved characters stay).
std::string UrlEncode(std::string_view in);

}  // namespace vigil::server
