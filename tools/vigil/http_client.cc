#include "tools/vigil/http_client.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace vigil::shell {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// The socket of the request in flight (-1 when none) and a cancellation flag, both touched by
// the SIGINT handler; lock-free atomics are async-signal-safe.
std::atomic<int> g_inflight_fd{-1};
std::atomic<bool> g_cancelled{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

}  // namespace

struct HttpClient::Conn {
  asio::io_context io;
  std::optional<asio::ssl::context> ssl_ctx;
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> tls;
  boost::beast::flat_buffer buffer;
  bool open = false;

  tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }
  void Close() {
    boost::system::error_code ec;
    if (tls) {
      tls->next_layer().close(ec);
      tls.reset();
    }
    if (plain) {
      plain->close(ec);
      plain.reset();
    }
    buffer.clear();
    open = false;
  }
};

Result<Url> Url::Parse(std::string_view text) {
  Url u;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    u.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("URL '" + std::string(text) +
                                   "': only http:// and https:// are supported");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("URL '" + std::string(text) +
                                   "': credentials in the URL are not supported; use --token");
  }
  std::string_view host = authority, port;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("URL '" + std::string(text) + "': unclosed '[' in the host");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(":")) {
      port = after.substr(1);
    } else if (!after.empty()) {
      return Status::InvalidArgument("URL '" + std::string(text) + "': junk after ']'");
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Status::InvalidArgument("URL '" + std::string(text) + "': no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return Status::InvalidArgument("URL '" + std::string(text) + "': bad port '" +
                                     std::string(port) + "'");
    }
  }
  u.host = std::string(host);
  u.port = port.empty() ? (u.tls ? "443" : "80") : std::string(port);
  while (path.ends_with("/")) path.remove_suffix(1);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument("URL '" + std::string(text) +
                                   "': a query string or fragment is not allowed");
  }
  u.base_path = std::string(path);
  return u;
}

