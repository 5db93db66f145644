#pragma once

// Vigil's HTTP/1.1 server (Boost.Beast over Asio), plain or TLS.
//
// - I/O runs on `io_threads` threads, each with its own event loop; a connection stays on the
//   thread that accepted it. Handlers run on a separate pool of `worker_threads` (the thread idle
//   last first: worker_pool.h), so a long query never stalls other connections' reads and writes. A route's probe (router.h) may answer on
//   the I/O thread first, without the two thread hand-offs (cached query answers, health checks).
// - Keep-alive with an idle timeout; a read timeout for a request once it started; a write
//   timeout for the response.
// - Bodies over max_body_bytes (as sent, and again after gzip inflation) get 413 and the
//   connection is closed. `Content-Encoding: gzip` / `deflate` request bodies are inflated before
//   the handler runs; other encodings (snappy) are left to the handler.
// - Responses are gzip-compressed when the client's Accept-Encoding allows it.
// - Form-encoded POST bodies are merged into HttpRequest::params (body first, as Go does).
// - While a handler runs, the server watches the connection (a peek every 50 ms); when the
//   client closes it, HttpRequest::client_gone becomes true (queries stop early).
// - With an Authenticator, every route requires a bearer token with the route's scope: 401 when
//   the token is missing or unknown, 403 when its scopes do not cover the route.
// - Stop(): closes the listener, closes idle keep-alive connections, lets in-flight requests
//   finish (up to shutdown_grace_ms), then stops the threads.
//
// Thread safety: Start() and Stop() from one controlling thread; the router must not change
// after Start().

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http/router.h"
#include "storage/base/status.h"

namespace vigil::server {

class Authenticator;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 9201;  // 0: a free port chosen by the kernel (see HttpServer::port())
  int io_threads = 2;
  int worker_threads = 4;
  uint64_t max_body_bytes = 64ull << 20;  // also bounds the inflated size of gzip bodies
  uint32_t max_header_bytes = 64 << 10;
  int64_t read_timeout_ms = 60'000;   // a whole request, from its first header byte
  int64_t idle_timeout_ms = 300'000;  // keep-alive connection waiting for its next request
  int64_t write_timeout_ms = 60'000;
  int64_t shutdown_grace_ms = 30'000;  // Stop() waits this long for in-flight requests
  size_t max_connections = 4096;       // further connections are closed at once
  size_t max_queued_requests = 2048;   // beyond this, requests are answered 429
  // TLS when both are set: PEM certificate chain and PEM private key.
  std::string tls_cert_file;
  std::string tls_key_file;
  int gzip_level = 1;
  size_t gzip_min_bytes = 256;  // smaller responses are sent as they are
  // Not owned; must outlive the server. nullptr: no authentication.
  const Authenticator* auth = nullptr;
  // Called once per answered request (from I/O threads): route pattern (or "other"), status
  // code, seconds from the complete request to the handler's return.
  std::function<void(const std::string& handler, int status, double seconds)> on_request;
};

class HttpServer {
 public:
  // The router is not owned and must outlive the server.
  HttpServer(HttpServerOptions options, const Router* router);
  ~HttpServer();  // Stop()s if needed
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. IOError naming the address when binding fails;
  // InvalidArgument for unreadable TLS files.
  Status Start();
  // The bound port (useful with options.port == 0). REQUIRES: Start() succeeded.
  uint16_t port() const;
  bool tls() const;
  // Graceful stop; idempotent.
  void Stop();

  class Impl;  // in http_server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

// The JSON body of a server-level error in Prometheus' envelope:
// {"status":"error","errorType":"<type>","error":"<message>"}.
std::string ErrorEnvelope(std::string_view error_type, std::string_view message);

}  // namespace vigil::server
