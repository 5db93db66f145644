#include "server/native/client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <cstring>
#include <optional>

namespace vigil::native {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

void WriteBatchBuilder::AddSeries(std::span<const LabelView> labels,
                                  std::span<const int64_t> timestamps,
                                  std::span<const double> values) {
  labels_.clear();
  for (const auto& [name, value] : labels) {
    auto n = fbb_.CreateString(name.data(), name.size());
    auto v = fbb_.CreateString(value.data(), value.size());
    labels_.push_back(fb::CreateLabel(fbb_, n, v));
  }
  auto ls = fbb_.CreateVector(labels_);
  auto ts = fbb_.CreateVector(timestamps.data(), timestamps.size());
  auto vs = fbb_.CreateVector(values.data(), values.size());
  series_.push_back(fb::CreateSeriesColumns(fbb_, ls, ts, vs));
  samples_ += timestamps.size();
}

std::string WriteBatchBuilder::Finish(uint64_t batch_id) {
  auto series = fbb_.CreateVector(series_);
  auto batch = fb::CreateWriteBatch(fbb_, batch_id, series);
  std::string out(FinishFrame(fbb_, fb::Message::WriteBatch, batch));
  Clear();
  return out;
}

void WriteBatchBuilder::Clear() {
  fbb_.Clear();
  series_.clear();
  samples_ = 0;
}

class NativeClient::Impl {
 public:
  explicit Impl(const ClientOptions& options)
      : socket_(io_), timeout_(options.timeout), tls_options_(options.tls) {}

  Status Connect(const std::string& host, uint16_t port) {
    where_ = host + ":" + std::to_string(port);
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Status::Unavailable("cannot resolve " + host + ": " + ec.message());
    ec = Run([&](auto handler) { asio::async_connect(socket_, endpoints, handler); });
    if (ec) return Failed("cannot connect to " + where_, ec);
    socket_.set_option(tcp::no_delay(true), ec);
    if (tls_options_.enabled) return HandshakeTls(host);
    return Status::OK();
  }

