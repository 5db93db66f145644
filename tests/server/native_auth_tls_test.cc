// The native protocol with auth and TLS: bearer tokens in Hello (401 / 403 equivalents), TLS with
// certificate and name verification, plaintext and TLS clients on the wrong listener, handshake
// and client timeouts, and vigild serving it all with a token file and a certificate.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "server/auth/auth.h"
#include "server/config/config.h"
#include "server/native/client.h"
#include "server/native/native_server.h"
#include "server/native/protocol.h"
#include "tests/server/ingest_test_util.h"
#include "tests/server/server_test_util.h"

namespace vigil::native {
namespace {

using server::ingest::testing::TestDb;
using server::ingest::testing::TestSample;
using namespace std::chrono_literals;

constexpr char kTokens[] =
    "# name scopes token\n"
    "grafana read        rrrrrrrrrrrrrrrrrrrr\n"
    "prom    write       wwwwwwwwwwwwwwwwwwww\n"
    "ops     admin       aaaaaaaaaaaaaaaaaaaa\n";
constexpr char kReadToken[] = "rrrrrrrrrrrrrrrrrrrr";
constexpr char kWriteToken[] = "wwwwwwwwwwwwwwwwwwww";
constexpr char kAdminToken[] = "aaaaaaaaaaaaaaaaaaaa";

std::string TlsDir() { return std::string(VIGIL_GOLDEN_DIR) + "/server/tls"; }

server::Authenticator Tokens() {
  auto a = server::Authenticator::Parse(kTokens);
  REQUIRE(a.ok());
  return std::move(*a);
}

// A NativeServer on a free port over a TestDb, with optional auth and TLS.
struct Fixture {
  TestDb t;
  server::Authenticator auth = Tokens();
  std::unique_ptr<NativeServer> server;
  Fixture(bool with_auth, bool with_tls, int64_t handshake_timeout_ms = 10'000) {
    NativeServerOptions o;
    o.ingest.clock = &t.clock();
    o.threads = 2;
    o.handshake_timeout_ms = handshake_timeout_ms;
    if (with_auth) o.auth = &auth;
    if (with_tls) {
      o.tls_cert_file = TlsDir() + "/cert.pem";
      o.tls_key_file = TlsDir() + "/key.pem";
    }
    server = std::make_unique<NativeServer>(&t.db(), o);
    Status st = server->Start("127.0.0.1", 0);
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(server->tls() == with_tls);
  }
  uint16_t port() const { return server->port(); }
};

ClientOptions TlsClient(std::string token = "") {
  ClientOptions o;
  o.timeout = 3000ms;
  o.token = std::move(token);
  o.tls.enabled = true;
  o.tls.ca_file = TlsDir() + "/cert.pem";
  return o;
}

ClientOptions PlainClient(std::string token = "") {
  ClientOptions o;
  o.timeout = 3000ms;
  o.token = std::move(token);
  return o;
}

// Writes one sample of series `name` and returns the Ack's status ("Ok", ...) or the error.
std::string WriteOne(NativeClient& c, const std::string& name, int64_t ts, double v) {
  WriteBatchBuilder b;
  const LabelView ls[] = {{"__name__", name}};
  const int64_t t[] = {ts};
  const double vs[] = {v};
  b.AddSeries(ls, t, vs);
  auto ack = c.Write(b);
  if (!ack.ok()) return ack.status().ToString();
  return std::string(BatchStatusName(ack->status));
}

// What a raw plaintext connection received: the frames, and whether the server closed it before
// the deadline (a server that keeps it open fails the test after 3 s instead of hanging it).
struct RawResult {
  std::vector<std::string> frames;
  bool closed = false;
};

// Sends raw bytes on a fresh plaintext connection and collects the server's frames until it closes
// the connection or 3 s pass.
RawResult RawExchange(uint16_t port, const std::string& bytes) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  if (!bytes.empty()) asio::write(s, asio::buffer(bytes));
  std::string received;
  std::vector<char> buf(4096);
  RawResult out;
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& ec, size_t n) {
      received.append(buf.data(), n);
      if (ec) {
        out.closed = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  io.run_for(3s);
  size_t pos = 0;
  while (received.size() - pos >= 4 &&
         received.size() - pos - 4 >= DecodeFrameLength(received.data() + pos)) {
    const size_t len = 4 + DecodeFrameLength(received.data() + pos);
    out.frames.push_back(received.substr(pos, len));
    pos += len;
  }
  CHECK(pos == received.size());  // nothing but whole frames
  return out;
}

TEST_CASE("native auth: a token with the write scope is accepted, batches acked",
          "[server][native][auth]") {
  Fixture fx(/*with_auth=*/true, /*with_tls=*/false);
  for (const char* token : {kWriteToken, kAdminToken}) {  // admin grants write
    CAPTURE(token);
    fb::BatchStatus hs = fb::BatchStatus::ProtocolError;
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient(token), &hs);
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    CHECK(hs == fb::BatchStatus::Ok);
    CHECK(WriteOne(**c, "authed", std::string(token) == kWriteToken ? 1000 : 2000, 1) == "Ok");
  }
  CHECK(fx.t.Read("authed") == std::vector<TestSample>{{1000, 1}, {2000, 1}});
}

TEST_CASE("native auth: no token or an unknown one is refused as Unauthenticated (401)",
          "[server][native][auth]") {
  Fixture fx(true, false);
  fb::BatchStatus hs = fb::BatchStatus::Ok;
  auto c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient(), &hs);
  REQUIRE_FALSE(c.ok());
  CHECK(hs == fb::BatchStatus::Unauthenticated);
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  CHECK(c.status().message() ==
        "native protocol: handshake refused (Unauthenticated): authentication required: Hello "
        "carries no token and this server runs with a token file; closing the connection");

