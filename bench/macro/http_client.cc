#include "bench/macro/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace vigil::bench::macro {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool ParseUrl(std::string_view text, Url* out, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    *error = "URL '" + std::string(text) + "' does not start with http://";
    return false;
  }
  std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  out->target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) {
    out->host = std::string(hostport);
    out->port = 80;
  } else {
    out->host = std::string(hostport.substr(0, colon));
    std::string_view p = hostport.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), out->port);
    if (ec != std::errc() || ptr != p.data() + p.size()) {
      *error = "URL '" + std::string(text) + "': bad port";
      return false;
    }
  }
  if (out->host == "localhost") out->host = "127.0.0.1";
  return true;
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::Connect(std::string* error) {
  if (fd_ >= 0) ::close(fd_);
  buf_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(url_.port));
  if (::inet_pton(AF_INET, url_.host.c_str(), &addr.sin_addr) != 1) {
    *error = "not an IPv4 address: " + url_.host;
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "connect " + url_.host + ":" + std::to_string(url_.port) + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool HttpConnection::Fill(std::string* error) {
  char tmp[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) {
      *error = "connection closed by server";
      return false;
    }
    if (errno != EINTR) {
      *error = std::string("recv: ") + std::strerror(errno);
      return false;
    }
  }
}

bool HttpConnection::ReadResponse(int* status, std::string* response, bool* keep_alive,
                                  std::string* error) {
  size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(error)) return false;
  }
  std::string_view head(buf_.data(), head_end);
  // Status line: HTTP/1.1 204 No Content
  const size_t sp = head.find(' ');
  if (sp == std::string_view::npos || head.size() < sp + 4) {
    *error = "malformed status line";
    return false;
  }
  std::from_chars(head.data() + sp + 1, head.data() + sp + 4, *status);
  int64_t content_length = -1;
  bool chunked = false;
  *keep_alive = head.substr(0, 8) != "HTTP/1.0";
  size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos && line_start < head.size()) {
    line_start += 2;
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = head.size();
    std::string_view line = head.substr(line_start, line_end - line_start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
      if (IEquals(name, "content-length")) {
        std::from_chars(value.data(), value.data() + value.size(), content_length);
      } else if (IEquals(name, "transfer-encoding") && IEquals(value, "chunked")) {
        chunked = true;
      } else if (IEquals(name, "connection")) {
        if (IEquals(value, "close")) *keep_alive = false;
        if (IEquals(value, "keep-alive")) *keep_alive = true;
      }
    }
    line_start = line_end;
  }
  buf_.erase(0, head_end + 4);
  response->clear();
  if (chunked) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill(error)) return false;
      }
      size_t len = 0;
      std::from_chars(buf_.data(), buf_.data() + eol, len, 16);
      buf_.erase(0, eol + 2);
      while (buf_.size() < len + 2) {
        if (!Fill(error)) return false;
      }
      response->append(buf_, 0, len);
      buf_.erase(0, len + 2);
      if (len == 0) return true;  // (trailers are not used by the servers benchmarked)
    }
  }
  if (content_length >= 0) {
    while (buf_.size() < static_cast<size_t>(content_length)) {
      if (!Fill(error)) return false;
    }
    response->assign(buf_, 0, static_cast<size_t>(content_length));
    buf_.erase(0, static_cast<size_t>(content_length));
    return true;
  }
  if (*status == 204 || *status == 304 || *status / 100 == 1) return true;
  // No length: the body runs until the server closes.
  std::string ignored;
  while (Fill(&ignored)) {
  }
  *response = std::move(buf_);
  buf_.clear();
  *keep_alive = false;
  return true;
}

bool HttpConnection::Post(std::string_view extra_headers, std::string_view body, int* status,
                          std::string* response, std::string* error) {
  std::string head = "POST " + url_.target + " HTTP/1.1\r\nHost: " + url_.host + ":" +
                     std::to_string(url_.port) + "\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n";
  head += extra_headers;
  head += "\r\n";
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !Connect(error)) return false;
    iovec iov[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
    size_t total = head.size() + body.size(), sent = 0;
    bool failed = false;
    while (sent < total) {
      msghdr msg{};
      // Advance the iovecs past what is already sent.
      iovec cur[2];
      int n = 0;
      size_t skip = sent;
      for (const iovec& v : iov) {
        if (skip >= v.iov_len) {
          skip -= v.iov_len;
          continue;
        }
        cur[n++] = {static_cast<char*>(v.iov_base) + skip, v.iov_len - skip};
        skip = 0;
      }
      msg.msg_iov = cur;
      msg.msg_iovlen = static_cast<size_t>(n);
      const ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        failed = true;
        *error = std::string("send: ") + std::strerror(errno);
        break;
      }
      sent += static_cast<size_t>(w);
    }
    bool keep_alive = true;
    if (!failed && ReadResponse(status, response, &keep_alive, error)) {
      if (!keep_alive) {
        ::close(fd_);
        fd_ = -1;
      }
      return true;
    }
    // A keep-alive connection the server closed between requests: reconnect once.
    ::close(fd_);
    fd_ = -1;
    if (sent > 0 && attempt == 0 && *error == "connection closed by server") continue;
    return false;
  }
  return false;
}

}  // namespace vigil::bench::macro