  Status Send(std::string_view bytes) {
    const boost::system::error_code ec = Run([&](auto handler) {
      WithStream([&](auto& s) {
        asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), handler);
      });
    });
    if (ec) return Failed("native protocol: send to " + where_ + " failed", ec);
    return Status::OK();
  }

  Result<std::string> ReadFrame(uint32_t max_bytes) {
    unsigned char header[kFrameHeaderBytes];
    boost::system::error_code ec = Read(header, sizeof(header));
    if (ec) return Failed("native protocol: receive from " + where_ + " failed", ec);
    if (tls_ == nullptr && (header[0] == 0x15 || header[0] == 0x16) && header[1] == 0x03) {
      return Status::Unavailable("native protocol: " + where_ +
                                 " answered with a TLS record: its native listener speaks TLS; "
                                 "connect with TLS (ClientOptions::tls)");
    }
    const uint32_t len = DecodeFrameLength(header);
    if (len > max_bytes) {
      return Status::Corruption("native protocol: server frame of " + std::to_string(len) +
                                " bytes exceeds " + std::to_string(max_bytes));
    }
    std::string frame(kFrameHeaderBytes + len, '\0');
    std::memcpy(frame.data(), header, kFrameHeaderBytes);
    ec = Read(frame.data() + kFrameHeaderBytes, len);
    if (ec) return Failed("native protocol: receive from " + where_ + " failed", ec);
    return frame;
  }

  void Close() {
    boost::system::error_code ec;
    Lowest().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close(ec);
  }

  bool tls() const { return tls_ != nullptr; }

 private:
  Status HandshakeTls(const std::string& host) {
    const std::string name = tls_options_.server_name.empty() ? host : tls_options_.server_name;
    ssl_ctx_.emplace(ssl::context::tls_client);
    ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (tls_options_.insecure_skip_verify) {
      ssl_ctx_->set_verify_mode(ssl::verify_none);
    } else {
      ssl_ctx_->set_verify_mode(ssl::verify_peer);
      if (!tls_options_.ca_file.empty()) {
        ssl_ctx_->load_verify_file(tls_options_.ca_file, ec);
        if (ec) {
          return Status::InvalidArgument("TLS CA file " + tls_options_.ca_file + ": " +
                                         ec.message());
        }
      } else {
        ssl_ctx_->set_default_verify_paths(ec);
        if (ec) return Status::InvalidArgument("TLS: no system CA store: " + ec.message());
      }
    }
    tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket_), *ssl_ctx_);
    if (!tls_options_.insecure_skip_verify) {
      tls_->set_verify_callback([this, name](bool preverified, ssl::verify_context& ctx) {
        if (!preverified) {
          const int err = X509_STORE_CTX_get_error(ctx.native_handle());
          if (verify_error_.empty()) {
            verify_error_ = std::string("the server's certificate did not verify: ") +
                            X509_verify_cert_error_string(err);
          }
          return false;
        }
        const bool ok = ssl::host_name_verification(name)(preverified, ctx);
        if (!ok && verify_error_.empty()) {
          verify_error_ = "the server's certificate is not valid for \"" + name + "\"";
        }
        return ok;
      });
    }
    // SNI carries DNS names only, never addresses (RFC 6066).
    boost::system::error_code not_an_address;
    (void)asio::ip::make_address(name, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str());
    ec = Run([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); });
    if (ec) {
      const std::string what = "native protocol: TLS handshake with " + where_ + " failed";
      if (ec == asio::error::timed_out) return Failed(what, ec);
      std::string why = !verify_error_.empty() ? verify_error_ : ec.message();
      if (ec.category() == asio::error::get_ssl_category() &&
          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER) {
        why += " (the server answered without TLS: is its native listener plaintext?)";
      } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
        why += " (the server closed the connection: is its native listener plaintext?)";
      }
      return Status::Unavailable(what + ": " + why);
    }
    return Status::OK();
  }

  boost::system::error_code Read(void* data, size_t n) {
    return Run([&](auto handler) {
      WithStream([&](auto& s) { asio::async_read(s, asio::buffer(data, n), handler); });
    });
  }

  // Starts one asynchronous operation through `initiate` (which receives its completion handler)
  // and runs it to completion or until the timeout, which closes the socket.
  template <class Initiate>
  boost::system::error_code Run(Initiate initiate) {
    bool done = false;
    boost::system::error_code result;
    initiate([&done, &result](const boost::system::error_code& ec, auto&&...) {
      done = true;
      result = ec;
    });
    io_.restart();
    io_.run_for(timeout_);
    if (!done) {
      Close();  // aborts the operation; its handler runs below
      io_.restart();
      io_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  Status Failed(const std::string& what, const boost::system::error_code& ec) const {
    if (ec == asio::error::timed_out) {
      return Status::DeadlineExceeded(what + ": no progress within " +
                                      std::to_string(timeout_.count()) + " ms (connection closed)");
    }
    return Status::Unavailable(what + ": " + ec.message());
  }

  template <class F>
  void WithStream(F f) {
    if (tls_ != nullptr) {
      f(*tls_);
    } else {
      f(socket_);
    }
  }
  tcp::socket& Lowest() { return tls_ != nullptr ? tls_->next_layer() : socket_; }

  asio::io_context io_;
  tcp::socket socket_;  // moved into tls_ once TLS is on
  std::chrono::milliseconds timeout_;
  ClientTlsOptions tls_options_;
  std::optional<ssl::context> ssl_ctx_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
  std::string verify_error_;
  std::string where_;
};

namespace {

// Server frames are small (acks, errors); this bounds what a broken server can make us allocate.
constexpr uint32_t kMaxServerFrame = 1u << 20;

Status FromErrorFrame(const fb::Frame* f) {
  const fb::Error* e = f->message_as_Error();
  return Status::Unavailable(std::string("native protocol: server error ") +
                             std::string(BatchStatusName(e->status())) + ": " +
                             (e->message() != nullptr ? e->message()->str() : ""));
}

}  // namespace

NativeClient::NativeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NativeClient::~NativeClient() { Close(); }

Result<std::unique_ptr<NativeClient>> NativeClient::Connect(const std::string& host, uint16_t port,
                                                            const ClientOptions& options,
                                                            fb::BatchStatus* handshake_status) {
  auto impl = std::make_unique<Impl>(options);
  VIGIL_RETURN_IF_ERROR(impl->Connect(host, port));
  VIGIL_RETURN_IF_ERROR(impl->Send(
      EncodeHello(kMinProtocolVersion, kProtocolVersion, options.client_name, options.token)));
  VIGIL_ASSIGN_OR_RETURN(std::string payload, impl->ReadFrame(kMaxServerFrame));
  VIGIL_ASSIGN_OR_RETURN(const fb::Frame* f, VerifyFrame(payload));
  if (f->message_type() == fb::Message::Error) return FromErrorFrame(f);
  if (f->message_type() != fb::Message::HelloAck) {
    return Status::Corruption(std::string("native protocol: expected HelloAck, got ") +
                              fb::EnumNameMessage(f->message_type()));
  }
  const fb::HelloAck* ack = f->message_as_HelloAck();
  if (handshake_status != nullptr) *handshake_status = ack->status();
  if (ack->status() == fb::BatchStatus::Unauthenticated ||
      ack->status() == fb::BatchStatus::Forbidden) {
    return Status::InvalidArgument(
        "native protocol: handshake refused (" + std::string(BatchStatusName(ack->status())) +
        "): " + (ack->message() != nullptr ? ack->message()->str() : ""));
  }
  if (ack->status() != fb::BatchStatus::Ok) {
    return Status::NotSupported("native protocol: handshake refused (" +
                                std::string(BatchStatusName(ack->status())) +
                                "): " + (ack->message() != nullptr ? ack->message()->str() : ""));
  }
  std::unique_ptr<NativeClient> client(new NativeClient(std::move(impl)));
  client->version_ = ack->version();
  client->server_name_ = ack->server() != nullptr ? ack->server()->str() : "";
  client->max_frame_bytes_ = ack->max_frame_bytes();
  return client;
}

Result<uint64_t> NativeClient::Send(WriteBatchBuilder& batch) {
  const uint64_t id = next_batch_id_++;
  const std::string frame = batch.Finish(id);
  if (max_frame_bytes_ != 0 && frame.size() - kFrameHeaderBytes > max_frame_bytes_) {
    return Status::ResourceExhausted("batch of " + std::to_string(frame.size()) +
                                     " bytes exceeds the server's max_frame_bytes of " +
                                     std::to_string(max_frame_bytes_) + "; send smaller batches");
  }
  VIGIL_RETURN_IF_ERROR(impl_->Send(frame));
  return id;
}

Result<AckResult> NativeClient::ReadAck() {
  VIGIL_ASSIGN_OR_RETURN(std::string payload, impl_->ReadFrame(kMaxServerFrame));
  VIGIL_ASSIGN_OR_RETURN(const fb::Frame* f, VerifyFrame(payload));
  if (f->message_type() == fb::Message::Error) return FromErrorFrame(f);
  if (f->message_type() != fb::Message::Ack) {
    return Status::Corruption(std::string("native protocol: expected Ack, got ") +
                              fb::EnumNameMessage(f->message_type()));
  }
  const fb::Ack* a = f->message_as_Ack();
  AckResult r;
  r.batch_id = a->batch_id();
  r.status = a->status();
  r.samples_written = a->samples_written();
  r.samples_rejected = a->samples_rejected();
  if (a->message() != nullptr) r.message = a->message()->str();
  return r;
}

Result<AckResult> NativeClient::Write(WriteBatchBuilder& batch) {
  VIGIL_ASSIGN_OR_RETURN(uint64_t id, Send(batch));
  VIGIL_ASSIGN_OR_RETURN(AckResult ack, ReadAck());
  if (ack.batch_id != id) {
    return Status::Corruption("native protocol: ack for batch " + std::to_string(ack.batch_id) +
                              " while waiting for batch " + std::to_string(id));
  }
  return ack;
}

Status NativeClient::SendRaw(std::string_view bytes) { return impl_->Send(bytes); }

Result<std::string> NativeClient::ReadFrame() { return impl_->ReadFrame(kMaxServerFrame); }

bool NativeClient::tls() const { return impl_ != nullptr && impl_->tls(); }

void NativeClient::Close() {
  if (impl_ != nullptr) impl_->Close();
}

}  // namespace vigil::native