  hs = fb::BatchStatus::Ok;
  c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient("not-a-token-at-all-xx"), &hs);
  REQUIRE_FALSE(c.ok());
  CHECK(hs == fb::BatchStatus::Unauthenticated);
  CHECK(c.status().message() ==
        "native protocol: handshake refused (Unauthenticated): authentication failed: the token "
        "in Hello is not in the server's token file; closing the connection");

  // On the wire: HelloAck{Unauthenticated, version 0}, then the server closes, even if the client
  // sends a batch right behind its Hello.
  WriteBatchBuilder b;
  const LabelView ls[] = {{"__name__", "sneaky"}};
  const int64_t t[] = {1};
  const double v[] = {1};
  b.AddSeries(ls, t, v);
  auto raw = RawExchange(fx.port(), EncodeHello(1, 1, "raw", "") + b.Finish(1));
  CHECK(raw.closed);
  REQUIRE(raw.frames.size() == 1);
  auto f = VerifyFrame(raw.frames[0]);
  REQUIRE(f.ok());
  REQUIRE((*f)->message_type() == fb::Message::HelloAck);
  CHECK((*f)->message_as_HelloAck()->status() == fb::BatchStatus::Unauthenticated);
  CHECK((*f)->message_as_HelloAck()->version() == 0);
  CHECK(fx.t.Read("sneaky").empty());
}

TEST_CASE("native auth: a token without the write scope is refused as Forbidden (403)",
          "[server][native][auth]") {
  Fixture fx(true, false);
  fb::BatchStatus hs = fb::BatchStatus::Ok;
  auto c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient(kReadToken), &hs);
  REQUIRE_FALSE(c.ok());
  CHECK(hs == fb::BatchStatus::Forbidden);
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  CHECK(c.status().message() ==
        "native protocol: handshake refused (Forbidden): token \"grafana\" lacks the write scope "
        "that the native protocol requires; closing the connection");
}

TEST_CASE("native auth: batches before the handshake stay rejected", "[server][native][auth]") {
  Fixture fx(true, false);
  WriteBatchBuilder b;
  const LabelView ls[] = {{"__name__", "early"}};
  const int64_t t[] = {1};
  const double v[] = {1};
  b.AddSeries(ls, t, v);
  auto raw = RawExchange(fx.port(), b.Finish(1));
  CHECK(raw.closed);
  REQUIRE(raw.frames.size() == 1);
  auto f = VerifyFrame(raw.frames[0]);
  REQUIRE(f.ok());
  REQUIRE((*f)->message_type() == fb::Message::Error);
  CHECK((*f)->message_as_Error()->status() == fb::BatchStatus::ProtocolError);
  CHECK((*f)->message_as_Error()->message()->str() ==
        "frame 1: the first frame must be Hello; closing the connection");
  CHECK(fx.t.Read("early").empty());
}

TEST_CASE("native auth: without a token file the token is ignored", "[server][native][auth]") {
  Fixture fx(false, false);
  for (const char* token : {"", "anything", kReadToken}) {
    CAPTURE(token);
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient(token));
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    CHECK(WriteOne(**c, "open", 1000, 1) == "Ok");
  }
}

