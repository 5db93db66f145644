#pragma once

// Helpers for the shell's end-to-end tests: a process on a pseudo-terminal (the interactive
// shell), a process with pipes (`vigil -e`), and a live server with known data.
//
// The live server is vigild: $VIGIL_SHELL_TEST_VIGILD, else the build's (VIGILD_BINARY); else a
// Prometheus named by
// $VIGIL_SHELL_TEST_PROMETHEUS (a `prometheus` binary with `promtool` beside it) — the same HTTP
// API, used while vigild was being written. Tests that need it are tagged [live].

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tools/vigil/http_client.h"

#ifndef VIGIL_SHELL_BINARY
#error "tests/CMakeLists.txt defines VIGIL_SHELL_BINARY for tools_test"
#endif

namespace vigil::shell::testing {

inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A fresh directory under /tmp, removed with its contents at destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil-shell-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A loopback port that was free a moment ago.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

inline std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Output and exit code of a process run to its end (stdin from `input`).
struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

inline RunResult Run(std::vector<std::string> args, const std::string& input = "",
                     const std::map<std::string, std::string>& env = {}) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      close(fd);
    }
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    auto argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!input.empty()) {
    ssize_t n = write(in_pipe[1], input.data(), input.size());
    (void)n;
  }
  close(in_pipe[1]);
  RunResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, 20000) <= 0) break;
    for (auto& f : fds) {
      if (f.fd < 0 || (f.revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[4096];
      ssize_t n = read(f.fd, buf, sizeof buf);
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
        continue;
      }
      (f.fd == out_pipe[0] ? r.out : r.err).append(buf, size_t(n));
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// A child process on a pseudo-terminal, driven like a person at a keyboard.
class PtyProcess {
 public:
  PtyProcess(std::vector<std::string> args, const std::map<std::string, std::string>& env,
             int cols = 100, int rows = 40) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(cols);
    ws.ws_row = static_cast<unsigned short>(rows);
    pid_ = forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ < 0) throw std::runtime_error("forkpty failed");
    if (pid_ == 0) {
      // The child starts as from a login shell, whatever the test runner blocked or ignored.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGINT, SIG_DFL);
      signal(SIGQUIT, SIG_DFL);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      auto argv = Argv(args);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~PtyProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }

  // Types `keys` once the program waits for a line, as a person does: the line editor switches
  // the terminal to non-canonical mode when it reads and back while a statement runs, and a
  // Ctrl-D typed ahead into canonical mode is taken by the terminal, never seen by the program.
  void Send(std::string_view keys) {
    WaitForLineInput();
    SendNow(keys);
  }
  // Types `keys` at once (Ctrl-C while a statement runs).
  void SendNow(std::string_view keys) {
    ssize_t n = write(master_, keys.data(), keys.size());
    (void)n;
  }
  // Waits (at most timeout_ms) until the terminal is in non-canonical mode; false on timeout.
  bool WaitForLineInput(int timeout_ms = 5000) {
    const char* name = ptsname(master_);
    if (name == nullptr) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int fd = open(name, O_RDWR | O_NOCTTY);
      termios t{};
      bool raw = fd >= 0 && tcgetattr(fd, &t) == 0 && (t.c_lflag & ICANON) == 0;
      if (fd >= 0) close(fd);
      if (raw) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Reads until `needle` appears after the mark and after the previous match; the next WaitFor
  // searches after this match. False on timeout or end of output.
  bool WaitFor(std::string_view needle, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (size_t at = out_.find(needle, search_from_); at != std::string::npos) {
        search_from_ = at + needle.size();
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return Missed(needle, "timed out");
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, int(left)) <= 0) continue;
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return Missed(needle, "end of output");
      out_.append(buf, size_t(n));
    }
  }
  // A failed wait prints what the terminal showed since the last match, so that a failure in
  // CI can be read without rerunning it. (Not for the drain in WaitExit, which expects to miss.)
  bool Missed(std::string_view needle, const char* why) {
    if (needle == kDrain) return false;
    std::fprintf(stderr, "pty: %s waiting for \"%s\"; output after the last match: \"%s\"\n",
                 why, Escaped(needle).c_str(), Escaped(out_.substr(search_from_)).c_str());
    return false;
  }
  static std::string Escaped(std::string_view s) {
    std::string r;
    for (unsigned char c : s) {
      if (c >= 0x20 && c != 0x7f && c != '\\') {
        r += char(c);
      } else {
        char b[8];
        std::snprintf(b, sizeof b, "\\x%02x", c);
        r += b;
      }
    }
    return r;
  }
  // Output from the mark on; Mark() moves the mark to the end.
  std::string SinceMark() const { return out_.substr(mark_); }
  void Mark() { mark_ = search_from_ = out_.size(); }
  const std::string& output() const { return out_; }

  // Waits for the process to end; its exit code, or -1 on timeout.
  int WaitExit(int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      size_t keep = search_from_;
      WaitFor(kDrain, 20);  // drain output
      search_from_ = keep;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    std::fprintf(stderr, "pty: the process did not exit; output after the last match: \"%s\"\n",
                 Escaped(out_.substr(search_from_)).c_str());
    return -1;
  }

 private:
  static constexpr std::string_view kDrain = "\x01\x02never";
  pid_t pid_ = -1;
  int master_ = -1;
  bool exited_ = false;
  std::string out_;
  size_t mark_ = 0;
  size_t search_from_ = 0;
};

