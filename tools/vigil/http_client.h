#pragma once

// The shell's HTTP/1.1 client: synchronous, one keep-alive connection, plain TCP or TLS
// (Boost.Beast over Asio, OpenSSL through Asio SSL). The connection opens on the first request,
// not at construction, so the shell reaches its prompt without a round trip.
//
// Cancellation: CancelInFlight() may be called from a signal handler (it only stores a flag and
// calls shutdown(2) on the socket). The request in flight then fails with Status::Cancelled and
// the connection is dropped, which is how the server learns that nobody waits for the answer.
//
// Thread safety: one HttpClient per thread; CancelInFlight() is async-signal-safe.

#include <memory>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace vigil::shell {

struct Url {
  bool tls = false;
  std::string host;       // without brackets for IPv6 literals
  std::string port;       // always set ("80"/"443" when the URL has none)
  std::string base_path;  // "" or a prefix such as "/prometheus" (no trailing slash)

  // http://host[:port][/prefix] or https://...; a missing scheme means http.
  static Result<Url> Parse(std::string_view text);
  std::string ToString() const;
};

struct HttpOptions {
  std::string bearer_token;  // sent as "Authorization: Bearer <token>" when not empty
  bool insecure = false;     // TLS without certificate or host name verification
  std::string ca_file;       // PEM bundle; the system's default paths when empty
  std::string ca_path;       // directory of hashed CA certificates
  std::string user_agent = "vigil-shell";
  size_t max_body_bytes = size_t{512} << 20;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(Url url, HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `target` is the path and query below the URL's base path, e.g. "/api/v1/labels?match[]=up".
  // Any HTTP status is a successful Result; transport failures are IOError / Unavailable
  // (connection refused) / Cancelled. A kept-alive connection that the server closed meanwhile
  // is reopened once.
  Result<HttpResponse> Get(std::string_view target);
  Result<HttpResponse> PostForm(std::string_view target, std::string_view form_body);
  Result<HttpResponse> Post(std::string_view target, std::string_view content_type,
                            std::string_view body);
  Result<HttpResponse> Delete(std::string_view target);

  const Url& url() const { return url_; }

  // Async-signal-safe: aborts the request in flight in whichever HttpClient runs it.
  static void CancelInFlight();
  // Clears a cancellation that arrived while no request ran.
  static void ResetCancel();

 private:
  struct Conn;
  Result<HttpResponse> Do(std::string_view method, std::string_view target,
                          std::string_view content_type, std::string_view body);

  Url url_;
  HttpOptions options_;
  std::unique_ptr<Conn> conn_;
};

// Percent-encodes `s` for a query string or form body (RFC 3986 unreserved characters stay).
std::string UrlEncode(std::string_view s);

}  // namespace vigil::shell
