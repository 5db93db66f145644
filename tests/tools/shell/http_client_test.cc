// The shell's HTTP client against small in-process servers: TLS verification (CA file, system
// CAs, --insecure, host names), bearer tokens, keep-alive and reconnecting after the server
// closed an idle connection.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <thread>

#include "tests/tools/shell/shell_test_util.h"
#include "tools/vigil/http_client.h"

using namespace vigil::shell;
using namespace vigil::shell::testing;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// A self-signed certificate for 127.0.0.1 (IP SAN only), written as PEM files.
struct TestCert {
  std::string cert_path, key_path;
  explicit TestCert(const std::string& dir)
      : cert_path(dir + "/cert.pem"), key_path(dir + "/key.pem") {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("vigil test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
    FILE* f = std::fopen(cert_path.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key_path.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
  }
};

// Answers every request with a JSON body naming the request's target and Authorization header.
// `close_after_each` closes the connection after each answer without saying so (as a server
// whose idle timeout fired would).
class TestServer {
 public:
  TestServer(const TestCert* cert, bool close_after_each) : close_after_each_(close_after_each) {
    if (cert != nullptr) {
      ssl_.emplace(asio::ssl::context::tls_server);
      ssl_->use_certificate_chain_file(cert->cert_path);
      ssl_->use_private_key_file(cert->key_path, asio::ssl::context::pem);
    }
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestServer() {
    stop_ = true;
    // Wake the accept.
    boost::system::error_code ec;
    asio::ip::tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    s.close(ec);
    thread_.join();
    for (auto& t : conn_threads_) t.join();
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  template <typename Stream>
  void Answer(Stream& stream) {
    boost::beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(stream, buf, req, ec);
      if (ec) return;
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = std::string(R"({"status":"success","data":{"target":")") +
                   std::string(req.target()) + R"(","auth":")" +
                   std::string(req[http::field::authorization]) + R"("}})";
      res.keep_alive(true);
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || close_after_each_) return;
    }
  }
  void Serve() {
    while (!stop_) {
      asio::ip::tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      ++connections_;
      // A thread per connection: a kept-alive connection must not hold up the next client.
      conn_threads_.emplace_back([this, s = std::move(sock)]() mutable {
        boost::system::error_code hec;
        if (ssl_) {
          asio::ssl::stream<asio::ip::tcp::socket> tls(std::move(s), *ssl_);
          tls.handshake(asio::ssl::stream_base::server, hec);
          if (!hec) Answer(tls);
        } else {
          Answer(s);
        }
      });
    }
  }

  asio::io_context io_;
  std::optional<asio::ssl::context> ssl_;
  asio::ip::tcp::acceptor acceptor_{io_};
  unsigned short port_ = 0;
  bool close_after_each_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::thread> conn_threads_;
};

}  // namespace

TEST_CASE("HTTP client: keep-alive and bearer tokens", "[tools][shell][http]") {
  TestServer server(nullptr, false);
  HttpOptions opts;
  opts.bearer_token = "s3cret";
  HttpClient c(*Url::Parse("http://127.0.0.1:" + std::to_string(server.port()) + "/prefix"), opts);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/api/v1/labels?match[]=" + UrlEncode("up{a=\"b\"}"));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(
        r->body ==
        R"({"status":"success","data":{"target":"/prefix/api/v1/labels?match[]=up%7Ba%3D%22b%22%7D","auth":"Bearer s3cret"}})");
  }
  CHECK(server.connections() == 1);
}

TEST_CASE("HTTP client: a connection the server closed is reopened", "[tools][shell][http]") {
  TestServer server(nullptr, true);
  HttpClient c(*Url::Parse("127.0.0.1:" + std::to_string(server.port())), HttpOptions{});
  for (int i = 0; i < 3; ++i) {
    auto r = c.PostForm("/api/v1/query", "query=up");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  CHECK(server.connections() == 3);
}

TEST_CASE("HTTP client: TLS verifies the server", "[tools][shell][http][tls]") {
  TempDir dir;
  TestCert cert(dir.path());
  TestServer server(&cert, false);
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  HttpOptions trusted;
  trusted.ca_file = cert.cert_path;
  HttpClient ok(*Url::Parse(url), trusted);
  auto r = ok.Get("/api/v1/status/buildinfo");
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->status == 200);

  HttpClient system_cas(*Url::Parse(url), HttpOptions{});
  r = system_cas.Get("/api/v1/status/buildinfo");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("TLS handshake with " + url));
  CHECK_THAT(r.status().message(), Catch::Contains("certificate verify failed"));

  HttpOptions insecure;
  insecure.insecure = true;
  HttpClient unchecked(*Url::Parse(url), insecure);
  CHECK(unchecked.Get("/").ok());

  // The certificate names 127.0.0.1 only: "localhost" does not match it.
  HttpClient wrong_name(*Url::Parse("https://localhost:" + std::to_string(server.port())), trusted);
  r = wrong_name.Get("/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("certificate verify failed"));

  HttpOptions missing;
  missing.ca_file = dir.path() + "/nope.pem";
  HttpClient bad_ca(*Url::Parse(url), missing);
  r = bad_ca.Get("/");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("cannot load CA certificates"));
}

TEST_CASE("vigil: https with --ca-file and --insecure", "[tools][shell][http][tls][cli]") {
  TempDir dir;
  TestCert cert(dir.path());
  TestServer server(&cert, false);
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  // The test server's answer is not a query result: the shell reports exactly that, after TLS
  // worked.
  RunResult r = Run({VIGIL_SHELL_BINARY, "--url", url, "--ca-file", cert.cert_path, "-e", "1"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("malformed answer from the server"));
  r = Run({VIGIL_SHELL_BINARY, "--url", url, "-e", "1"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("certificate verify failed"));
  r = Run({VIGIL_SHELL_BINARY, "--url", url, "--insecure", "-e", "1"});
  CHECK_THAT(r.err, Catch::Contains("malformed answer from the server"));
}
