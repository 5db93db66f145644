#pragma once

// A small blocking client of Vigil's native write protocol (server/docs/protocols/native.md), for
// backends that embed it. It depends only on Boost.Asio, FlatBuffers and Vigil's Status type.
//
//   auto client = vigil::native::NativeClient::Connect("127.0.0.1", 9095);
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

struct ClientOptions {
  std::string client_name = "vigil-native-client/1";
  // For connect, every send and every receive; a timeout closes the connection.
  std::chrono::milliseconds timeout{10000};
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
  // Connects and performs the handshake. Unavailable when the server cannot be reached;
  // NotSupported on a version mismatch (the message lists both ranges).
  static Result<std::unique_ptr<NativeClient>> Connect(const std::string& host, uint16_t port,
                                                       const ClientOptions& options = {});
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
