#include "storage/base/logging.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

// Installs a capturing sink and a min level for one test, restoring both afterwards.
class CaptureLog {
 public:
  explicit CaptureLog(LogLevel min = LogLevel::kDebug) : old_level_(MinLogLevel()) {
    SetMinLogLevel(min);
    old_sink_ = SetLogSink([this](LogLevel level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      levels_.push_back(level);
      lines_.emplace_back(line);
    });
  }
  ~CaptureLog() {
    SetLogSink(std::move(old_sink_));
    SetMinLogLevel(old_level_);
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::vector<LogLevel> levels() {
    std::lock_guard<std::mutex> lock(mu_);
    return levels_;
  }

 private:
  LogLevel old_level_;
  LogSink old_sink_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::vector<LogLevel> levels_;
};

TEST_CASE("a log line has time, level, file:line and the message", "[storage][base][logging]") {
  CaptureLog capture;
  const int line = __LINE__ + 1;
  VIGIL_LOG(WARN) << "segment " << 7 << " torn at " << 4096;
  auto lines = capture.lines();
  REQUIRE(lines.size() == 1);
  CHECK(capture.levels()[0] == LogLevel::kWarn);
  std::regex shape(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  logging_test\.cc:(\d+)\] segment 7 torn at 4096$)");
  std::smatch m;
  REQUIRE(std::regex_match(lines[0], m, shape));
  CHECK(std::stoi(m[1].str()) == line);
}

TEST_CASE("messages below the minimum level are not built", "[storage][base][logging]") {
  CaptureLog capture(LogLevel::kWarn);
  int evaluated = 0;
  auto side_effect = [&] { return ++evaluated; };
  VIGIL_LOG(DEBUG) << side_effect();
  VIGIL_LOG(INFO) << side_effect();
  VIGIL_LOG(WARN) << side_effect();
  VIGIL_LOG(ERROR) << side_effect();
  CHECK(evaluated == 2);
  auto levels = capture.levels();
  CHECK(levels == std::vector<LogLevel>{LogLevel::kWarn, LogLevel::kError});
  CHECK(MinLogLevel() == LogLevel::kWarn);
}

TEST_CASE("the macros are single statements", "[storage][base][logging]") {
  CaptureLog capture;
  bool flag = false;
  if (flag)
    VIGIL_LOG(INFO) << "then";
  else
    VIGIL_LOG(INFO) << "else";
  VIGIL_CHECK(!flag) << "never shown";
  auto lines = capture.lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::EndsWith("] else"));
}

TEST_CASE("lines from many threads arrive whole", "[storage][base][logging]") {
  CaptureLog capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) VIGIL_LOG(INFO) << "thread " << t << " message " << i;
    });
  }
  for (auto& th : threads) th.join();
  auto lines = capture.lines();
  CHECK(lines.size() == 800);
  std::regex tail(R"(\] thread \d message \d+$)");
  for (const auto& l : lines) REQUIRE(std::regex_search(l, tail));
}

TEST_CASE("level names", "[storage][base][logging]") {
  CHECK(LogLevelName(LogLevel::kDebug) == "DEBUG");
  CHECK(LogLevelName(LogLevel::kInfo) == "INFO");
  CHECK(LogLevelName(LogLevel::kError) == "ERROR");
  CHECK(LogLevelName(LogLevel::kFatal) == "FATAL");
}

// Runs `body` in a child process with stderr captured; returns (wait status, stderr text).
template <typename F>
std::pair<int, std::string> RunChild(F body) {
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Catch2's own SIGABRT handler would report a test failure from the child.
    ::signal(SIGABRT, SIG_DFL);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(pipefd[1], STDERR_FILENO);
    ::close(pipefd[0]);
    body();
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) err.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {status, err};
}

TEST_CASE("FATAL writes its line to stderr and aborts", "[storage][base][logging]") {
  auto [status, err] = RunChild([] {
    SetMinLogLevel(LogLevel::kError);  // FATAL is never filtered
    SetLogSink([](LogLevel, std::string_view) {});  // and always reaches stderr
    VIGIL_LOG(FATAL) << "disk gone: " << "/data/wal";
  });
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK_THAT(err, Catch::Contains("FATAL logging_test.cc:"));
  CHECK_THAT(err, Catch::Contains("disk gone: /data/wal"));
}

TEST_CASE("VIGIL_CHECK aborts with the condition text", "[storage][base][logging]") {
  auto [status, err] = RunChild([] {
    int fd = -1;
    VIGIL_CHECK(fd >= 0) << "for " << "/data/LOCK";
  });
  CHECK(WIFSIGNALED(status));
  CHECK_THAT(err, Catch::Contains("check failed: fd >= 0 for /data/LOCK"));
}

TEST_CASE("the default sink writes to stderr", "[storage][base][logging]") {
  auto [status, err] = RunChild([] { VIGIL_LOG(ERROR) << "to stderr"; });
  CHECK(WIFEXITED(status));
  CHECK_THAT(err, Catch::Contains("ERROR logging_test.cc:"));
  CHECK_THAT(err, Catch::EndsWith("] to stderr\n"));
}

}  // namespace
}  // namespace vigil
