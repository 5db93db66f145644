// The interactive shell driven through a pseudo-terminal, as an operator types.
#include <catch2/catch.hpp>

#include <atomic>

#include "tests/tools/shell/shell_test_util.h"

using namespace vigil::shell::testing;

namespace {

constexpr const char* kPrompt = "vigil> ";
constexpr const char* kUp = "\033[A";

std::map<std::string, std::string> ShellEnv(const TempDir& home) {
  return {{"HOME", home.path()},
          {"TERM", "xterm"},
          {"LC_ALL", "C.UTF-8"},
          {"NO_COLOR", "1"},
          {"VIGIL_HISTORY", home.path() + "/history"}};
}

std::unique_ptr<PtyProcess> StartShell(const std::string& url, const TempDir& home) {
  auto p = std::make_unique<PtyProcess>(std::vector<std::string>{VIGIL_SHELL_BINARY, "--url", url},
                                        ShellEnv(home));
  REQUIRE(p->WaitFor(kPrompt));
  return p;
}

// A TCP listener that accepts one connection, reads the request and never answers; it records
// whether the client closed the connection.
class StallingServer {
 public:
  StallingServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this] {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10000) <= 0) return;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      accepted_ = true;
      char buf[4096];
      for (;;) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 10000) <= 0) break;
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) {
          client_closed_ = true;
          break;
        }
      }
      close(c);
    });
  }
  ~StallingServer() {
    Join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool accepted() const { return accepted_; }
  bool client_closed() const { return client_closed_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> accepted_{false}, client_closed_{false};
};

}  // namespace

