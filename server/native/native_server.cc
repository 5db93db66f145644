#include "server/native/native_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "server/native/handshake.h"
#include "server/native/native_ingest.h"
#include "server/native/protocol.h"
#include "storage/base/logging.h"

namespace vigil::native {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

namespace detail {

// What the server needs of a connection whatever its stream: closing it on Stop().
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Closes the socket; runs on the connection's strand.
  virtual void Close() = 0;
  virtual asio::any_io_executor executor() = 0;
};

class NativeServerImpl {
 public:
  NativeServerImpl(storage::Db* db, NativeServerOptions options)
      : db_(db), options_(std::move(options)) {}

  Status Start(const std::string& address, uint16_t port, uint16_t* bound);
  void Stop();
  size_t connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.size();
  }

  void Remove(ConnectionBase* c) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(c);
  }
  // Registers a connection that takes over another one's socket (the TLS stream built once the
  // first byte showed a TLS client). False when the server is stopping: the caller drops it.
  bool Adopt(const std::shared_ptr<ConnectionBase>& c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    live_.insert(c.get());
    all_.push_back(c);
    return true;
  }

  storage::Db* db() const { return db_; }
  const NativeServerOptions& options() const { return options_; }
  bool tls() const { return ssl_ctx_.has_value(); }
  ssl::context& ssl_context() { return *ssl_ctx_; }

 private:
  void Accept();

  storage::Db* db_;
  NativeServerOptions options_;
  std::optional<ssl::context> ssl_ctx_;
  asio::io_context io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  mutable std::mutex mu_;
  std::set<ConnectionBase*> live_;
  std::vector<std::weak_ptr<ConnectionBase>> all_;
  bool stopping_ = false;
};

