#pragma once

// The native write protocol's TCP server (Boost.Asio): accepts connections, does the version
// handshake, and answers every WriteBatch frame with an Ack after committing it to the Db.
// Protocol: server/docs/protocols/native.md.
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
  // Connections beyond this are accepted and closed at once.
  size_t max_connections = 1024;
  // Per batch: limits, clock and overload control, as for the HTTP protocols.
  server::ingest::IngestOptions ingest;
  std::string server_name = "vigild";
};

class NativeServer {
 public:
  // `db` is not owned and must outlive the server.
  NativeServer(storage::Db* db, NativeServerOptions options);
  ~NativeServer();
  NativeServer(const NativeServer&) = delete;
  NativeServer& operator=(const NativeServer&) = delete;

  // Binds address:port (IPv4 or IPv6 literal, or "localhost") and starts the threads.
  // Unavailable when the address cannot be bound (the message says why).
  Status Start(const std::string& address, uint16_t port);
  // Closes the listener and every connection, waits for the threads. Batches being written finish
  // first (a batch is committed entirely or not at all). Idempotent.
  void Stop();

  // The bound port (useful after Start(..., 0)); 0 before Start.
  uint16_t port() const { return port_.load(std::memory_order_acquire); }
  size_t connections() const;

 private:
  std::unique_ptr<detail::NativeServerImpl> impl_;
  std::atomic<uint16_t> port_{0};
};

}  // namespace vigil::native