TEST_CASE("native TLS: the client verifies the server with the CA and writes",
          "[server][native][tls]") {
  Fixture fx(true, true);
  auto c = NativeClient::Connect("127.0.0.1", fx.port(), TlsClient(kWriteToken));
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK((*c)->tls());
  CHECK(WriteOne(**c, "over_tls", 1000, 7) == "Ok");
  CHECK(WriteOne(**c, "over_tls", 2000, 8) == "Ok");
  CHECK(fx.t.Read("over_tls") == std::vector<TestSample>{{1000, 7}, {2000, 8}});

  // The certificate names 127.0.0.1 and localhost.
  ClientOptions named = TlsClient(kWriteToken);
  named.tls.server_name = "localhost";
  auto c2 = NativeClient::Connect("127.0.0.1", fx.port(), named);
  INFO(c2.status().ToString());
  CHECK(c2.ok());
  // Auth over TLS refuses like in plaintext.
  fb::BatchStatus hs = fb::BatchStatus::Ok;
  auto c3 = NativeClient::Connect("127.0.0.1", fx.port(), TlsClient(kReadToken), &hs);
  CHECK_FALSE(c3.ok());
  CHECK(hs == fb::BatchStatus::Forbidden);
}

TEST_CASE("native TLS: verification failures are named", "[server][native][tls]") {
  Fixture fx(false, true);
  SECTION("a name the certificate does not carry") {
    ClientOptions o = TlsClient();
    o.tls.server_name = "db.example.org";
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kUnavailable);
    CHECK(c.status().message() ==
          "native protocol: TLS handshake with 127.0.0.1:" + std::to_string(fx.port()) +
              " failed: the server's certificate is not valid for \"db.example.org\"");
  }
  SECTION("a self-signed certificate without its CA") {
    ClientOptions o = TlsClient();
    o.tls.ca_file.clear();  // the system store does not know the test certificate
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("the server's certificate did not verify: self") !=
          std::string::npos);
  }
  SECTION("insecure_skip_verify accepts it") {
    ClientOptions o = TlsClient();
    o.tls.ca_file.clear();
    o.tls.server_name = "db.example.org";
    o.tls.insecure_skip_verify = true;
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), o);
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    CHECK(WriteOne(**c, "insecure", 1, 1) == "Ok");
  }
  SECTION("a CA file that does not exist") {
    ClientOptions o = TlsClient();
    o.tls.ca_file = TlsDir() + "/missing.pem";
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kInvalidArgument);
    CHECK(c.status().message().rfind("TLS CA file " + TlsDir() + "/missing.pem: ", 0) == 0);
  }
}

// A CA and a server certificate it signed for the DNS name db.test only, made with the openssl
// CLI in a temporary directory (a chain, unlike the self-signed test certificate).
struct TestPki {
  server::testing::TempDir dir;
  std::string ca, cert, key;
  TestPki() {
    const std::string d = dir.path();
    const std::string cmd =
        "cd '" + d +
        "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=vigil-test-ca >log 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem "
        "-out req.csr -subj /CN=db.test >>log 2>&1 && "
        "printf 'subjectAltName=DNS:db.test\\n' > ext && "
        "openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem "
        "-days 2 -extfile ext >>log 2>&1";
    const int rc = std::system(cmd.c_str());
    INFO(cmd);
    REQUIRE(rc == 0);  // the openssl CLI is a test dependency
    ca = d + "/ca.pem";
    cert = d + "/cert.pem";
    key = d + "/key.pem";
  }
};

TEST_CASE("native TLS: a certificate chain made at test time, names checked by DNS name",
          "[server][native][tls]") {
  TestPki pki;
  TestDb t;
  NativeServerOptions so;
  so.ingest.clock = &t.clock();
  so.tls_cert_file = pki.cert;
  so.tls_key_file = pki.key;
  NativeServer server(&t.db(), so);
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  ClientOptions o = TlsClient();
  o.tls.ca_file = pki.ca;
  o.tls.server_name = "db.test";  // also sent as SNI
  auto c = NativeClient::Connect("127.0.0.1", server.port(), o);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(WriteOne(**c, "chained", 1000, 1) == "Ok");
  CHECK(t.Read("chained") == std::vector<TestSample>{{1000, 1}});

  o.tls.server_name.clear();  // the certificate does not name 127.0.0.1
  auto by_address = NativeClient::Connect("127.0.0.1", server.port(), o);
  REQUIRE_FALSE(by_address.ok());
  CHECK(by_address.status().message().find(
            "the server's certificate is not valid for \"127.0.0.1\"") != std::string::npos);

  o.tls.server_name = "db.test";
  o.tls.ca_file = TlsDir() + "/cert.pem";  // some other CA
  auto other_ca = NativeClient::Connect("127.0.0.1", server.port(), o);
  REQUIRE_FALSE(other_ca.ok());
  CHECK(other_ca.status().message().find(
            "the server's certificate did not verify: unable to get local issuer certificate") !=
        std::string::npos);
}

