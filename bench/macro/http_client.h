#pragma once

// A minimal blocking HTTP/1.1 client for the macro benchmark's sender: one keep-alive TCP
// connection, POST with a body held in memory, the response read fully (Content-Length, chunked,
// or until close). Plain sockets keep the sender's own cost low and visible.
//
// Thread safety: one HttpConnection per thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::bench::macro {

struct Url {
  std::string host;  // numeric IPv4 address, e.g. 127.0.0.1
  int port = 80;
  std::string target;  // path and query, e.g. /write?db=bench&precision=ms
};

// Parses http://HOST:PORT/TARGET. Returns false with *error when it is not of that form.
bool ParseUrl(std::string_view text, Url* out, std::string* error);

class HttpConnection {
 public:
  explicit HttpConnection(Url url) : url_(std::move(url)) {}
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one POST (reconnecting if the server closed the connection) and reads the response.
  // `extra_headers` are complete header lines, each ending in \r\n. Returns false with *error on
  // a transport failure; an HTTP error status is returned in *status with the body in *response.
  bool Post(std::string_view extra_headers, std::string_view body, int* status,
            std::string* response, std::string* error);

 private:
  bool Connect(std::string* error);
  bool ReadResponse(int* status, std::string* response, bool* keep_alive, std::string* error);
  bool Fill(std::string* error);  // reads more bytes into buf_

  Url url_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace vigil::bench::macro
