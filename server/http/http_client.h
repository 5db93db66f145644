#pragma once

// A small blocking HTTP/1.1 client (Boost.Beast) for Vigil's tools and tests: one keep-alive
// connection, reconnecting when the server closed it; optional TLS (no certificate verification
// unless a CA file is given); responses with `Content-Encoding: gzip` are inflated.
//
//   HttpClient c("127.0.0.1", 9201);
//   VIGIL_ASSIGN_OR_RETURN(HttpClient::Response r, c.Get("/api/v1/query?query=up"));
//
// Thread safety: none; one client per thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/base/status.h"

namespace vigil::server {

class HttpClient {
 public:
  struct Options {
    bool tls = false;
    std::string ca_file;  // verify the server against it when set (TLS only)
    int64_t timeout_ms = 60'000;
    bool accept_gzip = true;  // send Accept-Encoding: gzip
  };
  struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;      // inflated when it came gzip-encoded
    bool was_gzip = false;  // the server sent Content-Encoding: gzip
    std::string_view Header(std::string_view name) const;
  };
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpClient(std::string host, uint16_t port);
  HttpClient(std::string host, uint16_t port, Options options);
  ~HttpClient();

  Result<Response> Request(std::string_view method, std::string_view target,
                           std::string_view body = {}, const Headers& headers = {});
  Result<Response> Get(std::string_view target, const Headers& headers = {}) {
    return Request("GET", target, {}, headers);
  }
  // A form-encoded POST (Content-Type: application/x-www-form-urlencoded).
  Result<Response> PostForm(std::string_view target, std::string_view form,
                            const Headers& headers = {});

  void Close();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::server