TEST_CASE("native TLS: a plaintext client gets a clear error and the server keeps serving",
          "[server][native][tls]") {
  Fixture fx(true, true);
  for (int i = 0; i < 3; ++i) {
    auto c = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient(kWriteToken));
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() ==
          "native protocol: server error ProtocolError: this native listener requires TLS and "
          "frame 1 arrived in plaintext: reconnect with TLS; closing the connection");
  }
  // Garbage that is neither TLS nor a frame: closed without taking the server down.
  auto raw = RawExchange(fx.port(), std::string("\xff\xff\xff\x7fGET / HTTP/1.1\r\n\r\n"));
  CHECK(raw.closed);
  REQUIRE(raw.frames.size() == 1);
  auto f = VerifyFrame(raw.frames[0]);
  REQUIRE(f.ok());
  CHECK((*f)->message_as_Error()->status() == fb::BatchStatus::ProtocolError);
  auto c = NativeClient::Connect("127.0.0.1", fx.port(), TlsClient(kWriteToken));
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(WriteOne(**c, "still_serving", 1000, 1) == "Ok");
  CHECK(fx.t.Read("still_serving") == std::vector<TestSample>{{1000, 1}});
}

TEST_CASE("native TLS: a TLS client against a plaintext listener fails cleanly",
          "[server][native][tls]") {
  Fixture fx(false, false);
  auto c = NativeClient::Connect("127.0.0.1", fx.port(), TlsClient());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kUnavailable);
  CHECK(c.status().message().rfind("native protocol: TLS handshake with 127.0.0.1:", 0) == 0);
  CHECK(c.status().message().find("is its native listener plaintext?") != std::string::npos);
  auto plain = NativeClient::Connect("127.0.0.1", fx.port(), PlainClient());
  REQUIRE(plain.ok());
  CHECK(WriteOne(**plain, "plain_ok", 1, 1) == "Ok");
}

TEST_CASE("native TLS: missing certificate or key files are named at start",
          "[server][native][tls]") {
  TestDb t;
  NativeServerOptions o;
  o.tls_cert_file = TlsDir() + "/nope.pem";
  o.tls_key_file = TlsDir() + "/key.pem";
  NativeServer s(&t.db(), o);
  Status st = s.Start("127.0.0.1", 0);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().rfind("native protocol: TLS certificate " + TlsDir() + "/nope.pem: ", 0) == 0);
  NativeServerOptions half;
  half.tls_cert_file = TlsDir() + "/cert.pem";
  NativeServer s2(&t.db(), half);
  st = s2.Start("127.0.0.1", 0);
  CHECK(st.message() == "native protocol: TLS needs both a certificate and a key file");
}

TEST_CASE("native: a connection that does not finish its handshake is closed",
          "[server][native][tls]") {
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    Fixture fx(false, tls, /*handshake_timeout_ms=*/150);
    const auto start = std::chrono::steady_clock::now();
    const RawResult raw = RawExchange(fx.port(), "");  // nothing sent: the server gives up
    CHECK(raw.closed);
    CHECK(raw.frames.empty());
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    for (int i = 0; i < 100 && fx.server->connections() != 0; ++i)
      std::this_thread::sleep_for(10ms);
    CHECK(fx.server->connections() == 0);
  }
}

TEST_CASE("native client: a server that never answers is a DeadlineExceeded, not a hang",
          "[server][native]") {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = silent.local_endpoint().port();  // the kernel completes the connect
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    ClientOptions o = tls ? TlsClient() : PlainClient();
    o.timeout = 150ms;
    const auto start = std::chrono::steady_clock::now();
    auto c = NativeClient::Connect("127.0.0.1", port, o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(c.status().message().find("no progress within 150 ms (connection closed)") !=
          std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
}

}  // namespace
}  // namespace vigil::native

