#include "storage/base/logging.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

#include "storage/base/clock.h"

namespace vigil {
namespace detail {

std::atomic<int> g_min_log_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace detail

namespace {

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}

LogSink& CurrentSink() {  // guarded by SinkMutex()
  static LogSink sink;
  return sink;
}

void WriteToStderr(std::string_view line) {
  std::string buf(line);
  buf += '\n';
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing stderr
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

std::string_view Basename(const char* file) {
  std::string_view f(file);
  size_t slash = f.rfind('/');
  return slash == std::string_view::npos ? f : f.substr(slash + 1);
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
    case LogLevel::kFatal: return "FATAL";
  }
  return "?";
}

void SetMinLogLevel(LogLevel level) {
  detail::g_min_log_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  return static_cast<LogLevel>(detail::g_min_log_level.load(std::memory_order_relaxed));
}

LogSink SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  LogSink old = std::move(CurrentSink());
  CurrentSink() = std::move(sink);
  return old;
}

namespace detail {

LogMessage::LogMessage(LogLevel level, const char* file, int line)
    : level_(level), file_(file), line_(line) {}

LogMessage::~LogMessage() {
  int64_t now_ms = SystemClock()->NowMillis();
  time_t secs = static_cast<time_t>(now_ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char stamp[96];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour,
                tm_utc.tm_min, tm_utc.tm_sec, static_cast<int>(now_ms % 1000));
  std::string line;
  line.reserve(64);
  line += stamp;
  line += ' ';
  std::string_view name = LogLevelName(level_);
  line += name;
  line.append(6 - name.size(), ' ');
  line += Basename(file_);
  line += ':';
  line += std::to_string(line_);
  line += "] ";
  line += stream_.str();
  {
    std::lock_guard<std::mutex> lock(SinkMutex());
    const bool custom = static_cast<bool>(CurrentSink());
    if (custom) CurrentSink()(level_, line);
    // A fatal line always reaches stderr, even when a test installed its own sink.
    if (!custom || level_ == LogLevel::kFatal) WriteToStderr(line);
  }
  if (level_ == LogLevel::kFatal) {
    std::abort();
  }
}

}  // namespace detail
}  // namespace vigil
