#include "server/http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "server/http/gzip.h"

namespace vigil::server {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string_view HttpClient::Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

class HttpClient::Impl {
 public:
  Impl(std::string host, uint16_t port, Options o)
      : host_(std::move(host)), port_(port), options_(std::move(o)), ssl_ctx_(ssl::context::tls_client) {
    if (!options_.ca_file.empty()) {
      boost::system::error_code ec;
      ssl_ctx_.load_verify_file(options_.ca_file, ec);
      ssl_ctx_.set_verify_mode(ssl::verify_peer);
    } else {
      ssl_ctx_.set_verify_mode(ssl::verify_none);
    }
  }

  Status Connect() {
    Close();
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return Status::Unavailable("resolve " + host_ + ": " + ec.message());
    if (options_.tls) {
      tls_.emplace(ioc_, ssl_ctx_);
      beast::get_lowest_layer(*tls_).expires_after(std::chrono::milliseconds(options_.timeout_ms));
      beast::get_lowest_layer(*tls_).connect(results, ec);
      if (!ec) {
        SSL_set_tlsext_host_name(tls_->native_handle(), host_.c_str());
        tls_->handshake(ssl::stream_base::client, ec);
      }
    } else {
      plain_.emplace(ioc_);
      plain_->expires_after(std::chrono::milliseconds(options_.timeout_ms));
      plain_->connect(results, ec);
    }
    if (ec) {
      Close();
      return Status::Unavailable("connect " + host_ + ":" + std::to_string(port_) + ": " +
                                 ec.message());
    }
    // A request's headers and body go out as separate writes: without this the body of a POST
    // can wait for the server's delayed ACK (up to 40 ms).
    beast::error_code nodelay_ec;
    (options_.tls ? beast::get_lowest_layer(*tls_).socket() : plain_->socket())
        .set_option(tcp::no_delay(true), nodelay_ec);
    return Status::OK();
  }

  void Close() {
    beast::error_code ec;
    if (plain_) plain_->socket().shutdown(tcp::socket::shutdown_both, ec);
    if (tls_) beast::get_lowest_layer(*tls_).socket().shutdown(tcp::socket::shutdown_both, ec);
    plain_.reset();
    tls_.reset();
    buffer_.clear();
  }

  template <class Stream>
  Status RoundTrip(Stream& s, http::request<http::string_body>& req, Response* out) {
    beast::get_lowest_layer(s).expires_after(std::chrono::milliseconds(options_.timeout_ms));
    beast::error_code ec;
    http::write(s, req, ec);
    if (ec) return Status::Unavailable("write: " + ec.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (req.method() == http::verb::head) parser.skip(true);
    http::read(s, buffer_, parser, ec);
    if (ec) return Status::Unavailable("read: " + ec.message());
    auto res = parser.release();
    out->status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out->headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out->body = std::move(res.body());
    if (beast::iequals(res[http::field::content_encoding], "gzip")) {
      out->was_gzip = true;
      std::string inflated;
      VIGIL_RETURN_IF_ERROR(GzipDecompress(out->body, 1ull << 32, &inflated));
      out->body = std::move(inflated);
    }
    if (!res.keep_alive()) Close();
    return Status::OK();
  }

  Result<Response> Request(std::string_view method, std::string_view target, std::string_view body,
                           const Headers& headers) {
    http::request<http::string_body> req;
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "vigil-http-client");
    if (options_.accept_gzip) req.set(http::field::accept_encoding, "gzip");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
    req.keep_alive(true);
    // One retry on a fresh connection: the server may have closed an idle keep-alive one.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool fresh = false;
      if (!plain_ && !tls_) {
        VIGIL_RETURN_IF_ERROR(Connect());
        fresh = true;
      }
      Response out;
      Status st = options_.tls ? RoundTrip(*tls_, req, &out) : RoundTrip(*plain_, req, &out);
      if (st.ok()) return out;
      Close();
      if (fresh) return st;
    }
    return Status::Unavailable("request failed");
  }

 private:
  std::string host_;
  uint16_t port_;
  Options options_;
  net::io_context ioc_;
  ssl::context ssl_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

HttpClient::HttpClient(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port, Options())) {}
HttpClient::HttpClient(std::string host, uint16_t port, Options options)
    : impl_(std::make_unique<Impl>(std::move(host), port, std::move(options))) {}
HttpClient::~HttpClient() = default;

Result<HttpClient::Response> HttpClient::Request(std::string_view method, std::string_view target,
                                                 std::string_view body, const Headers& headers) {
  return impl_->Request(method, target, body, headers);
}

Result<HttpClient::Response> HttpClient::PostForm(std::string_view target, std::string_view form,
                                                  const Headers& headers) {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return impl_->Request("POST", target, form, h);
}

void HttpClient::Close() { impl_->Close(); }

}  // namespace vigil::server