namespace vigil::server {
namespace {

using testing::Json;

TEST_CASE("vigild: the native protocol with a token file and TLS; data readable over HTTPS",
          "[server][native][auth][tls]") {
  testing::TempDir tokens_dir;
  const std::string tokens = tokens_dir.File("tokens", native::kTokens);
  const std::string tls = native::TlsDir();
  testing::TestServer ts([&](VigildConfig* c) {
    c->auth_token_file = tokens;
    c->tls_cert_file = tls + "/cert.pem";
    c->tls_key_file = tls + "/key.pem";
  });
  REQUIRE(ts.server->native_port() != 0);
  const uint16_t port = ts.server->native_port();

  native::ClientOptions o;
  o.timeout = std::chrono::milliseconds(3000);
  o.tls.enabled = true;
  o.tls.ca_file = tls + "/cert.pem";
  o.token = native::kWriteToken;
  auto nc = native::NativeClient::Connect("127.0.0.1", port, o);
  INFO(nc.status().ToString());
  REQUIRE(nc.ok());
  CHECK((*nc)->server_name() == "vigild");
  native::WriteBatchBuilder batch;
  const native::LabelView labels[] = {{"__name__", "native_secure"}, {"job", "n"}};
  const int64_t t[] = {0, 15000, 30000};
  const double v[] = {1, 2, 3};
  batch.AddSeries(labels, t, v);
  auto ack = (*nc)->Write(batch);
  REQUIRE(ack.ok());
  CHECK(ack->ok());
  CHECK(ack->samples_written == 3);

  for (const char* bad : {"", native::kReadToken, "not-a-token-at-all-xx"}) {
    CAPTURE(bad);
    o.token = bad;
    native::fb::BatchStatus hs = native::fb::BatchStatus::Ok;
    auto refused = native::NativeClient::Connect("127.0.0.1", port, o, &hs);
    CHECK_FALSE(refused.ok());
    CHECK(hs == (std::string(bad) == native::kReadToken
                     ? native::fb::BatchStatus::Forbidden
                     : native::fb::BatchStatus::Unauthenticated));
  }
  // Plaintext to the TLS listener: a clear error; the server goes on.
  native::ClientOptions plain;
  plain.timeout = std::chrono::milliseconds(3000);
  plain.token = native::kWriteToken;
  auto p = native::NativeClient::Connect("127.0.0.1", port, plain);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message().find("requires TLS") != std::string::npos);

  HttpClient::Options ho;
  ho.tls = true;
  ho.ca_file = tls + "/cert.pem";
  HttpClient c("127.0.0.1", ts.port(), ho);
  auto r = c.Get("/api/v1/query_range?query=native_secure&start=0&end=30&step=15",
                 {{"Authorization", std::string("Bearer ") + native::kReadToken}});
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  auto values = Json(r->body)["data"]["result"][0]["values"];
  REQUIRE(values.array().size() == 3);
  CHECK(values[0][1].str() == "1");
  CHECK(values[2][1].str() == "3");
  CHECK(Json(r->body)["data"]["result"][0]["metric"]["job"].str() == "n");
}

TEST_CASE("vigild: --native.tls=false keeps the native protocol plaintext next to HTTPS",
          "[server][native][tls]") {
  const std::string tls = native::TlsDir();
  testing::TestServer ts([&](VigildConfig* c) {
    c->tls_cert_file = tls + "/cert.pem";
    c->tls_key_file = tls + "/key.pem";
    c->native_tls = false;
  });
  native::ClientOptions o;
  o.timeout = std::chrono::milliseconds(3000);
  auto nc = native::NativeClient::Connect("127.0.0.1", ts.server->native_port(), o);
  INFO(nc.status().ToString());
  REQUIRE(nc.ok());
  CHECK_FALSE((*nc)->tls());
}

TEST_CASE("vigild: --native.tls flag and native.tls YAML key", "[server][native][config]") {
  auto parse = [](std::vector<const char*> argv) {
    argv.insert(argv.begin(), "vigild");
    bool help = false;
    return ParseVigildArgs(static_cast<int>(argv.size()), argv.data(), &help);
  };
  auto c = parse({});
  REQUIRE(c.ok());
  CHECK(c->native_tls);  // default: follows --tls.*
  c = parse({"--native.tls=false"});
  REQUIRE(c.ok());
  CHECK_FALSE(c->native_tls);
  c = parse({"--native.tls", "true"});
  REQUIRE(c.ok());
  CHECK(c->native_tls);
  c = parse({"--native.tls=no"});
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == "flag --native.tls: bad boolean \"no\" (true, false)");
  VigildConfig y;
  REQUIRE(ApplyYamlConfig("native:\n  tls: false\n", &y).ok());
  CHECK_FALSE(y.native_tls);
  CHECK(VigildUsage().find("--native.tls=...") != std::string::npos);
}

}  // namespace
}  // namespace vigil::server
