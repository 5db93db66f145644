#include <catch2/catch.hpp>

#include "server/config/config.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

Result<VigildConfig> Args(std::vector<std::string> args, bool* help = nullptr) {
  std::vector<const char*> argv = {"vigild"};
  for (const auto& a : args) argv.push_back(a.c_str());
  bool h = false;
  auto r = ParseVigildArgs(static_cast<int>(argv.size()), argv.data(), &h);
  if (help != nullptr) *help = h;
  return r;
}

TEST_CASE("vigild with no arguments uses the documented defaults", "[server][config]") {
  auto c = Args({});
  REQUIRE(c.ok());
  CHECK(c->data_dir == "vigil-data");
  CHECK(c->http_listen == "127.0.0.1:9201");
  CHECK(c->native_listen == "127.0.0.1:9095");
  CHECK(c->wal_sync == storage::WalSyncPolicy::kInterval);
  CHECK(c->retention_time_ms == 15ll * 86400 * 1000);
  CHECK(c->max_body_bytes == 64ull << 20);
  CHECK(c->query_parallelism == 0);
}

TEST_CASE("Flags in both spellings, YAML file under flags", "[server][config]") {
  testing::TempDir dir;
  std::string file = dir.File("vigil.yml",
                              "data_dir: /srv/vigil\n"
                              "http:\n  listen: 0.0.0.0:9301\n  max_body_size: 16MiB\n"
                              "storage:\n  wal_sync: always\n  retention_time: 30d\n"
                              "  retention_size: 10GB\n  out_of_order_window: 10m\n"
                              "query:\n  timeout: 30s\n  max_samples: 1000\n  parallelism: 1\n"
                              "auth:\n  token_file: /etc/vigil/tokens\n"
                              "tls:\n  cert_file: c.pem\n  key_file: k.pem\n");
  auto c = Args({"--config", file, "--http.listen=127.0.0.1:9999", "--wal-sync", "never"});
  REQUIRE(c.ok());
  CHECK(c->config_file == file);
  CHECK(c->data_dir == "/srv/vigil");
  CHECK(c->http_listen == "127.0.0.1:9999");  // the flag wins
  CHECK(c->max_body_bytes == 16ull << 20);
  CHECK(c->wal_sync == storage::WalSyncPolicy::kNever);
  CHECK(c->retention_time_ms == 30ll * 86400 * 1000);
  CHECK(c->retention_size_bytes == 10ull << 30);
  CHECK(c->out_of_order_window_ms == 600'000);
  CHECK(c->query_timeout_ms == 30'000);
  CHECK(c->query_max_samples == 1000);
  CHECK(c->query_parallelism == 1);
  CHECK(c->auth_token_file == "/etc/vigil/tokens");
  CHECK(c->tls_cert_file == "c.pem");
  CHECK(c->tls_key_file == "k.pem");
}

TEST_CASE("Bad flags and keys are named", "[server][config]") {
  auto msg = [](std::vector<std::string> a) {
    auto r = Args(std::move(a));
    return r.ok() ? std::string("ok") : r.status().message();
  };
  CHECK(msg({"--nope=1"}) == "unknown flag --nope (see --help)");
  CHECK(msg({"--query.parallelism=-1"}).find("flag --query.parallelism") == 0);
  CHECK(msg({"--query.parallelism=4"}) == "ok");
  CHECK(msg({"--wal-sync=sometimes"}) ==
        "flag --wal-sync: bad WAL sync policy \"sometimes\" (always, interval, never)");
  CHECK(msg({"--http.listen=localhost"}) == "flag --http.listen: address \"localhost\" lacks :port");
  CHECK(msg({"--query.timeout=soon"}) ==
        "flag --query.timeout: bad duration \"soon\" (e.g. 30s, 5m, 15d)");
  CHECK(msg({"--http.max-body=12XB"}) ==
        "flag --http.max-body: bad size unit in \"12XB\" (B, KB, MB, GB, TB, PB)");
  CHECK(msg({"positional"}) ==
        "unexpected argument \"positional\" (flags look like --name=value; see --help)");
  CHECK(msg({"--data-dir"}) == "flag --data-dir needs a value");
  VigildConfig c;
  CHECK(ApplyYamlConfig("http:\n  lisen: x\n", &c).message() == "unknown config key http.lisen");
  CHECK(ApplyYamlConfig("query:\n  timeout: [1]\n", &c).message() ==
        "config key query.timeout: expected a value");
  CHECK(ApplyYamlConfig("a: [", &c).IsInvalidArgument());
  bool help = false;
  REQUIRE(Args({"--help"}, &help).ok());
  CHECK(help);
  CHECK(VigildUsage().find("--wal-sync=...") != std::string::npos);
}

TEST_CASE("Byte sizes", "[server][config]") {
  CHECK(*ParseByteSize("512") == 512);
  CHECK(*ParseByteSize("64KB") == 65536);
  CHECK(*ParseByteSize("64kib") == 65536);
  CHECK(*ParseByteSize("1.5GB") == 1610612736);
  CHECK_FALSE(ParseByteSize("").ok());
  CHECK_FALSE(ParseByteSize("MB").ok());
}

TEST_CASE("vigild refuses a second server on a locked data directory", "[server][config]") {
  testing::TestServer first;
  VigildConfig c = first.config;
  auto second = Vigild::Start(c, testing::TestBuild());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vigil::server