std::string Url::ToString() const {
  std::string s = tls ? "https://" : "http://";
  bool v6 = host.find(':') != std::string::npos;
  s += v6 ? "[" + host + "]" : host;
  s += ":" + port + base_path;
  return s;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

HttpClient::HttpClient(Url url, HttpOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}

HttpClient::~HttpClient() {
  if (conn_) conn_->Close();
}

void HttpClient::CancelInFlight() {
  g_cancelled.store(true);
  int fd = g_inflight_fd.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void HttpClient::ResetCancel() { g_cancelled.store(false); }

namespace {

Status TransportError(const Url& url, std::string_view what, const boost::system::error_code& ec) {
  if (g_cancelled.load()) return Status::Cancelled("cancelled");
  std::string msg = std::string(what) + " " + url.ToString() + ": " + ec.message();
  if (ec == asio::error::connection_refused) return Status::Unavailable(msg);
  return Status::IOError(msg);
}

// Clears the in-flight socket when a request ends, however it ends.
struct InflightGuard {
  ~InflightGuard() { g_inflight_fd.store(-1); }
};

}  // namespace

Result<HttpResponse> HttpClient::Get(std::string_view target) { return Do("GET", target, {}, {}); }

Result<HttpResponse> HttpClient::Delete(std::string_view target) {
  return Do("DELETE", target, {}, {});
}

Result<HttpResponse> HttpClient::PostForm(std::string_view target, std::string_view form_body) {
  return Do("POST", target, "application/x-www-form-urlencoded", form_body);
}

Result<HttpResponse> HttpClient::Post(std::string_view target, std::string_view content_type,
                                      std::string_view body) {
  return Do("POST", target, content_type, body);
}

Result<HttpResponse> HttpClient::Do(std::string_view method, std::string_view target,
                                    std::string_view content_type, std::string_view body) {
  if (!conn_) conn_ = std::make_unique<Conn>();
  Conn& c = *conn_;
  InflightGuard guard;

  const bool post = method == "POST";
  http::request<http::string_body> req{http::string_to_verb({method.data(), method.size()}),
                                       url_.base_path + std::string(target), 11};
  bool v6 = url_.host.find(':') != std::string::npos;
  std::string host_header = v6 ? "[" + url_.host + "]" : url_.host;
  bool default_port = url_.port == (url_.tls ? "443" : "80");
  if (!default_port) host_header += ":" + url_.port;
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, options_.user_agent);
  req.set(http::field::accept, "application/json");
  req.keep_alive(true);
  if (!options_.bearer_token.empty()) {
    req.set(http::field::authorization, "Bearer " + options_.bearer_token);
  }
  if (post) {
    req.set(http::field::content_type, std::string(content_type));
    req.body() = std::string(body);
    req.prepare_payload();
  }

  for (int attempt = 0;; ++attempt) {
    if (g_cancelled.load()) {
      c.Close();
      return Status::Cancelled("cancelled");
    }
    bool reused = c.open;
    boost::system::error_code ec;
    if (!c.open) {
      tcp::resolver resolver(c.io);
      auto endpoints = resolver.resolve(url_.host, url_.port, ec);
      if (ec) return TransportError(url_, "cannot resolve", ec);
      if (url_.tls && !c.ssl_ctx) {
        c.ssl_ctx.emplace(asio::ssl::context::tls_client);
        if (options_.insecure) {
          c.ssl_ctx->set_verify_mode(asio::ssl::verify_none);
        } else {
          c.ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
          if (!options_.ca_file.empty()) c.ssl_ctx->load_verify_file(options_.ca_file, ec);
          if (!ec && !options_.ca_path.empty()) c.ssl_ctx->add_verify_path(options_.ca_path, ec);
          if (!ec && options_.ca_file.empty() && options_.ca_path.empty()) {
            c.ssl_ctx->set_default_verify_paths(ec);
          }
          if (ec) {
            c.ssl_ctx.reset();
            return Status::InvalidArgument("TLS: cannot load CA certificates: " + ec.message());
          }
        }
      }
      if (url_.tls) {
        c.tls.emplace(c.io, *c.ssl_ctx);
      } else {
        c.plain.emplace(c.io);
      }
      tcp::socket& sock = c.lowest();
      ec = asio::error::host_not_found;
      for (const auto& entry : endpoints) {
        boost::system::error_code oc;
        sock.close(oc);
        sock.open(entry.endpoint().protocol(), oc);
        if (oc) {
          ec = oc;
          continue;
        }
        g_inflight_fd.store(sock.native_handle());
        if (g_cancelled.load()) ::shutdown(sock.native_handle(), SHUT_RDWR);
        sock.connect(entry.endpoint(), ec);
        if (!ec) break;
      }
      if (ec) {
        c.Close();
        return TransportError(url_, "cannot connect to", ec);
      }
      sock.set_option(tcp::no_delay(true), ec);
      if (url_.tls) {
        if (!SSL_set_tlsext_host_name(c.tls->native_handle(), url_.host.c_str())) {
          c.Close();
          return Status::IOError("TLS: cannot set the server name " + url_.host);
        }
        if (!options_.insecure) {
          c.tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        }
        c.tls->handshake(asio::ssl::stream_base::client, ec);
        if (ec) {
          c.Close();
          return TransportError(url_, "TLS handshake with", ec);
        }
      }
      c.open = true;
    }
    g_inflight_fd.store(c.lowest().native_handle());
    if (g_cancelled.load()) ::shutdown(c.lowest().native_handle(), SHUT_RDWR);

    if (c.tls) {
      http::write(*c.tls, req, ec);
    } else {
      http::write(*c.plain, req, ec);
    }
    if (ec) {
      c.Close();
      if (reused && attempt == 0 && !g_cancelled.load()) continue;
      return TransportError(url_, "cannot send to", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    if (c.tls) {
      http::read(*c.tls, c.buffer, parser, ec);
    } else {
      http::read(*c.plain, c.buffer, parser, ec);
    }
    if (ec) {
      bool nothing_read = !parser.got_some();
      c.Close();
      // A kept-alive connection may have been closed by the server between requests.
      if (reused && attempt == 0 && nothing_read && !g_cancelled.load()) continue;
      if (ec == http::error::body_limit) {
        return Status::ResourceExhausted("response from " + url_.ToString() + " is larger than " +
                                         std::to_string(options_.max_body_bytes >> 20) + " MiB");
      }
      return TransportError(url_, "no answer from", ec);
    }
    if (g_cancelled.load()) {
      c.Close();
      return Status::Cancelled("cancelled");
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = int(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!res.keep_alive()) c.Close();
    return out;
  }
}

}  // namespace vigil::shell
