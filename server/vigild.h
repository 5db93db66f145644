#pragma once

// vigild assembled: the Db, the HTTP server with every API route, /metrics, auth, and the native
// protocol server. vigild_main.cc runs one; integration tests start one in-process on port 0.
//
//   VIGIL_ASSIGN_OR_RETURN(auto server, Vigild::Start(config, build_info));
//   ... server->http_port() ...
//   server->Stop();  // graceful: not ready, stop accepting, finish in-flight, close the Db
//
// Modules that serve more routes (continuous queries) pass an Extension, which runs after the
// built-in routes are registered and before the server accepts connections.
//
// Thread safety: Start() and Stop() from one controlling thread.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/api/api.h"
#include "server/config/config.h"
#include "server/http/router.h"
#include "server/ingest/ingest.h"
#include "server/ingest/metadata.h"
#include "storage/base/status.h"

namespace vigil::native {
class NativeServer;
}  // namespace vigil::native

namespace vigil::server {

class Authenticator;
class HttpServer;
class ServerMetrics;
class WriteApi;

// What an extension gets to work with. Pointers stay valid until Stop() returns.
struct ServerContext {
  const VigildConfig* config = nullptr;
  storage::Db* db = nullptr;
  Router* router = nullptr;
  ServerMetrics* metrics = nullptr;
  const ApiOptions* api_options = nullptr;
};

struct Extension {
  std::string name;
  // Registers routes or starts background work; an error aborts Start().
  std::function<Status(ServerContext&)> start;
  // Called first thing in Stop() (stop background work); may be empty.
  std::function<void()> stop;
};

class Vigild {
 public:
  // Opens the data directory, builds the routes and starts listening. IOError / Unavailable when
  // the data directory cannot be opened or a port cannot be bound.
  static Result<std::unique_ptr<Vigild>> Start(const VigildConfig& config, const BuildInfo& build,
                                               std::vector<Extension> extensions = {});
  ~Vigild();

  uint16_t http_port() const;
  // 0 when the native protocol is not served (native.listen empty).
  uint16_t native_port() const;
  storage::Db* db() const { return db_.get(); }
  ServerMetrics* metrics() const { return metrics_.get(); }
  Api* api() const { return api_.get(); }

  // The write endpoints' overload control (write.max-inflight).
  ingest::IngestLimiter* write_limiter() const { return limiter_.get(); }

  // Graceful stop; idempotent. Returns the Db's Close() status.
  Status Stop();

 private:
  Vigild() = default;

  VigildConfig config_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ingest::MetadataStore> metadata_;
  std::unique_ptr<ingest::MetadataPersister> metadata_persister_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<ingest::IngestLimiter> limiter_;
  std::unique_ptr<ingest::SeriesRefCache> series_cache_;  // null when write.series-cache is 0
  std::unique_ptr<Api> api_;
  std::unique_ptr<WriteApi> write_api_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<native::NativeServer> native_;
  std::vector<Extension> extensions_;
  bool stopped_ = false;
};

}  // namespace vigil::server
