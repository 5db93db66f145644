#include "server/http/http_server.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "server/auth/auth.h"
#include "server/http/gzip.h"
#include "server/http/json.h"
#include "server/http/worker_pool.h"
#include "storage/base/logging.h"

namespace vigil::server {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string ErrorEnvelope(std::string_view error_type, std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("status").String("error").Key("errorType").String(error_type);
  w.Key("error").String(message).EndObject();
  return out;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view SV(beast::string_view s) { return {s.data(), s.size()}; }

bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

bool IsCompressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("text/") ||
         content_type.starts_with("application/openmetrics-text");
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Called when the server stops: close now if waiting for a request.
  virtual void OnServerStop() = 0;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, const Router* router)
      : options_(std::move(options)), router_(router), acceptor_(ioc_) {}

  ~Impl() { Stop(); }

  Status Start();
  void Stop();

  const HttpServerOptions& options() const { return options_; }
  const Router* router() const { return router_; }
  WorkerPool& workers() { return *workers_; }
  bool stopping() const { return stopping_.load(); }

  void AddSession(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(s, std::move(w));
  }
  void RemoveSession(SessionBase* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    if (sessions_.empty()) cv_.notify_all();
  }
  size_t session_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.size();
  }

  std::atomic<size_t> queued{0};
  uint16_t port = 0;
  bool tls = false;

  // Requests whose handler runs, watched for a client that closes its connection: every
  // kDisconnectPollMs an I/O thread peeks at each socket, and fires the request's signal when
  // the peer has closed it. Polling (instead of an asynchronous wait per request) costs a map
  // insertion per request, no system call, and needs nothing from the connection's own event loop.
  uint64_t Watch(int fd, std::shared_ptr<ClientGoneSignal> signal) {
    std::lock_guard<std::mutex> lock(watch_mu_);
    const uint64_t id = ++watch_next_;
    watched_.emplace(id, Watched{fd, std::move(signal)});
    if (!poll_armed_ && !watch_stopped_) {
      poll_armed_ = true;
      ArmPollLocked();
    }
    return id;
  }
  // Must be called before the socket closes (the poller peeks at the descriptor).
  void Unwatch(uint64_t id) {
    std::lock_guard<std::mutex> lock(watch_mu_);
    watched_.erase(id);
  }
  // Shutdown: every running handler sees its client as gone.
  void FireAllWatched() {
    std::lock_guard<std::mutex> lock(watch_mu_);
    for (auto& [id, w] : watched_) w.signal->Fire();
  }

 private:
  static constexpr int kDisconnectPollMs = 50;
  struct Watched {
    int fd;
    std::shared_ptr<ClientGoneSignal> signal;
  };
  void ArmPollLocked() {
    poll_timer_.expires_after(std::chrono::milliseconds(kDisconnectPollMs));
    poll_timer_.async_wait([this](beast::error_code ec) { OnPoll(ec); });
  }
  void OnPoll(beast::error_code ec) {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (ec || watch_stopped_) {
      poll_armed_ = false;
      return;
    }
    for (auto& [id, w] : watched_) {
      if (w.signal->fired()) continue;
      char b;
      ssize_t n = ::recv(w.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
      // n > 0: the client sent more (a pipelined request); it is still there.
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        w.signal->Fire();
      }
    }
    if (watched_.empty()) {
      poll_armed_ = false;
    } else {
      ArmPollLocked();
    }
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  HttpServerOptions options_;
  const Router* router_;
  // Declared before the io_context: sessions destroyed with its pending handlers unregister
  // themselves and may hold the TLS context.
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::optional<ssl::context> ssl_ctx_;
  // One io_context per I/O thread, each run by its thread alone (connections are spread over
  // them as they are accepted): a connection's reads, probes and writes never move between
  // threads, and no thread wakes another to hand the event loop over. ioc_ is the first; it also
  // runs the listener and the disconnect poller. more_iocs_ is declared first so that it is
  // destroyed last: an accept still pending in ioc_ holds a socket of one of them.
  std::vector<std::unique_ptr<net::io_context>> more_iocs_;
  net::io_context ioc_{1};
  size_t next_ioc_ = 0;  // accept handler only
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  net::steady_timer poll_timer_{ioc_};
  std::mutex watch_mu_;  // guards the four below and poll_timer_
  std::unordered_map<uint64_t, Watched> watched_;
  uint64_t watch_next_ = 0;
  bool poll_armed_ = false;
  bool watch_stopped_ = false;
  std::unique_ptr<WorkerPool> workers_;
  std::vector<std::thread> io_threads_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  bool running_ = false;  // Start() succeeded
  bool stopped_ = false;
};

