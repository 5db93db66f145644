#include "tools/vigil/time_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "query/parser.h"

namespace vigil::shell {
namespace {

Status BadTime(std::string_view text) {
  return Status::InvalidArgument(
      "cannot parse time '" + std::string(text) +
      "': expected now, now-1h, -1h, RFC 3339 (2026-11-27T05:00:00Z) or Unix seconds");
}

// Reads exactly `n` digits at s[*i].
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + size_t(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + size_t(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += size_t(n);
  *out = v;
  return true;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<int64_t> ParseRfc3339(std::string_view s) {
  size_t i = 0;
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &i, 4, &year) || i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &month) ||
      i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &day)) {
    return BadTime(s);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return BadTime(s);
  int64_t frac_ms = 0;
  int64_t offset_min = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return BadTime(s);
    ++i;
    if (!Digits(s, &i, 2, &hour) || i >= s.size() || s[i++] != ':' || !Digits(s, &i, 2, &minute)) {
      return BadTime(s);
    }
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!Digits(s, &i, 2, &second)) return BadTime(s);
      if (i < s.size() && s[i] == '.') {
        ++i;
        int64_t scale = 100;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          frac_ms += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return BadTime(s);
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return BadTime(s);
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh, om;
        if (!Digits(s, &i, 2, &oh) || i >= s.size() || s[i++] != ':' || !Digits(s, &i, 2, &om)) {
          return BadTime(s);
        }
        offset_min = sign * (oh * 60 + om);
      } else {
        return BadTime(s);
      }
    }
  }
  if (i != s.size()) return BadTime(s);
  int64_t days = DaysFromCivil(year, unsigned(month), unsigned(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + frac_ms;
}

}  // namespace

bool IsRelativeTime(std::string_view text) {
  return text.starts_with("now") || text.starts_with("-") || text.starts_with("+");
}

Result<int64_t> ParseTime(std::string_view text, int64_t now_ms) {
  const std::string_view original = text;
  if (text.empty()) return BadTime(text);
  if (text.starts_with("now")) {
    std::string_view rest = text.substr(3);
    if (rest.empty()) return now_ms;
    if (rest[0] != '-' && rest[0] != '+') return BadTime(original);
    text = rest;
  }
  if (text[0] == '-' || text[0] == '+') {
    auto d = query::ParseDuration(text.substr(1));
    if (!d.ok()) {
      return Status::InvalidArgument("cannot parse time '" + std::string(original) +
                                     "': bad duration (" + d.status().message() + ")");
    }
    return text[0] == '-' ? now_ms - *d : now_ms + *d;
  }
  if (text.size() >= 8 && text[4] == '-') return ParseRfc3339(text);
  // Unix seconds, possibly fractional.
  double secs = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(secs)) {
    return BadTime(text);
  }
  return std::llround(secs * 1000.0);
}

Result<int64_t> ParseStep(std::string_view text) {
  int64_t ms = 0;
  double secs = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (!text.empty() && ec == std::errc() && ptr == text.data() + text.size()) {
    ms = std::llround(secs * 1000.0);
  } else {
    auto d = query::ParseDuration(text);
    if (!d.ok()) {
      return Status::InvalidArgument("cannot parse step '" + std::string(text) +
                                     "': expected a duration (15s, 1m) or seconds");
    }
    ms = *d;
  }
  if (ms <= 0) {
    return Status::InvalidArgument("step '" + std::string(text) + "' must be positive");
  }
  return ms;
}

std::string FormatTimestamp(int64_t ms) {
  int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string s = buf;
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof f, ".%03d", int(frac));
    s += f;
  }
  return s;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string s;
  if (ms < 0) {
    s = "-";
    ms = -ms;
  }
  static constexpr struct {
    int64_t ms;
    const char* unit;
  } kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& u : kUnits) {
    if (ms >= u.ms) {
      s += std::to_string(ms / u.ms) + u.unit;
      ms %= u.ms;
    }
  }
  return s;
}

std::string FormatElapsed(double ms) {
  char buf[32];
  if (ms < 1) {
    std::snprintf(buf, sizeof buf, "%.0fµs", ms * 1000);
  } else if (ms < 1000) {
    std::snprintf(buf, sizeof buf, ms < 10 ? "%.2fms" : "%.1fms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
  }
  return buf;
}

}  // namespace vigil::shell