std::string PeerOf(tcp::socket& s) {
  boost::system::error_code ec;
  const tcp::endpoint ep = s.remote_endpoint(ec);
  if (ec) return "(unknown peer)";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A TLS record header of a handshake (22) with version 3.x (SSL 3.0 .. TLS 1.3 say 3.1 here). As
// a native frame's first 4 bytes it would announce a Hello of 0x..0x0?0316 bytes, which no client
// sends.
bool LooksLikeTlsClientHello(const uint8_t* header) {
  return header[0] == 22 && header[1] == 3 && header[2] <= 4;
}

// The plaintext answer of a TLS listener to a client that did not start with a TLS record.
constexpr char kTlsRequired[] =
    "this native listener requires TLS and frame 1 arrived in plaintext: reconnect with TLS; "
    "closing the connection";

// One client connection: frames are read, handled and answered strictly in order. Stream is
// tcp::socket or ssl::stream<tcp::socket>.
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  // tls_required: a plaintext connection on a TLS listener; its first frame is answered with
  // Error{ProtocolError, kTlsRequired} and the connection closed.
  template <class... Args>
  Connection(NativeServerImpl* server, bool tls_required, Args&&... args)
      : server_(server),
        stream_(std::forward<Args>(args)...),
        handshake_timer_(stream_.get_executor()),
        tls_required_(tls_required) {}
  ~Connection() override { server_->Remove(this); }

  void Start() {
    auto self = this->shared_from_this();
    asio::dispatch(stream_.get_executor(), [this, self] {
      // Hello (and the TLS handshake) must complete in time; afterwards connections stay open
      // while the client wants.
      handshake_timer_.expires_after(
          std::chrono::milliseconds(server_->options().handshake_timeout_ms));
      handshake_timer_.async_wait([this, self](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled: handshake done, or the connection closed
        VIGIL_LOG(INFO) << "native protocol: " << peer_ << " did not complete the handshake in "
                        << server_->options().handshake_timeout_ms << " ms; closing";
        Close();
      });
      if constexpr (kTls) {
        stream_.async_handshake(ssl::stream_base::server,
                                [this, self](const boost::system::error_code& ec) {
                                  if (ec) {
                                    VIGIL_LOG(INFO) << "native protocol: TLS handshake with "
                                                    << peer_ << " failed: " << ec.message();
                                    Close();
                                    return;
                                  }
                                  ReadHeader();
                                });
      } else {
        ReadHeader();
      }
    });
  }

  void Close() override {
    boost::system::error_code ec;
    handshake_timer_.cancel();
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
  }
  asio::any_io_executor executor() override { return stream_.get_executor(); }
  tcp::socket& lowest_socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }
  void set_peer(std::string peer) { peer_ = std::move(peer); }

 private:
  void ReadHeader() {
    auto self = this->shared_from_this();
    frame_.resize(kFrameHeaderBytes);
    asio::async_read(stream_, asio::buffer(frame_.data(), kFrameHeaderBytes),
                     [this, self](const boost::system::error_code& ec, size_t) {
                       if (ec) return Close();  // closed by the peer or by Stop()
                       if (frames_ == 0 && !kTls && LooksLikeTlsClientHello(frame_.data())) {
                         // Read as a length it would be up to 67 MB; the client waits for a
                         // ServerHello, so close at once instead of reading it.
                         VIGIL_LOG(INFO) << "native protocol: " << peer_
                                         << " started a TLS handshake on the plaintext listener; "
                                            "closing";
                         return Close();
                       }
                       const uint32_t len = DecodeFrameLength(frame_.data());
                       const uint32_t max = server_->options().max_frame_bytes;
                       if (len > max) {
                         if (tls_required_) {
                           SendError(fb::BatchStatus::ProtocolError, kTlsRequired, true);
                           return;
                         }
                         SendError(fb::BatchStatus::TooLarge,
                                   "frame of " + std::to_string(len) +
                                       " bytes exceeds the limit of " + std::to_string(max) +
                                       " bytes; closing the connection",
                                   /*close=*/true);
                         return;
                       }
                       frame_.resize(kFrameHeaderBytes + len);
                       ReadBody();
                     });
  }

  void ReadBody() {
    auto self = this->shared_from_this();
    asio::async_read(
        stream_, asio::buffer(frame_.data() + kFrameHeaderBytes, frame_.size() - kFrameHeaderBytes),
        [this, self](const boost::system::error_code& ec, size_t) {
          if (ec) return Close();
          ++frames_;
          Handle();
        });
  }

  void Handle() {
    if (tls_required_) {
      // The whole frame was read, so closing sends no reset that could overtake the answer.
      SendError(fb::BatchStatus::ProtocolError, kTlsRequired, true);
      return;
    }
    Result<const fb::Frame*> frame =
        VerifyFrame(std::string_view(reinterpret_cast<const char*>(frame_.data()), frame_.size()));
    if (!frame.ok()) {
      // The length prefix was sane, so the stream is still in step: report and go on.
      SendError(fb::BatchStatus::ProtocolError,
                "frame " + std::to_string(frames_) + ": " + frame.status().message(), false);
      return;
    }
    const fb::Frame* f = *frame;
    if (version_ == 0) {
      if (f->message_type() != fb::Message::Hello) {
        SendError(fb::BatchStatus::ProtocolError,
                  "frame " + std::to_string(frames_) +
                      ": the first frame must be Hello; closing the connection",
                  true);
        return;
      }
      HandleHello(*f->message_as_Hello());
      return;
    }
    if (f->message_type() != fb::Message::WriteBatch) {
      SendError(fb::BatchStatus::ProtocolError,
                "frame " + std::to_string(frames_) + ": expected WriteBatch, got " +
                    fb::EnumNameMessage(f->message_type()),
                false);
      return;
    }
    const fb::WriteBatch& batch = *f->message_as_WriteBatch();
    const server::ingest::IngestOutcome out =
        IngestNativeBatch(*server_->db(), batch, server_->options().ingest);
    fbb_.Clear();
    auto msg = fbb_.CreateString(out.message);
    auto ack = fb::CreateAck(fbb_, batch.batch_id(), ToBatchStatus(out.code), out.samples_written,
                             out.samples_rejected(), msg);
    FinishFrame(fbb_, fb::Message::Ack, ack);
    Send(false);
  }

  void HandleHello(const fb::Hello& hello) {
    const HelloDecision d = DecideHello(hello, server_->options().auth);
    const bool ok = d.status == fb::BatchStatus::Ok;
    if (ok) {
      if (!d.token_name.empty()) {
        VIGIL_LOG(DEBUG) << "native protocol: " << peer_ << " authenticated as " << d.token_name;
      }
    } else {
      VIGIL_LOG(INFO) << "native protocol: refused " << peer_ << ": " << d.message;
    }
    fbb_.Clear();
    auto server = fbb_.CreateString(server_->options().server_name);
    auto msg = fbb_.CreateString(d.message);
    auto ack = fb::CreateHelloAck(fbb_, d.version, d.status, server,
                                  server_->options().max_frame_bytes, msg);
    FinishFrame(fbb_, fb::Message::HelloAck, ack);
    if (ok) {
      version_ = d.version;
      handshake_timer_.cancel();
    }
    Send(!ok);
  }

  void SendError(fb::BatchStatus status, const std::string& message, bool close) {
    fbb_.Clear();
    auto msg = fbb_.CreateString(message);
    auto err = fb::CreateError(fbb_, status, msg);
    FinishFrame(fbb_, fb::Message::Error, err);
    Send(close);
  }

  // Writes the finished size-prefixed buffer in fbb_, then reads the next frame (or closes).
  void Send(bool close) {
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(fbb_.GetBufferPointer(), fbb_.GetSize()),
                      [this, self, close](const boost::system::error_code& ec, size_t) {
                        if (ec) return Close();
                        if (close) return Linger();
                        ReadHeader();
                      });
  }

  // Closes after a last frame without losing it: a plain close() with unread bytes (a batch the
  // client pipelined behind its Hello) makes the kernel send a reset, which can discard the frame
  // before the client reads it. So: FIN first, then discard what still arrives until the client
  // closes too, for at most kLingerMs.
  static constexpr int64_t kLingerMs = 1000;
  void Linger() {
    auto self = this->shared_from_this();
    boost::system::error_code ec;
    lowest_socket().shutdown(tcp::socket::shutdown_send, ec);
    handshake_timer_.expires_after(std::chrono::milliseconds(kLingerMs));
    handshake_timer_.async_wait([this, self](const boost::system::error_code& e) {
      if (!e) Close();
    });
    Drain();
  }
  void Drain() {
    auto self = this->shared_from_this();
    drain_.resize(4096);
    lowest_socket().async_read_some(asio::buffer(drain_),
                                    [this, self](const boost::system::error_code& ec, size_t) {
                                      if (ec) return Close();
                                      Drain();
                                    });
  }

  NativeServerImpl* server_;
  Stream stream_;
  asio::steady_timer handshake_timer_;
  std::vector<uint8_t> drain_;
  const bool tls_required_;
  std::string peer_;
  std::vector<uint8_t> frame_;  // length prefix + payload (heap: 8-byte aligned for the verifier)
  flatbuffers::FlatBufferBuilder fbb_;
  uint16_t version_ = 0;  // 0 until the handshake succeeded
  uint64_t frames_ = 0;
};

