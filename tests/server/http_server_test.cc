// The HTTP layer on its own: keep-alive, limits, gzip both ways, auth, TLS, client disconnects,
// graceful stop.

#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <chrono>
#include <thread>

#include "server/auth/auth.h"
#include "server/http/gzip.h"
#include "server/http/http_client.h"
#include "server/http/http_server.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using namespace std::chrono_literals;
using testing::Json;

// Sends raw bytes on a fresh connection and reads until the server closes it (or timeout).
std::string RawExchange(uint16_t port, const std::string& bytes, bool half_close = true) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  // The server may answer and close before everything was sent (413): errors are expected.
  net::write(s, net::buffer(bytes), ec);
  if (half_close) s.shutdown(net::ip::tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  while (true) {
    size_t n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

struct Fixture {
  Router router;
  std::unique_ptr<HttpServer> server;
  std::atomic<int> gone_seen{0};
  std::atomic<int> handled{0};
  std::atomic<int> probed{0};

  explicit Fixture(HttpServerOptions o = {}) {
    router.Register("POST", "/echo", [this](HttpRequest& req, HttpResponse* resp) {
      ++handled;
      resp->content_type = "text/plain";
      resp->body = "len=" + std::to_string(req.body.size()) + " body=" + req.body.substr(0, 64);
    });
    router.Register("GET", "/big", [](HttpRequest&, HttpResponse* resp) {
      resp->content_type = "application/json";
      resp->body = "[" + std::string(5000, '1') + "]";
    });
    router.Register("GET", "/params/<name>/x", [](HttpRequest& req, HttpResponse* resp) {
      resp->content_type = "text/plain";
      resp->body = std::string(req.PathParam("name")) + "|" +
                   std::string(req.Param("a").value_or("-"));
    });
    router.Register("GET", "/wait-for-disconnect", [this](HttpRequest& req, HttpResponse* resp) {
      auto deadline = std::chrono::steady_clock::now() + 5s;
      while (!req.ClientGone() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
      }
      if (req.ClientGone()) ++gone_seen;
      resp->body = "{}";
    });
    router.Register("GET", "/slow", [](HttpRequest&, HttpResponse* resp) {
      std::this_thread::sleep_for(300ms);
      resp->body = R"({"slow":true})";
    });
    router.Register("GET", "/read", [](HttpRequest&, HttpResponse* resp) { resp->body = "{}"; });
    router.Register("GET", "/probed", [this](HttpRequest&, HttpResponse* resp) {
      ++handled;
      resp->body = R"({"by":"handler"})";
    });
    // Answers ?fast=1 on the I/O thread, throws on ?fast=throw, leaves the rest to the handler.
    router.SetProbe("GET", "/probed", [this](HttpRequest& req, HttpResponse* resp) {
      auto fast = req.Param("fast").value_or("");
      if (fast == "throw") throw std::runtime_error("probe failed");
      if (fast != "1") return false;
      ++probed;
      resp->body = R"({"by":"probe"})";
      return true;
    });
    router.Register("POST", "/write", [](HttpRequest&, HttpResponse* resp) { resp->status = 204; resp->body.clear(); }, Scope::kWrite);
    router.Register("POST", "/admin", [](HttpRequest&, HttpResponse* resp) { resp->body = "{}"; }, Scope::kAdmin);
    o.address = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<HttpServer>(o, &router);
    auto st = server->Start();
    if (!st.ok()) throw std::runtime_error(st.ToString());
  }
  HttpClient Client(bool gzip = true) {
    HttpClient::Options co;
    co.accept_gzip = gzip;
    return HttpClient("127.0.0.1", server->port(), co);
  }
};

TEST_CASE("Keep-alive serves several requests on one connection", "[server][http]") {
  Fixture f;
  std::string req = "GET /read HTTP/1.1\r\nHost: x\r\n\r\nGET /params/abc/x?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string out = RawExchange(f.server->port(), req, false);
  size_t n = 0;
  for (size_t p = 0; (p = out.find("HTTP/1.1 200 OK", p)) != std::string::npos; ++p) ++n;
  CHECK(n == 3);
  CHECK(out.find("abc|1") != std::string::npos);
}

TEST_CASE("Unknown paths get 404, wrong methods 405 with Allow", "[server][http]") {
  Fixture f;
  auto c = f.Client();
  auto r = c.Get("/nope");
  REQUIRE(r.ok());
  CHECK(r->status == 404);
  CHECK(Json(r->body)["errorType"].str() == "not_found");
  r = c.Request("DELETE", "/read");
  REQUIRE(r.ok());
  CHECK(r->status == 405);
  CHECK(r->Header("allow") == "GET");
  r = c.Get("/read");  // the connection is still usable
  REQUIRE(r.ok());
  CHECK(r->status == 200);
}

TEST_CASE("Bodies over the limit get 413, as sent and after gzip inflation", "[server][http]") {
  HttpServerOptions o;
  o.max_body_bytes = 1000;
  Fixture f(o);
  auto c = f.Client();
  auto r = c.Request("POST", "/echo", std::string(999, 'a'));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.starts_with("len=999 "));

  r = c.Request("POST", "/echo", std::string(1001, 'a'));
  REQUIRE(r.ok());
  CHECK(r->status == 413);
  CHECK(Json(r->body)["error"].str() == "request body exceeds the limit of 1000 bytes");

  // Chunked, no Content-Length: the limit applies while reading.
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "190\r\n" + std::string(400, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  std::string out = RawExchange(f.server->port(), chunked);
  CHECK(out.starts_with("HTTP/1.1 413 "));

  std::string gz;
  REQUIRE(GzipCompress(std::string(5000, 'z'), 6, &gz).ok());
  REQUIRE(gz.size() < 1000);
  r = c.Request("POST", "/echo", gz, {{"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 413);
  CHECK(Json(r->body)["error"].str() ==
        "request body exceeds the limit of 1000 bytes after gzip decoding");
  CHECK(f.handled.load() == 1);
}

TEST_CASE("gzip request bodies are inflated; corrupt ones get 400", "[server][http]") {
  Fixture f;
  auto c = f.Client();
  std::string gz;
  REQUIRE(GzipCompress("cpu,host=a value=1 1\n", 6, &gz).ok());
  auto r = c.Request("POST", "/echo", gz, {{"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "len=21 body=cpu,host=a value=1 1\n");

  r = c.Request("POST", "/echo", gz.substr(0, gz.size() / 2), {{"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Json(r->body)["error"].str().starts_with("gzip body is truncated"));
  r = c.Request("POST", "/echo", "not gzip at all", {{"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Json(r->body)["error"].str().starts_with("gzip body is corrupt"));
}

TEST_CASE("Responses are gzip-compressed only when the client accepts gzip", "[server][http]") {
  Fixture f;
  auto gz_client = f.Client(true);
  auto r = gz_client.Get("/big");
  REQUIRE(r.ok());
  CHECK(r->was_gzip);
  CHECK(r->body.size() == 5002);
  auto plain = f.Client(false);
  r = plain.Get("/big");
  REQUIRE(r.ok());
  CHECK_FALSE(r->was_gzip);
  CHECK(r->body.size() == 5002);
  r = plain.Get("/big", {{"Accept-Encoding", "br, gzip;q=0"}});
  REQUIRE(r.ok());
  CHECK_FALSE(r->was_gzip);
  r = plain.Get("/read", {{"Accept-Encoding", "gzip"}});  // small: sent as it is
  REQUIRE(r.ok());
  CHECK_FALSE(r->was_gzip);
  CHECK(AcceptsGzip("deflate, gzip;q=1.0, *;q=0.5"));
  CHECK(AcceptsGzip("*"));
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("GZIP;q=0"));
}

TEST_CASE("Malformed requests get 400, oversized headers 431", "[server][http]") {
  HttpServerOptions o;
  o.max_header_bytes = 2048;
  Fixture f(o);
  CHECK(RawExchange(f.server->port(), "GARBAGE\r\n\r\n").starts_with("HTTP/1.1 400 "));
  CHECK(RawExchange(f.server->port(), "GET /read HTTP/1.1\r\nX: " + std::string(4000, 'x') +
                                          "\r\n\r\n")
            .starts_with("HTTP/1.1 431 "));
  CHECK(RawExchange(f.server->port(), "GET /read?a=%zz HTTP/1.1\r\nHost: x\r\n\r\n")
            .starts_with("HTTP/1.1 400 "));
}

TEST_CASE("A client that disconnects while its request runs is noticed", "[server][http]") {
  Fixture f;
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), f.server->port()});
  net::write(s, net::buffer(std::string("GET /wait-for-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::this_thread::sleep_for(50ms);
  s.close();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (f.gone_seen.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(f.gone_seen.load() == 1);

  ClientGoneSignal sig;
  std::atomic<bool> a{false}, b{false};
  {
    ScopedCancelLink link(&sig, &a);
    sig.Fire();
    CHECK(a.load());
  }
  sig.Link(&b);  // linking after the fact sets the flag at once
  CHECK(b.load());
}

TEST_CASE("A route's probe answers on the I/O thread, or leaves the request to the handler",
          "[server][http]") {
  HttpServerOptions o;
  o.io_threads = 1;  // both connections below share one event loop
  Fixture f(o);
  auto c = f.Client();
  auto r = c.Get("/probed?fast=1");
  REQUIRE(r.ok());
  CHECK(r->body == R"({"by":"probe"})");
  CHECK(f.probed.load() == 1);
  CHECK(f.handled.load() == 0);
  for (const char* target : {"/probed", "/probed?fast=throw"}) {
    CAPTURE(target);
    r = c.Get(target);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == R"({"by":"handler"})");
  }
  CHECK(f.handled.load() == 2);
  CHECK(f.probed.load() == 1);

  // A handler running on a worker does not hold up a probe answer on the same event loop.
  std::atomic<bool> slow_done{false};
  bool slow_ok = false;
  std::thread t([&] {
    HttpClient slow("127.0.0.1", f.server->port());
    auto sr = slow.Get("/slow");  // 300 ms on a worker
    slow_ok = sr.ok() && sr->status == 200;
    slow_done = true;
  });
  std::this_thread::sleep_for(50ms);
  auto fast = f.Client().Get("/probed?fast=1");
  CHECK(fast.ok());
  CHECK_FALSE(slow_done.load());
  t.join();
  CHECK(slow_ok);

  // Registering a route again drops its probe (it belonged to the replaced handler).
  Router router;
  router.Register("GET", "/x", [](HttpRequest&, HttpResponse*) {});
  CHECK(router.SetProbe("GET", "/x", [](HttpRequest&, HttpResponse*) { return true; }));
  CHECK_FALSE(router.SetProbe("GET", "/y", [](HttpRequest&, HttpResponse*) { return true; }));
  CHECK(router.routes()[0].probe != nullptr);
  router.Register("GET", "/x", [](HttpRequest&, HttpResponse*) {});
  CHECK(router.routes()[0].probe == nullptr);
}

TEST_CASE("Connections spread over several event loops all get their answers", "[server][http]") {
  HttpServerOptions o;
  o.io_threads = 3;
  Fixture f(o);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    ts.emplace_back([&, i] {
      auto c = f.Client();
      for (int k = 0; k < 20; ++k) {
        auto r = k % 2 == 0 ? c.Get("/probed?fast=1") : c.Get("/params/c" + std::to_string(i) + "/x?a=" + std::to_string(k));
        if (r.ok() && r->status == 200 &&
            (k % 2 == 0 ? r->body == R"({"by":"probe"})"
                        : r->body == "c" + std::to_string(i) + "|" + std::to_string(k))) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(ok.load() == 120);
  CHECK(f.probed.load() == 60);
}

TEST_CASE("Stop lets in-flight requests finish and refuses new connections", "[server][http]") {
  Fixture f;
  uint16_t port = f.server->port();
  Result<HttpClient::Response> slow = Status::Internal("not run");
  std::thread t([&] {
    HttpClient c("127.0.0.1", port);
    slow = c.Get("/slow");
  });
  std::this_thread::sleep_for(100ms);
  f.server->Stop();
  t.join();
  REQUIRE(slow.ok());
  CHECK(slow->status == 200);
  CHECK(slow->body == R"({"slow":true})");
  CHECK(slow->Header("connection") == "close");
  HttpClient late("127.0.0.1", port);
  CHECK_FALSE(late.Get("/read").ok());
}

TEST_CASE("Requests still running when the grace period ends are cancelled", "[server][http]") {
  HttpServerOptions o;
  o.shutdown_grace_ms = 100;
  Fixture f(o);
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), f.server->port()});
  net::write(s, net::buffer(std::string("GET /wait-for-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::this_thread::sleep_for(50ms);
  auto started = std::chrono::steady_clock::now();
  f.server->Stop();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(f.gone_seen.load() == 1);  // the handler was told to give up
  CHECK(secs < 3);                 // not the handler's own 5 s
}

TEST_CASE("Bearer tokens: 401 without or with an unknown token, 403 without the scope",
          "[server][http][auth]") {
  auto auth = Authenticator::Parse(
      "# name scopes token\n"
      "grafana read  rrrrrrrrrrrrrrrrrrrr\n"
      "prom    write wwwwwwwwwwwwwwwwwwww   # remote write\n"
      "ops     admin aaaaaaaaaaaaaaaaaaaa\n");
  REQUIRE(auth.ok());
  HttpServerOptions o;
  o.auth = &*auth;
  Fixture f(o);
  auto c = f.Client();
  auto bearer = [](const std::string& t) { return HttpClient::Headers{{"Authorization", "Bearer " + t}}; };

  auto r = c.Get("/read");
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK(r->Header("www-authenticate") == "Bearer realm=\"vigil\"");
  CHECK(Json(r->body)["errorType"].str() == "unauthorized");
  r = c.Get("/read", bearer("xxxxxxxxxxxxxxxxxxxx"));
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  r = c.Get("/read", {{"Authorization", "Basic cnJycnI="}});
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  r = c.Get("/read", bearer("rrrrrrrrrrrrrrrrrrrr"));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  r = c.Request("POST", "/write", "x", bearer("rrrrrrrrrrrrrrrrrrrr"));
  REQUIRE(r.ok());
  CHECK(r->status == 403);
  CHECK(Json(r->body)["error"].str() == "token \"grafana\" lacks the write scope that /write requires");
  r = c.Request("POST", "/write", "x", bearer("wwwwwwwwwwwwwwwwwwww"));
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  r = c.Get("/read", bearer("wwwwwwwwwwwwwwwwwwww"));
  REQUIRE(r.ok());
  CHECK(r->status == 403);
  r = c.Request("POST", "/admin", "", bearer("wwwwwwwwwwwwwwwwwwww"));
  REQUIRE(r.ok());
  CHECK(r->status == 403);
  for (const char* path : {"/read", "/admin"}) {  // admin covers everything
    r = c.Request(std::string(path) == "/read" ? "GET" : "POST", path, "", bearer("aaaaaaaaaaaaaaaaaaaa"));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
  }
  r = c.Get("/nope", bearer("rrrrrrrrrrrrrrrrrrrr"));
  REQUIRE(r.ok());
  CHECK(r->status == 404);
}

TEST_CASE("Token files are checked line by line", "[server][auth]") {
  auto bad = [](const char* text) {
    auto r = Authenticator::Parse(text);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  CHECK(bad("a read short") == "token file line 1: token of a is shorter than 16 characters");
  CHECK(bad("\na read,fly xxxxxxxxxxxxxxxxxxxx") ==
        "token file line 2: unknown scope \"fly\" (read, write, admin)");
  CHECK(bad("a read") == "token file line 1: expected `name scopes token`, found 2 fields");
  CHECK(bad("a read xxxxxxxxxxxxxxxxxxxx\nb write xxxxxxxxxxxxxxxxxxxx") ==
        "token file line 2: token of b repeats the token of a");
  CHECK(bad("# nothing\n\n") == "token file holds no tokens (auth would lock out everyone)");
}

TEST_CASE("TLS: HTTPS with the configured certificate; plain HTTP to it fails", "[server][http][tls]") {
  std::string dir = std::string(VIGIL_GOLDEN_DIR) + "/server/tls";
  HttpServerOptions o;
  o.tls_cert_file = dir + "/cert.pem";
  o.tls_key_file = dir + "/key.pem";
  Fixture f(o);
  CHECK(f.server->tls());
  HttpClient::Options co;
  co.tls = true;
  co.ca_file = dir + "/cert.pem";
  HttpClient c("127.0.0.1", f.server->port(), co);
  auto r = c.Get("/big");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.size() == 5002);
  r = c.Request("POST", "/echo", "hello");  // same connection, kept alive
  REQUIRE(r.ok());
  CHECK(r->body == "len=5 body=hello");
  HttpClient::Options po;
  po.timeout_ms = 2000;
  HttpClient plain("127.0.0.1", f.server->port(), po);
  CHECK_FALSE(plain.Get("/read").ok());

  HttpServerOptions missing;
  missing.port = 0;
  missing.tls_cert_file = dir + "/nope.pem";
  missing.tls_key_file = dir + "/key.pem";
  Router router;
  HttpServer s(missing, &router);
  auto st = s.Start();
  CHECK(st.IsInvalidArgument());
}

}  // namespace
}  // namespace vigil::server
