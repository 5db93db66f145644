#pragma once

// The native write protocol's TCP server (Boost.Asio): accepts connections (over TLS when a
// certificate is configured), does the version and token handshake, and answers every WriteBatch
// frame with an Ack after committing it to the Db. Protocol: server/docs/protocols/native.md.
//
//   NativeServer server(db, options);
//   VIGIL_RETURN_IF_ERROR(server.Start("127.0.0.1", 9095));   // port 0 picks a free port
//   ...
//   server.Stop();                                             // also done by the destructor
//
// Thread safety: Start/Stop from one thread; port() and connections() from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "server/ingest/ingest.h"
#include "storage/base/status.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::server {
class Authenticator;
}  // namespace vigil::server

namespace vigil::native {

namespace detail {
class NativeServerImpl;
}  // namespace detail

inline constexpr uint16_t kDefaultNativePort = 9095;

struct NativeServerOptions {
  // The largest frame read (length prefix excluded); a longer announced length gets an Error frame
  // (TooLarge) and the connection is closed.
  uint32_t max_frame_bytes = 16u << 20;
  // Threads running the io_context (each connection's frames are handled in order on one).
  int threads = 2;
  // A connection must finish its TLS handshake (when TLS is on) and its Hello handshake within
  // this time or it is closed; after the handshake there is no idle limit.
  int64_t handshake_timeout_ms = 10'000;
  // Connections beyond this are accepted and closed at once.
  size_t max_connections = 1024;
  // Per batch: limits, clock and overload control, as for the HTTP protocols.
  server::ingest::IngestOptions ingest;
  std::string server_name = "vigild";
  // Not owned; must outlive the server. When set, Hello must carry a token with the write scope:
  // none or an unknown one gets HelloAck{Unauthenticated}, one without write HelloAck{Forbidden},
  // and the connection is closed. When null, tokens are ignored.
  const server::Authenticator* auth = nullptr;
  // PEM files; when both are set every connection speaks TLS (1.2 or newer). A plaintext client
  // gets an Error{ProtocolError} frame in plaintext saying so, and the connection is closed.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class NativeServer {
 public:
  // `db` is not owned and must outlive the server.
  NativeServer(storage::Db* db, NativeServerOptions options);
  ~NativeServer();
  NativeServer(const NativeServer&) = delete;
  NativeServer& operator=(const NativeServer&) = delete;

  // Binds address:port (IPv4 or IPv6 literal, or "localhost") and starts the threads.
  // Unavailable when the address cannot be bound (the message says why); InvalidArgument naming
  // the file when the TLS certificate or key cannot be loaded.
  Status Start(const std::string& address, uint16_t port);
  // Closes the listener and every connection, waits for the threads. Batches being written finish
  // first (a batch is committed entirely or not at all). Idempotent.
  void Stop();

  // The bound port (useful after Start(..., 0)); 0 before Start.
  uint16_t port() const { return port_.load(std::memory_order_acquire); }
  size_t connections() const;
  bool tls() const;

 private:
  std::unique_ptr<detail::NativeServerImpl> impl_;
  std::atomic<uint16_t> port_{0};
};

}  // namespace vigil::native
