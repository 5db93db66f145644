#include "server/native/client.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio.hpp>

#include <cstring>

namespace vigil::native {

namespace asio = boost::asio;
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
  explicit Impl(std::chrono::milliseconds timeout) : socket_(io_), timeout_(timeout) {}

  Status Connect(const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Status::Unavailable("cannot resolve " + host + ": " + ec.message());
    asio::connect(socket_, endpoints, ec);
    if (ec) {
      return Status::Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                                 ec.message());
    }
    socket_.set_option(tcp::no_delay(true), ec);
    // Blocking I/O with kernel timeouts: a stalled server surfaces as an error, not a hang.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return Status::OK();
  }

  Status Send(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) return Status::Unavailable("native protocol: send failed: " + ec.message());
    return Status::OK();
  }

  Result<std::string> ReadFrame(uint32_t max_bytes) {
    unsigned char header[kFrameHeaderBytes];
    boost::system::error_code ec;
    asio::read(socket_, asio::buffer(header, sizeof(header)), ec);
    if (ec) return Status::Unavailable("native protocol: receive failed: " + ec.message());
    const uint32_t len = DecodeFrameLength(header);
    if (len > max_bytes) {
      return Status::Corruption("native protocol: server frame of " + std::to_string(len) +
                                " bytes exceeds " + std::to_string(max_bytes));
    }
    std::string frame(kFrameHeaderBytes + len, '\0');
    std::memcpy(frame.data(), header, kFrameHeaderBytes);
    asio::read(socket_, asio::buffer(frame.data() + kFrameHeaderBytes, len), ec);
    if (ec) return Status::Unavailable("native protocol: receive failed: " + ec.message());
    return frame;
  }

  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  std::chrono::milliseconds timeout_;
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

Result<std::unique_ptr<NativeClient>> NativeClient::Connect(const std::string& host,
                                                            uint16_t port,
                                                            const ClientOptions& options) {
  auto impl = std::make_unique<Impl>(options.timeout);
  VIGIL_RETURN_IF_ERROR(impl->Connect(host, port));
  flatbuffers::FlatBufferBuilder fbb;
  auto name = fbb.CreateString(options.client_name);
  auto hello = fb::CreateHello(fbb, kMinProtocolVersion, kProtocolVersion, name);
  VIGIL_RETURN_IF_ERROR(impl->Send(FinishFrame(fbb, fb::Message::Hello, hello)));
  VIGIL_ASSIGN_OR_RETURN(std::string payload, impl->ReadFrame(kMaxServerFrame));
  VIGIL_ASSIGN_OR_RETURN(const fb::Frame* f, VerifyFrame(payload));
  if (f->message_type() == fb::Message::Error) return FromErrorFrame(f);
  if (f->message_type() != fb::Message::HelloAck) {
    return Status::Corruption(std::string("native protocol: expected HelloAck, got ") +
                              fb::EnumNameMessage(f->message_type()));
  }
  const fb::HelloAck* ack = f->message_as_HelloAck();
  if (ack->status() != fb::BatchStatus::Ok) {
    return Status::NotSupported("native protocol: handshake refused (" +
                                std::string(BatchStatusName(ack->status())) + "): " +
                                (ack->message() != nullptr ? ack->message()->str() : ""));
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

void NativeClient::Close() {
  if (impl_ != nullptr) impl_->Close();
}

}  // namespace vigil::native
