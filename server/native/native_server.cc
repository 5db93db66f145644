#include "server/native/native_server.h"

#include <boost/asio.hpp>

#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "server/native/native_ingest.h"
#include "server/native/protocol.h"
#include "storage/base/logging.h"

namespace vigil::native {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace detail {

class Connection;

class NativeServerImpl {
 public:
  NativeServerImpl(storage::Db* db, NativeServerOptions options) : db_(db), options_(std::move(options)) {}

  Status Start(const std::string& address, uint16_t port, uint16_t* bound);
  void Stop();
  size_t connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.size();
  }

  void Remove(Connection* c) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(c);
  }

  storage::Db* db() const { return db_; }
  const NativeServerOptions& options() const { return options_; }

 private:
  void Accept();

  storage::Db* db_;
  NativeServerOptions options_;
  asio::io_context io_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  mutable std::mutex mu_;
  std::set<Connection*> live_;
  std::vector<std::weak_ptr<Connection>> all_;
  bool stopping_ = false;
  friend class Connection;
};

// One client connection: frames are read, handled and answered strictly in order.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(NativeServerImpl* server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)) {}
  ~Connection() { server_->Remove(this); }

  void Start() { ReadHeader(); }
  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  tcp::socket& socket() { return socket_; }

 private:
  void ReadHeader() {
    auto self = shared_from_this();
    frame_.resize(kFrameHeaderBytes);
    asio::async_read(socket_, asio::buffer(frame_.data(), kFrameHeaderBytes),
                     [this, self](const boost::system::error_code& ec, size_t) {
                       if (ec) return;  // closed by the peer or by Stop()
                       const uint32_t len = DecodeFrameLength(frame_.data());
                       const uint32_t max = server_->options().max_frame_bytes;
                       if (len > max) {
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
    auto self = shared_from_this();
    asio::async_read(socket_,
                     asio::buffer(frame_.data() + kFrameHeaderBytes,
                                  frame_.size() - kFrameHeaderBytes),
                     [this, self](const boost::system::error_code& ec, size_t) {
                       if (ec) return;
                       ++frames_;
                       Handle();
                     });
  }

  void Handle() {
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
    const uint16_t lo = std::max(hello.min_version(), kMinProtocolVersion);
    const uint16_t hi = std::min(hello.max_version(), kProtocolVersion);
    const bool ok = lo <= hi;
    fbb_.Clear();
    auto server = fbb_.CreateString(server_->options().server_name);
    auto msg = fbb_.CreateString(
        ok ? std::string()
           : "no common protocol version: the client speaks " +
                 std::to_string(hello.min_version()) + ".." +
                 std::to_string(hello.max_version()) + ", the server " +
                 std::to_string(kMinProtocolVersion) + ".." + std::to_string(kProtocolVersion));
    auto ack = fb::CreateHelloAck(fbb_, ok ? hi : 0,
                                  ok ? fb::BatchStatus::Ok : fb::BatchStatus::VersionMismatch,
                                  server, server_->options().max_frame_bytes, msg);
    FinishFrame(fbb_, fb::Message::HelloAck, ack);
    if (ok) version_ = hi;
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
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(fbb_.GetBufferPointer(), fbb_.GetSize()),
                      [this, self, close](const boost::system::error_code& ec, size_t) {
                        if (ec) return;
                        if (close) {
                          Close();
                          return;
                        }
                        ReadHeader();
                      });
  }

  NativeServerImpl* server_;
  tcp::socket socket_;
  std::vector<uint8_t> frame_;  // length prefix + payload (heap: 8-byte aligned for the verifier)
  flatbuffers::FlatBufferBuilder fbb_;
  uint16_t version_ = 0;  // 0 until the handshake succeeded
  uint64_t frames_ = 0;
};

Status NativeServerImpl::Start(const std::string& address, uint16_t port, uint16_t* bound) {
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
      auto c = std::make_shared<Connection>(this, std::move(socket));
      bool admitted;
      {
        std::lock_guard<std::mutex> lock(mu_);
        admitted = !stopping_ && live_.size() < options_.max_connections;
        if (admitted) {
          live_.insert(c.get());
          std::erase_if(all_, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
          all_.push_back(c);
        }
      }
      if (admitted) {
        c->Start();
      } else {
        c->Close();
      }
    }
    if (acceptor_->is_open()) Accept();
  });
}

void NativeServerImpl::Stop() {
  if (acceptor_ == nullptr) return;
  std::vector<std::shared_ptr<Connection>> conns;
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
    asio::post(c->socket().get_executor(), [c] { c->Close(); });
  }
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

}  // namespace vigil::native