namespace {

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>. All
// member functions except the handler body run on the connection's I/O thread.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(HttpServer::Impl* server, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...) {}

  ~Session() override { server_->RemoveSession(this); }

  void Start() {
    server_->AddSession(this, this->shared_from_this());
    auto self = this->shared_from_this();
    net::dispatch(stream_.get_executor(), [self] {
      if constexpr (kTls) {
        self->Lowest().expires_after(std::chrono::milliseconds(self->opts().read_timeout_ms));
        self->stream_.async_handshake(ssl::stream_base::server,
                                      [self](beast::error_code ec) {
                                        if (ec) return self->Close();
                                        self->DoRead();
                                      });
      } else {
        self->DoRead();
      }
    });
  }

  void OnServerStop() override {
    auto self = this->shared_from_this();
    net::post(stream_.get_executor(), [self] {
      if (self->state_ == State::kIdle) {
        beast::error_code ec;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        self->Lowest().cancel();
      }
    });
  }

 private:
  enum class State : uint8_t { kIdle, kReading, kHandling, kWriting, kClosed };

  const HttpServerOptions& opts() const { return server_->options(); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void DoRead() {
    if (server_->stopping()) return Close();
    state_ = State::kIdle;
    parser_.emplace();
    parser_->body_limit(opts().max_body_bytes);
    parser_->header_limit(opts().max_header_bytes);
    Lowest().expires_after(std::chrono::milliseconds(opts().idle_timeout_ms));
    auto self = this->shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::body_limit) return RespondTooLarge();
    if (ec == http::error::header_limit) {
      return RespondError(431, "bad_data", "request header fields exceed " +
                                               std::to_string(opts().max_header_bytes) + " bytes");
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == beast::error::timeout) {
      return Close();
    }
    if (ec) {
      if (IsHttpError(ec)) {
        return RespondError(400, "bad_data", "malformed HTTP request: " + ec.message());
      }
      return Close();
    }
    state_ = State::kReading;
    Lowest().expires_after(std::chrono::milliseconds(opts().read_timeout_ms));
    const auto& hdr = parser_->get();
    auto expect = hdr[http::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue")) {
      auto self = this->shared_from_this();
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     hdr.version());
      http::async_write(stream_, *cont, [self, cont](beast::error_code wec, size_t) {
        if (wec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    // Beast reads at most the buffer's free capacity (never less than 512 bytes) per read_some; a
    // buffer that only ever held headers would read a large body 512 bytes at a time, each read a
    // syscall, a timer re-arm and a strand hand-off (a 1.3 MB line-protocol body took ~2,600
    // recvmsg calls). Room for 64 KiB per read when the body is that large.
    if (const auto length = parser_->content_length(); length && *length > kSmallBodyBytes) {
      buffer_.reserve(buffer_.size() + std::min<uint64_t>(*length, kBodyReadBytes));
    }
    auto self = this->shared_from_this();
    http::async_read(stream_, buffer_, *parser_,
                     [self](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) return RespondTooLarge();
    if (ec) {
      if (IsHttpError(ec) &&
          ec != http::error::partial_message && ec != http::error::end_of_stream) {
        return RespondError(400, "bad_data", "malformed HTTP request: " + ec.message());
      }
      return Close();
    }
    Dispatch();
  }

  void RespondTooLarge() {
    RespondError(413, "bad_data",
                 "request body exceeds the limit of " + std::to_string(opts().max_body_bytes) +
                     " bytes");
  }

  // Answers without running a handler and closes the connection afterwards.
  void RespondError(int status, std::string_view type, std::string message) {
    HttpResponse resp;
    resp.status = status;
    resp.body = ErrorEnvelope(type, message);
    keep_alive_ = false;
    accept_gzip_ = false;
    handler_name_ = "other";
    Write(std::move(resp));
  }

  void Dispatch() {
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    is_head_ = msg.method() == http::verb::head;
    accept_gzip_ = AcceptsGzip(SV(msg[http::field::accept_encoding]));
    started_ = std::chrono::steady_clock::now();

    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    for (const auto& f : msg) {
      req->headers.emplace_back(Lower(SV(f.name_string())), std::string(f.value()));
    }
    req->body = std::move(msg.body());
    if (remote_address_.empty()) {
      beast::error_code rec;
      auto ep = Lowest().socket().remote_endpoint(rec);
      if (!rec) remote_address_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    req->remote_address = remote_address_;

    std::string_view target = req->target;
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    if (!UrlDecode(raw_path, false, &req->path)) {
      return Answer(400, "bad_data", "invalid URL escape in path", "other");
    }
    if (q != std::string_view::npos) {
      ParamList url_params;
      std::string err;
      if (!ParseFormEncoded(target.substr(q + 1), &url_params, &err)) {
        return Answer(400, "bad_data", err, "other");
      }
      req->params = std::move(url_params);
    }

    bool path_known = false;
    const Router::Route* route =
        server_->router()->Match(req->method, req->path, &req->path_params, &path_known);
    if (route == nullptr) {
      if (path_known) {
        allow_ = server_->router()->AllowedMethods(req->path);
        return Answer(405, "bad_data", "method " + req->method + " not allowed for " + req->path,
                      "other");
      }
      return Answer(404, "not_found", "no such endpoint: " + req->path, "other");
    }
    handler_name_ = route->pattern;

    if (const Authenticator* auth = opts().auth; auth != nullptr) {
      std::string name;
      switch (auth->Check(req->Header("authorization"), route->scope, &name)) {
        case Authenticator::Outcome::kAllowed:
          req->token_name = std::move(name);
          break;
        case Authenticator::Outcome::kMissing:
          www_authenticate_ = true;
          return Answer(401, "unauthorized", "a bearer token is required (Authorization: Bearer ...)",
                        handler_name_);
        case Authenticator::Outcome::kUnknown:
          www_authenticate_ = true;
          return Answer(401, "unauthorized", "the bearer token is not valid", handler_name_);
        case Authenticator::Outcome::kForbidden:
          return Answer(403, "forbidden",
                        "token \"" + name + "\" lacks the " + std::string(ScopeName(route->scope)) +
                            " scope that " + route->pattern + " requires",
                        handler_name_);
      }
    }

    std::string encoding = Lower(req->Header("content-encoding"));
    if (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate") {
      std::string inflated;
      Status st = GzipDecompress(req->body, opts().max_body_bytes, &inflated);
      if (st.code() == StatusCode::kResourceExhausted) {
        return Answer(413, "bad_data",
                      "request body exceeds the limit of " + std::to_string(opts().max_body_bytes) +
                          " bytes after gzip decoding",
                      handler_name_);
      }
      if (!st.ok()) return Answer(400, "bad_data", st.message(), handler_name_);
      req->body = std::move(inflated);
      // The handler sees a plain body.
      std::erase_if(req->headers, [](const auto& h) { return h.first == "content-encoding"; });
    }

    std::string_view ctype = req->Header("content-type");
    if (req->method == "POST" && ctype.starts_with("application/x-www-form-urlencoded")) {
      ParamList form;
      std::string err;
      if (!ParseFormEncoded(req->body, &form, &err)) {
        return Answer(400, "bad_data", err, handler_name_);
      }
      form.insert(form.end(), std::make_move_iterator(req->params.begin()),
                  std::make_move_iterator(req->params.end()));
      req->params = std::move(form);
    }

    if (server_->queued.load() >= opts().max_queued_requests) {
      retry_after_ = true;
      return Answer(429, "unavailable", "server overloaded: too many queued requests",
                    handler_name_);
    }

    state_ = State::kHandling;
    // The route's probe may answer here, on this I/O thread (a cached query answer, a fixed one).
    if (route->probe) {
      HttpResponse resp;
      bool answered = false;
      try {
        answered = route->probe(*req, &resp);
      } catch (const std::exception& e) {
        VIGIL_LOG(ERROR) << "probe of " << handler_name_ << " threw: " << e.what();
        answered = false;
        resp = HttpResponse();
      }
      if (answered) return Write(std::move(resp));
    }
    // Run the handler on a worker; watch the connection for a client that gives up.
    Lowest().expires_never();
    auto gone = std::make_shared<ClientGoneSignal>();
    req->client_gone = gone;
    const uint64_t watch = server_->Watch(Lowest().socket().native_handle(), std::move(gone));
    const Handler* handler = &route->handler;
    server_->queued.fetch_add(1);
    auto self = this->shared_from_this();
    server_->workers().Post([self, req, handler, watch] {
      auto resp = std::make_shared<HttpResponse>();
      self->RunHandler(*handler, *req, resp.get());
      self->server_->queued.fetch_sub(1);
      self->server_->Unwatch(watch);
      net::post(self->stream_.get_executor(), [self, resp] { self->Write(std::move(*resp)); });
    });
  }

  void RunHandler(const Handler& handler, HttpRequest& req, HttpResponse* resp) {
    try {
      handler(req, resp);
    } catch (const std::exception& e) {
      VIGIL_LOG(ERROR) << "handler " << handler_name_ << " threw: " << e.what();
      *resp = HttpResponse();
      resp->status = 500;
      resp->body = ErrorEnvelope("internal", std::string("internal error: ") + e.what());
    }
  }

  // A response decided before any handler ran; the connection stays usable.
  void Answer(int status, std::string_view type, std::string message, std::string handler) {
    handler_name_ = std::move(handler);
    HttpResponse resp;
    resp.status = status;
    resp.body = ErrorEnvelope(type, message);
    Write(std::move(resp));
  }

  void Write(HttpResponse resp) {
    state_ = State::kWriting;
    int status = resp.status;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(resp.status));
    res->set(http::field::server, "vigild");
    if (!resp.content_type.empty()) res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->insert(k, v);
    if (www_authenticate_) res->set(http::field::www_authenticate, "Bearer realm=\"vigil\"");
    if (retry_after_) res->set(http::field::retry_after, "1");
    if (!allow_.empty()) res->set(http::field::allow, allow_);
    if (resp.status == 413) keep_alive_ = false;
    if (server_->stopping()) keep_alive_ = false;
    res->keep_alive(keep_alive_);
    if (accept_gzip_ && resp.body.size() >= opts().gzip_min_bytes &&
        IsCompressible(resp.content_type)) {
      std::string gz;
      if (GzipCompress(resp.body, opts().gzip_level, &gz).ok()) {
        resp.body = std::move(gz);
        res->set(http::field::content_encoding, "gzip");
      }
      res->set(http::field::vary, "Accept-Encoding");
    }
    if (is_head_) {
      res->content_length(resp.body.size());
    } else {
      res->body() = std::move(resp.body);
      res->prepare_payload();
    }
    if (opts().on_request) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      opts().on_request(handler_name_.empty() ? "other" : handler_name_, status, secs);
    }
    Lowest().expires_after(std::chrono::milliseconds(opts().write_timeout_ms));
    auto self = this->shared_from_this();
    http::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->ResetPerRequest();
      if (!res->keep_alive()) return self->Shutdown();
      self->DoRead();
    });
  }

  void ResetPerRequest() {
    www_authenticate_ = false;
    retry_after_ = false;
    allow_.clear();
    handler_name_.clear();
  }

  void Shutdown() {
    state_ = State::kClosed;
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(5));
      auto self = this->shared_from_this();
      stream_.async_shutdown([self](beast::error_code) { self->Close(); });
    } else {
      // Close our side, then drain what the client still sends for a moment: closing with
      // unread data makes the kernel send a reset, which can destroy the response (a 413 sent
      // before the body was read) before the client reads it.
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().expires_after(std::chrono::seconds(2));
      Drain(0);
    }
  }

  void Drain(size_t drained) {
    if (drained > (4u << 20)) return Close();
    auto self = this->shared_from_this();
    auto buf = std::make_shared<std::array<char, 16384>>();
    Lowest().async_read_some(net::buffer(*buf), [self, buf, drained](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->Drain(drained + n);
    });
  }

  void Close() {
    state_ = State::kClosed;
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  HttpServer::Impl* server_;
  Stream stream_;
  static constexpr uint64_t kSmallBodyBytes = 4096;
  static constexpr uint64_t kBodyReadBytes = 64 * 1024;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kIdle;
  bool keep_alive_ = true;
  bool is_head_ = false;
  bool accept_gzip_ = false;
  bool www_authenticate_ = false;
  bool retry_after_ = false;
  unsigned version_ = 11;
  std::string allow_;
  std::string handler_name_;
  std::string remote_address_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

Status HttpServer::Impl::Start() {
  if (started_.exchange(true)) return Status::Internal("HTTP server started twice");
  std::string where = options_.address + ":" + std::to_string(options_.port);
  try {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
        return Status::InvalidArgument("TLS needs both a certificate and a key file");
      }
      ssl_ctx_.emplace(ssl::context::tls_server);
      ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
      boost::system::error_code ec;
      ssl_ctx_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) {
        return Status::InvalidArgument("TLS certificate " + options_.tls_cert_file + ": " +
                                       ec.message());
      }
      ssl_ctx_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
      if (ec) {
        return Status::InvalidArgument("TLS key " + options_.tls_key_file + ": " + ec.message());
      }
      tls = true;
    }
    boost::system::error_code ec;
    auto addr = net::ip::make_address(options_.address, ec);
    if (ec) return Status::InvalidArgument("bad listen address " + options_.address);
    tcp::endpoint ep(addr, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
    port = acceptor_.local_endpoint().port();
  } catch (const std::exception& e) {
    return Status::IOError("cannot start HTTP server on " + where + ": " + e.what());
  }
  workers_ = std::make_unique<WorkerPool>(options_.worker_threads);
  for (int i = 1; i < std::max(1, options_.io_threads); ++i) {
    more_iocs_.push_back(std::make_unique<net::io_context>(1));
  }
  work_.push_back(net::make_work_guard(ioc_));
  for (auto& c : more_iocs_) work_.push_back(net::make_work_guard(*c));
  DoAccept();
  io_threads_.emplace_back([this] { ioc_.run(); });
  for (auto& c : more_iocs_) io_threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  running_ = true;
  return Status::OK();
}

