#pragma once

// A small blocking client of Vigil's native write protocol (server/docs/protocols/native.md), for
// backends that embed it. It depends only on Boost.Asio (and OpenSSL for TLS), FlatBuffers and
// Vigil's Status type.
//
//   vigil::native::ClientOptions options;
//   options.token = "...";                       // when vigild runs with --auth.token-file
//   options.tls.enabled = true;                  // when vigild runs with --tls.cert-file
//   options.tls.ca_file = "/etc/vigil/ca.pem";   // else the system's CA store
//   auto client = vigil::native::NativeClient::Connect("127.0.0.1", 9095, options);
//   if (!client.ok()) ...;
//   vigil::native::WriteBatchBuilder batch;
//   const vigil::native::LabelView labels[] = {{"__name__", "requests_total"}, {"job", "api"}};
//   const int64_t ts[] = {1700000000000, 1700000015000};
//   const double vs[] = {10, 12};
//   batch.AddSeries(labels, ts, vs);
//   auto ack = (*client)->Write(batch);   // sends the batch, waits for its Ack
//
// Thread safety: one NativeClient per thread (or external locking). WriteBatchBuilder: none.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/native/protocol.h"
#include "storage/base/status.h"

namespace vigil::native {

using LabelView = std::pair<std::string_view, std::string_view>;  // name, value

// Collects series for one WriteBatch frame, columnar (labels once, then timestamps and values).
class WriteBatchBuilder {
 public:
  WriteBatchBuilder() = default;

  // REQUIRES: timestamps.size() == values.size(). Labels may come in any order.
  void AddSeries(std::span<const LabelView> labels, std::span<const int64_t> timestamps,
                 std::span<const double> values);

  size_t series() const { return series_.size(); }
  size_t samples() const { return samples_; }
  // Approximate frame size so far, to cut batches below the server's max_frame_bytes.
  size_t bytes() const { return fbb_.GetSize(); }

  // The complete frame (length prefix included). The builder is empty afterwards.
  std::string Finish(uint64_t batch_id);
  void Clear();

 private:
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<fb::SeriesColumns>> series_;
  std::vector<flatbuffers::Offset<fb::Label>> labels_;
  size_t samples_ = 0;
};

struct ClientTlsOptions {
  bool enabled = false;
  // PEM file of the CA certificate(s) the server's certificate must chain to; empty: the
  // system's default CA store.
  std::string ca_file;
  // The name the server's certificate must carry (DNS name or IP address) and the SNI name sent;
  // empty: the host passed to Connect().
  std::string server_name;
  // Accept any certificate and name. Encrypts without authenticating the server: tests only.
  bool insecure_skip_verify = false;
};

struct ClientOptions {
  std::string client_name = "vigil-native-client/1";
  // For connect (TCP and TLS handshakes included), every send and every receive; a timeout closes
  // the connection (DeadlineExceeded).
  std::chrono::milliseconds timeout{10000};
  // Bearer token sent in Hello; needs the write scope on a server with a token file. Ignored by
  // servers without auth.
  std::string token;
  ClientTlsOptions tls;
};

struct AckResult {
  uint64_t batch_id = 0;
  fb::BatchStatus status = fb::BatchStatus::Ok;
  uint64_t samples_written = 0;
  uint64_t samples_rejected = 0;
  std::string message;
  bool ok() const { return status == fb::BatchStatus::Ok; }
};

class NativeClient {
 public:
  // Connects (TLS handshake included when options.tls.enabled) and performs the Hello handshake.
  // Unavailable when the server cannot be reached or the TLS handshake fails (the message says
  // why, e.g. the certificate's verification error); DeadlineExceeded on a timeout. A refused
  // Hello: NotSupported on a version mismatch (the message lists both ranges), InvalidArgument
  // when the server refuses the token (Unauthenticated: none or unknown; Forbidden: no write
  // scope). *handshake_status, when given, receives the HelloAck's status if one arrived.
  static Result<std::unique_ptr<NativeClient>> Connect(const std::string& host, uint16_t port,
                                                       const ClientOptions& options = {},
                                                       fb::BatchStatus* handshake_status = nullptr);
  ~NativeClient();

  // Send(batch) then ReadAck(). The batch's status (including partial rejections) is in the
  // AckResult; a non-OK Result means the connection failed (or the server sent an Error frame),
  // and the batch may or may not have been written.
  Result<AckResult> Write(WriteBatchBuilder& batch);

  // Pipelining: send several batches, then read their acks in order. Returns the batch id.
  Result<uint64_t> Send(WriteBatchBuilder& batch);
  Result<AckResult> ReadAck();

  // For tests: raw bytes out, one raw frame (length prefix included) in.
  Status SendRaw(std::string_view bytes);
  Result<std::string> ReadFrame();

  uint16_t version() const { return version_; }
  bool tls() const;
  const std::string& server_name() const { return server_name_; }
  uint32_t max_frame_bytes() const { return max_frame_bytes_; }

  void Close();

 private:
  class Impl;
  explicit NativeClient(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  uint16_t version_ = 0;
  std::string server_name_;
  uint32_t max_frame_bytes_ = 0;
  uint64_t next_batch_id_ = 1;
};

}  // namespace vigil::native
