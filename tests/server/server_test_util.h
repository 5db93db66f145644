#pragma once

// Fixtures for server tests: a temporary data directory and an in-process vigild on a free
// loopback port, with an HTTP client pointed at it.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "server/http/http_client.h"
#include "server/http/json.h"
#include "server/vigild.h"

namespace vigil::server::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil-server-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path_ = p != nullptr ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

inline BuildInfo TestBuild() {
  BuildInfo b;
  b.version = "0.1.0-test";
  b.revision = "test";
  b.branch = "test";
  b.compiler = "test";
  return b;
}

// vigild on 127.0.0.1 with an ephemeral port and its own data directory.
struct TestServer {
  TempDir dir;
  VigildConfig config;
  std::unique_ptr<Vigild> server;

  TestServer() : TestServer([](VigildConfig*) {}) {}
  template <class F>
  explicit TestServer(F configure) {
    config.data_dir = dir.path() + "/data";
    config.http_listen = "127.0.0.1:0";
    config.native_listen = "127.0.0.1:0";
    config.wal_sync = storage::WalSyncPolicy::kNever;
    config.shutdown_grace_ms = 5000;
    configure(&config);
    auto r = Vigild::Start(config, TestBuild());
    if (!r.ok()) throw std::runtime_error("vigild did not start: " + r.status().ToString());
    server = std::move(*r);
  }
  uint16_t port() const { return server->http_port(); }
  HttpClient Client() const { return HttpClient("127.0.0.1", port()); }
};

// Parses a response body as JSON; an empty value (null) if it is not JSON.
inline JsonValue Json(const std::string& body) {
  auto r = JsonValue::Parse(body);
  return r.ok() ? *r : JsonValue();
}

}  // namespace vigil::server::testing