// The samples every live test can count on. Times are whole minutes; `end` is at most a minute
// before the test starts, so instant queries at "now" see the last samples.
struct KnownData {
  int64_t start_s, end_s;  // 61 samples per series, one a minute
  static KnownData Make() {
    int64_t now = NowMillis() / 1000;
    int64_t end = now - now % 60;
    return {end - 3600, end};
  }
  // (metric, labels as name=value pairs, value at minute i)
  struct Series {
    std::string metric;
    std::vector<std::pair<std::string, std::string>> labels;
    double (*value)(int i);
  };
  static std::vector<Series> All() {
    return {
        {"demo_requests",
         {{"instance", "a"}, {"job", "api"}},
         [](int i) { return double(10 + i % 12); }},
        {"demo_requests", {{"instance", "b"}, {"job", "api"}}, [](int i) { return 20.0 + i; }},
        {"demo_latency_seconds", {{"instance", "c"}, {"job", "db"}}, [](int) { return 0.25; }},
        {"demo:forecast", {{"job", "api"}}, [](int i) { return 15.0 + i / 10.0; }},
        {"demo:upper", {{"job", "api"}}, [](int i) { return 18.0 + i / 10.0; }},
        {"demo:lower", {{"job", "api"}}, [](int i) { return 12.0 + i / 10.0; }},
    };
  }
};

// A server with KnownData loaded, on a free loopback port; stopped (by its PID) at destruction.
class LiveServer {
 public:
  LiveServer() : data_(KnownData::Make()) {
    port_ = FreePort();
    if (const char* vigild = std::getenv("VIGIL_SHELL_TEST_VIGILD"); vigild && *vigild) {
      StartVigild(vigild);
      return;
    }
#ifdef VIGILD_BINARY
    StartVigild(VIGILD_BINARY);
#else
    const char* prom = std::getenv("VIGIL_SHELL_TEST_PROMETHEUS");
    if (prom == nullptr || *prom == '\0') {
      throw std::runtime_error(
          "no live server: this build has no vigild, and $VIGIL_SHELL_TEST_PROMETHEUS does not "
          "name a prometheus binary");
    }
    StartPrometheus(prom);
#endif
  }
  ~LiveServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const KnownData& data() const { return data_; }

 private:
  static std::string Fmt(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  void Spawn(std::vector<std::string> args) {
    std::string log = dir_.path() + "/server.log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      auto argv = Argv(args);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  // Polls `path` until it answers 200 (through vigil itself: `vigil -e 1` succeeds).
  void WaitReady() {
    for (int i = 0; i < 200; ++i) {
      RunResult r = Run({VIGIL_SHELL_BINARY, "--url", url(), "-q", "-e", "1"});
      if (r.exit_code == 0) return;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("the server exited at start; see its log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the server did not answer within 10 s");
  }

  void StartVigild(const std::string& vigild) {
    if (access(vigild.c_str(), X_OK) != 0) {
      throw std::runtime_error("no vigild at " + vigild + " (ninja vigild)");
    }
    Spawn({vigild, "--data-dir=" + dir_.path() + "/data",
           "--http.listen=127.0.0.1:" + std::to_string(port_),
           "--native.listen="});  // empty: no native protocol listener
    WaitReady();
    // Influx line protocol; a field named `value` maps to the plain measurement name.
    std::string body;
    for (const auto& s : KnownData::All()) {
      for (int i = 0; i <= 60; ++i) {
        body += s.metric;
        for (const auto& [k, v] : s.labels) body += "," + k + "=" + v;
        body += " value=" + Fmt(s.value(i)) + " " + std::to_string(data_.start_s + i * 60) + "\n";
      }
    }
    HttpClient client(*Url::Parse(url()), HttpOptions{});
    auto r = client.Post("/write?precision=s", "text/plain; charset=utf-8", body);
    if (!r.ok() || r->status / 100 != 2) {
      throw std::runtime_error(
          "loading data into vigild failed: " +
          (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString()));
    }
  }

  void StartPrometheus(const std::string& prom) {
    std::string dir = dir_.path();
    std::string om;
    for (const auto& s : KnownData::All()) {
      for (int i = 0; i <= 60; ++i) {
        om += s.metric + "{";
        for (size_t k = 0; k < s.labels.size(); ++k) {
          om += (k > 0 ? "," : "") + s.labels[k].first + "=\"" + s.labels[k].second + "\"";
        }
        om += "} " + Fmt(s.value(i)) + " " + std::to_string(data_.start_s + i * 60) + "\n";
      }
    }
    om += "# EOF\n";
    std::ofstream(dir + "/data.om") << om;
    std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1h\n";
    std::string promtool = std::filesystem::path(prom).parent_path() / "promtool";
    RunResult r = Run(
        {promtool, "tsdb", "create-blocks-from", "openmetrics", dir + "/data.om", dir + "/data"});
    if (r.exit_code != 0) throw std::runtime_error("promtool backfill failed: " + r.err + r.out);
    Spawn({prom, "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
           "--web.listen-address=127.0.0.1:" + std::to_string(port_)});
    WaitReady();
  }

  TempDir dir_;
  KnownData data_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// One live server per test process, started on first use (sections re-enter test cases, and a
// server start costs more than the tests that use it). Stopped at exit.
inline LiveServer& SharedLiveServer() {
  static LiveServer server;
  return server;
}

}  // namespace vigil::shell::testing