using PlainConnection = Connection<tcp::socket>;
using TlsConnection = Connection<ssl::stream<tcp::socket>>;

// On a TLS listener: waits for the client's first byte without consuming it. A TLS client starts
// with a handshake record (content type 22); anything else is a plaintext client, which gets a
// plaintext Error frame saying TLS is required instead of an opaque handshake failure.
class Sniffer : public ConnectionBase, public std::enable_shared_from_this<Sniffer> {
 public:
  Sniffer(NativeServerImpl* server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}
  ~Sniffer() override { server_->Remove(this); }

  void Start() {
    auto self = shared_from_this();
    asio::dispatch(socket_.get_executor(), [this, self] {
      timer_.expires_after(std::chrono::milliseconds(server_->options().handshake_timeout_ms));
      timer_.async_wait([this, self](const boost::system::error_code& ec) {
        if (!ec) Close();
      });
      socket_.async_receive(asio::buffer(&first_, 1), tcp::socket::message_peek,
                            [this, self](const boost::system::error_code& ec, size_t n) {
                              timer_.cancel();
                              if (ec || n == 0 || !socket_.is_open()) return;
                              HandOver();
                            });
    });
  }
  void Close() override {
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  asio::any_io_executor executor() override { return socket_.get_executor(); }

 private:
  static constexpr unsigned char kTlsHandshakeRecord = 22;

  void HandOver() {
    std::string peer = PeerOf(socket_);
    if (first_ == kTlsHandshakeRecord) {
      auto c = std::make_shared<TlsConnection>(server_, false, std::move(socket_),
                                               server_->ssl_context());
      Launch(c, std::move(peer));
    } else {
      VIGIL_LOG(INFO) << "native protocol: " << peer
                      << " sent plaintext to the TLS listener; answering that TLS is required";
      auto c = std::make_shared<PlainConnection>(server_, true, std::move(socket_));
      Launch(c, std::move(peer));
    }
  }
  template <class C>
  void Launch(const std::shared_ptr<C>& c, std::string peer) {
    c->set_peer(std::move(peer));
    if (server_->Adopt(c)) {
      c->Start();
    } else {
      c->Close();
    }
  }

  NativeServerImpl* server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  unsigned char first_ = 0;
};

Status NativeServerImpl::Start(const std::string& address, uint16_t port, uint16_t* bound) {
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return Status::InvalidArgument(
          "native protocol: TLS needs both a certificate and a key file");
    }
    ssl_ctx_.emplace(ssl::context::tls_server);
    ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ssl_ctx_->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) {
      ssl_ctx_.reset();
      return Status::InvalidArgument("native protocol: TLS certificate " + options_.tls_cert_file +
                                     ": " + ec.message());
    }
    ssl_ctx_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      ssl_ctx_.reset();
      return Status::InvalidArgument("native protocol: TLS key " + options_.tls_key_file + ": " +
                                     ec.message());
    }
  }
  try {
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(address, std::to_string(port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service);
    if (endpoints.empty()) return Status::Unavailable("cannot resolve " + address);
    const tcp::endpoint ep = endpoints.begin()->endpoint();
    acceptor_ = std::make_unique<tcp::acceptor>(io_);
    acceptor_->open(ep.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen();
    *bound = acceptor_->local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    acceptor_.reset();
    return Status::Unavailable("native protocol: cannot listen on " + address + ":" +
                               std::to_string(port) + ": " + e.what());
  }
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  Accept();
  const int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  return Status::OK();
}

void NativeServerImpl::Accept() {
  // Each connection's socket runs its handlers on its own strand: no two handlers of one
  // connection (including Stop()'s Close) run at once, whatever the thread count.
  acceptor_->async_accept(asio::make_strand(io_), [this](const boost::system::error_code& ec,
                                                         tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;  // Stop()
      VIGIL_LOG(WARN) << "native protocol: accept failed: " << ec.message();
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::shared_ptr<ConnectionBase> c;
      std::function<void()> start;
      if (tls()) {
        auto s = std::make_shared<Sniffer>(this, std::move(socket));
        start = [s] { s->Start(); };
        c = s;
      } else {
        auto p = std::make_shared<PlainConnection>(this, false, std::move(socket));
        p->set_peer(PeerOf(p->lowest_socket()));
        start = [p] { p->Start(); };
        c = p;
      }
      bool admitted;
      {
        std::lock_guard<std::mutex> lock(mu_);
        admitted = !stopping_ && live_.size() < options_.max_connections;
        if (admitted) {
          live_.insert(c.get());
          std::erase_if(all_, [](const std::weak_ptr<ConnectionBase>& w) { return w.expired(); });
          all_.push_back(c);
        }
      }
      if (admitted) {
        start();
      } else {
        asio::dispatch(c->executor(), [c] { c->Close(); });
      }
    }
    if (acceptor_->is_open()) Accept();
  });
}

void NativeServerImpl::Stop() {
  if (acceptor_ == nullptr) return;
  std::vector<std::shared_ptr<ConnectionBase>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& w : all_) {
      if (auto c = w.lock()) conns.push_back(std::move(c));
    }
    all_.clear();
  }
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
  });
  for (const auto& c : conns) {
    asio::post(c->executor(), [c] { c->Close(); });
  }
  conns.clear();
  work_.reset();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  acceptor_.reset();
}

}  // namespace detail

using detail::NativeServerImpl;

NativeServer::NativeServer(storage::Db* db, NativeServerOptions options)
    : impl_(std::make_unique<NativeServerImpl>(db, std::move(options))) {}

NativeServer::~NativeServer() { Stop(); }

Status NativeServer::Start(const std::string& address, uint16_t port) {
  uint16_t bound = 0;
  VIGIL_RETURN_IF_ERROR(impl_->Start(address, port, &bound));
  port_.store(bound, std::memory_order_release);
  return Status::OK();
}

void NativeServer::Stop() { impl_->Stop(); }

size_t NativeServer::connections() const { return impl_->connections(); }

bool NativeServer::tls() const { return impl_->tls(); }

}  // namespace vigil::native