void HttpServer::Impl::DoAccept() {
  const size_t n = next_ioc_++ % (more_iocs_.size() + 1);
  net::io_context& ctx = n == 0 ? ioc_ : *more_iocs_[n - 1];
  acceptor_.async_accept(ctx.get_executor(), [this](beast::error_code ec, tcp::socket s) {
    OnAccept(ec, std::move(s));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    // Responses go out as several writes (headers, body pieces): with Nagle's algorithm the last
    // small segment waits for the client's delayed ACK, up to 40 ms on Linux, on a keep-alive
    // connection once the kernel has left quick-ACK mode (a 1 MB answer took 55 ms instead of 15).
    beast::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    if (stopping_.load() || session_count() >= options_.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket),
                                                                       *ssl_ctx_)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Start();
    }
  }
  DoAccept();
}

void HttpServer::Impl::Stop() {
  if (!running_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  // Close the listener on the I/O threads (the acceptor is not thread-safe).
  std::promise<void> closed;
  net::post(ioc_, [this, &closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [p, w] : sessions_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->OnServerStop();
  live.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.shutdown_grace_ms),
                 [this] { return sessions_.empty(); });
    if (!sessions_.empty()) {
      VIGIL_LOG(WARN) << "HTTP server stopping with " << sessions_.size()
                      << " connections still open after " << options_.shutdown_grace_ms
                      << " ms; cancelling their requests";
      for (auto& [p, w] : sessions_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
    }
  }
  live.clear();
  FireAllWatched();
  if (!io_threads_.empty()) {
    // Give cancelled handlers a moment to answer before the I/O threads stop.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(1000), [this] { return sessions_.empty(); });
  }
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    watch_stopped_ = true;
    poll_timer_.cancel();
  }
  work_.clear();
  ioc_.stop();
  for (auto& c : more_iocs_) c->stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  workers_->Join();
}

HttpServer::HttpServer(HttpServerOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}
HttpServer::~HttpServer() { impl_->Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
uint16_t HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return impl_->tls; }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace vigil::server