TEST_CASE("shell: Ctrl-C cancels a query in flight and closes its connection",
          "[tools][shell][pty]") {
  TempDir home;
  StallingServer server;
  auto sh = StartShell(server.url(), home);
  sh->Mark();
  sh->Send("up\r");
  for (int i = 0; i < 200 && !server.accepted(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(server.accepted());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sh->SendNow("\x03");  // while the query runs
  REQUIRE(sh->WaitFor("cancelled"));
  REQUIRE(sh->WaitFor(kPrompt));
  server.Join();
  CHECK(server.client_closed());  // the server learns that nobody waits for the answer
  // The shell is still usable: a line being typed is dropped by Ctrl-C too.
  sh->Mark();
  sh->Send("half a line\x03");
  REQUIRE(sh->WaitFor("^C"));
  REQUIRE(sh->WaitFor(kPrompt));
  sh->Send("\\format csv\r");
  REQUIRE(sh->WaitFor("\r\nformat csv\r\n"));  // the answer, not the echo
  sh->Send("\x04");  // Ctrl-D leaves
  CHECK(sh->WaitExit() == 0);
}

TEST_CASE("shell: meta commands and multi-line input without a server", "[tools][shell][pty]") {
  TempDir home;
  auto sh = StartShell("http://127.0.0.1:" + std::to_string(FreePort()), home);
  sh->Send("\\help\r");
  REQUIRE(sh->WaitFor("\\range <start> <end> [step]"));
  sh->Mark();
  sh->Send("\\range -1h now 1m\r");
  REQUIRE(sh->WaitFor("(1h), step 1m, follows the clock"));
  sh->Send("\\range 5 1\r");
  REQUIRE(sh->WaitFor("error: the range ends before it starts"));
  sh->Send("\\frobnicate\r");
  REQUIRE(sh->WaitFor("error: unknown command \\frobnicate (see \\help)"));
  // An open bracket continues the statement on the next line.
  sh->Mark();
  sh->Send("sum(\r");
  REQUIRE(sh->WaitFor("  ...> "));
  sh->Send("up)\r");
  REQUIRE(sh->WaitFor("error: cannot connect to"));
  // Tab on a meta command and a function name works without the server.
  sh->Mark();
  sh->Send("\\for\t");
  REQUIRE(sh->WaitFor("mat "));
  sh->Send("json\r");
  REQUIRE(sh->WaitFor("\r\nformat json\r\n"));  // the answer, not the echo
  sh->Mark();
  sh->Send("count_ov\t");
  REQUIRE(sh->WaitFor("er_time("));
  sh->Mark();
  sh->Send("\x03");
  REQUIRE(sh->WaitFor(kPrompt));
  sh->Send("\\quit\r");
  CHECK(sh->WaitExit() == 0);
}

TEST_CASE("shell: completion, tables, charts, errors and history against a live server",
          "[.][live][tools][shell][pty]") {
  LiveServer& server = SharedLiveServer();
  TempDir home;
  auto sh = StartShell(server.url(), home);

  SECTION("completion of a metric name, then its table") {
    sh->Mark();
    sh->Send("demo_req\t");
    REQUIRE(sh->WaitFor("uests"));
    sh->Send("\r");
    REQUIRE(sh->WaitFor("2 series, 2 samples"));
    std::string out = sh->SinceMark();
    CHECK_THAT(out, Catch::Contains("__name__       instance  job  value\r\n"));
    CHECK_THAT(out, Catch::Contains("demo_requests  a         api     10\r\n"));
    CHECK_THAT(out, Catch::Contains("demo_requests  b         api     80\r\n"));
  }
  SECTION("completion of label names and values") {
    sh->Mark();
    sh->Send("demo_latency_seconds{j\t");
    REQUIRE(sh->WaitFor("ob="));
    sh->Send("\t");  // opens the quote, the value is unique
    sh->Send("\t");
    REQUIRE(sh->WaitFor("db\""));
    sh->Send("}\r");
    REQUIRE(sh->WaitFor("1 series, 1 sample"));
    CHECK_THAT(sh->SinceMark(), Catch::Contains("demo_latency_seconds  c         db    0.25"));
    // Two candidates are listed under the line.
    sh->Mark();
    sh->Send("demo_requests{instance=\"\t");
    REQUIRE(sh->WaitFor("\r\na  b\r\n"));
    sh->Send("\x03");
    REQUIRE(sh->WaitFor("^C"));
    REQUIRE(sh->WaitFor(kPrompt));
    sh->Mark();
    sh->Send("sum by (inst\t");
    REQUIRE(sh->WaitFor("ance"));
    sh->Send(") (demo_requests)\r");
    REQUIRE(sh->WaitFor("2 series, 2 samples"));
  }
  SECTION("a range query as a chart, with a band") {
    sh->Send("\\range -1h now 1m\r");
    REQUIRE(sh->WaitFor("step 1m"));
    sh->Send("\\format chart\r");
    REQUIRE(sh->WaitFor("\r\nformat chart\r\n"));  // the answer, not the echo
    sh->Mark();
    sh->Send("demo_requests\r");
    REQUIRE(sh->WaitFor("samples · "));
    std::string out = sh->SinceMark();
    CHECK_THAT(out, Catch::Contains("━━ {instance=\"a\"}"));
    CHECK_THAT(out, Catch::Contains("━━ {instance=\"b\"}"));
    CHECK_THAT(out, Catch::Contains("┤⠀") || Catch::Contains("┤⠁") || Catch::Contains("└"));
    CHECK_THAT(out, Catch::Contains("2 series, 12"));  // 61 or 62 samples per series
    sh->Mark();
    sh->Send("{__name__=~\"demo:.*\"}\r");
    REQUIRE(sh->WaitFor("samples · "));
    out = sh->SinceMark();
    CHECK_THAT(out, Catch::Contains("░"));
    CHECK_THAT(out, Catch::Contains("░░ demo:lower/:upper (band)"));
    CHECK_THAT(out, Catch::Contains("━━ demo:forecast"));
  }
  SECTION("a server error with its position marked") {
    sh->Mark();
    sh->Send("demo_requests )\r");
    REQUIRE(sh->WaitFor("^"));
    CHECK_THAT(sh->SinceMark(), Catch::Contains("parse error"));
    // The caret goes where the server says: vigild names the ')' (1:15), Prometheus the column
    // after it (1:16).
    std::string out = sh->SinceMark();
    std::string caret = out.find("1:15:") != std::string::npos ? std::string(16, ' ') + "^"
                                                               : std::string(17, ' ') + "^";
    CHECK_THAT(out, Catch::Contains("\r\n  demo_requests )\r\n" + caret + "\r\n"));
  }
  SECTION("Ctrl-C cancels a long query; the next query runs on a new connection") {
    sh->Mark();
    // Millions of subquery steps: seconds of work for the server.
    sh->Send("count_over_time({__name__=~\"demo_.*\"}[1h:1ms])\r");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sh->SendNow("\x03");  // while the query runs
    REQUIRE(sh->WaitFor("cancelled", 3000));
    REQUIRE(sh->WaitFor(kPrompt));
    CHECK(sh->SinceMark().find("series, ") == std::string::npos);  // no result was printed
    sh->Mark();
    sh->Send("demo_latency_seconds\r");
    REQUIRE(sh->WaitFor("1 series, 1 sample"));
  }
  SECTION("history across sessions") {
    sh->Mark();
    sh->Send("demo_latency_seconds * 2\r");
    REQUIRE(sh->WaitFor("0.5"));
    REQUIRE(sh->WaitFor(kPrompt));
    sh->Send("\x04");
    REQUIRE(sh->WaitExit() == 0);
    std::ifstream hist(home.path() + "/history");
    std::string text((std::istreambuf_iterator<char>(hist)), std::istreambuf_iterator<char>());
    CHECK_THAT(text, Catch::Contains("demo_latency_seconds\\040*\\0402"));
    auto again = StartShell(server.url(), home);
    again->Mark();
    again->Send(kUp);
    REQUIRE(again->WaitFor("demo_latency_seconds * 2"));
    again->Send("\r");
    REQUIRE(again->WaitFor("1 series, 1 sample"));
    CHECK_THAT(again->SinceMark(), Catch::Contains("0.5"));
  }
}
