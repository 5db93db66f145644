#pragma once

// Minimal levelled logging. One message is one line:
//
//   2024-05-01T12:00:00.123Z WARN  wal.cc:42] segment 7 has a torn tail at offset 4096
//
// (UTC wall time with milliseconds, level, source file basename and line, then the message.)
//
// Usage:
//   VIGIL_LOG(INFO) << "opened " << dir << " in " << ms << " ms";
//   VIGIL_CHECK(fd >= 0) << "bad descriptor for " << path;
//
// Messages below the global minimum level (default INFO) cost one relaxed atomic load and build
// nothing. FATAL is never filtered: it writes its line, flushes, and aborts the process.
// Thread safety: everything here may be called from any thread; sink calls are serialised.

#include <atomic>
#include <functional>
#include <sstream>
#include <string_view>

namespace vigil {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kFatal = 4 };

std::string_view LogLevelName(LogLevel level);  // "DEBUG", "INFO", "WARN", "ERROR", "FATAL"

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

// Receives every formatted line (without the trailing newline). The default writes the line plus
// '\n' to stderr in a single write. A sink must not log itself (calls are serialised under a
// lock). FATAL lines also go to stderr when a custom sink is installed.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// Replaces the sink; an empty function restores the stderr sink. Returns the previous sink (empty
// if it was the default), so tests can restore it.
LogSink SetLogSink(LogSink sink);

namespace detail {

extern std::atomic<int> g_min_log_level;

inline bool ShouldLog(LogLevel level) {
  return static_cast<int>(level) >= g_min_log_level.load(std::memory_order_relaxed) ||
         level == LogLevel::kFatal;
}

// Collects one message; the destructor formats the line, hands it to the sink, and aborts for
// FATAL.
class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Lets the macros below be used as a statement whose value is discarded (`&` binds looser than
// `<<`).
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace detail
}  // namespace vigil

#define VIGIL_LOG_LEVEL_DEBUG ::vigil::LogLevel::kDebug
#define VIGIL_LOG_LEVEL_INFO ::vigil::LogLevel::kInfo
#define VIGIL_LOG_LEVEL_WARN ::vigil::LogLevel::kWarn
#define VIGIL_LOG_LEVEL_ERROR ::vigil::LogLevel::kError
#define VIGIL_LOG_LEVEL_FATAL ::vigil::LogLevel::kFatal

// VIGIL_LOG(DEBUG|INFO|WARN|ERROR|FATAL) << ...;
#define VIGIL_LOG(level)                                                    \
  !::vigil::detail::ShouldLog(VIGIL_LOG_LEVEL_##level)                      \
      ? (void)0                                                             \
      : ::vigil::detail::LogVoidify() &                                     \
            ::vigil::detail::LogMessage(VIGIL_LOG_LEVEL_##level, __FILE__, __LINE__).stream()

// Logs FATAL (and aborts) when `cond` is false, in every build type. For invariants whose breach
// would corrupt data; plain assert() is for the rest.
#define VIGIL_CHECK(cond)                                                            \
  (cond) ? (void)0                                                                   \
         : ::vigil::detail::LogVoidify() &                                           \
               ::vigil::detail::LogMessage(::vigil::LogLevel::kFatal, __FILE__, __LINE__) \
                       .stream()                                                     \
                   << "check failed: " #cond " "
