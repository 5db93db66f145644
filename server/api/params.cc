#include "server/api/params.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include "query/parser.h"

namespace vigil::server {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Go's strconv.ParseFloat for the forms clients send: decimal with optional sign and exponent.
bool ParseFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string_view body = s;
  if (body.front() == '+') body.remove_prefix(1);
  if (body.empty()) return false;
  // Reject the words from_chars accepts ("inf", "nan"): Prometheus turns them into errors too,
  // one step later.
  for (char c : body) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '-' || c == '+')) {
      return false;
    }
  }
  auto r = std::from_chars(body.data(), body.data() + body.size(), *out);
  return r.ec == std::errc() && r.ptr == body.data() + body.size();
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), as Go's time.RFC3339Nano accepts.
bool ParseRfc3339(std::string_view s, int64_t* ms) {
  int year, mon, day, hour, min, sec;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &min) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return false;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[mon - 1] || (mon == 2 && day == 29 && !leap)) return false;
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
  *ms = secs * 1000 + frac_ms;
  return true;
}

}  // namespace

Result<int64_t> ParseApiTime(std::string_view s) {
  double f = 0;
  if (ParseFloat(s, &f)) {
    // Whole seconds, then the fraction rounded to milliseconds, as Prometheus does.
    double whole = 0;
    double frac = std::modf(f, &whole);
    if (std::isfinite(f)) {
      // Clamped to the API's bounds so that differences of two times cannot overflow.
      if (whole <= static_cast<double>(kApiMinTime / 1000)) return kApiMinTime;
      if (whole >= static_cast<double>(kApiMaxTime / 1000)) return kApiMaxTime;
      return static_cast<int64_t>(whole) * 1000 + static_cast<int64_t>(std::round(frac * 1000));
    }
  }
  int64_t ms = 0;
  if (ParseRfc3339(s, &ms)) return ms;
  // The spellings of Prometheus' MinTime and MaxTime that clients send for "unbounded".
  if (s == "-292273086-05-16T16:47:06Z") return kApiMinTime;
  if (s == "292277025-08-18T07:12:54.999999999Z") return kApiMaxTime;
  return Status::InvalidArgument("cannot parse " + Quote(s) + " to a valid timestamp");
}

Result<int64_t> ParseApiDuration(std::string_view s) {
  double f = 0;
  if (ParseFloat(s, &f)) {
    double ms = f * 1000;
    if (!std::isfinite(ms) || ms > 9.2e18 || ms < -9.2e18) {
      return Status::InvalidArgument("cannot parse " + Quote(s) +
                                     " to a valid duration. It overflows int64");
    }
    return static_cast<int64_t>(ms);
  }
  auto d = query::ParseDuration(s);
  if (d.ok()) return *d;
  return Status::InvalidArgument("cannot parse " + Quote(s) + " to a valid duration");
}

std::string FormatRfc3339(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t rem = ms - secs * 1000;
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return buf;
}

Result<int64_t> TimeParam(const HttpRequest& req, std::string_view name, int64_t default_ms) {
  auto v = req.Param(name);
  if (!v || v->empty()) return default_ms;
  auto t = ParseApiTime(*v);
  if (!t.ok()) {
    return Status::InvalidArgument("invalid parameter \"" + std::string(name) +
                                   "\": " + t.status().message());
  }
  return t;
}

Result<int64_t> LimitParam(const HttpRequest& req) {
  auto v = req.Param("limit");
  if (!v || v->empty()) return int64_t{0};
  int64_t limit = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), limit);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size()) {
    return Status::InvalidArgument("invalid parameter \"limit\": cannot parse " + Quote(*v) +
                                   " as an integer");
  }
  if (limit < 0) return Status::InvalidArgument("invalid parameter \"limit\": limit must be non-negative");
  return limit;
}

Result<std::vector<std::vector<storage::Matcher>>> MatchParams(const HttpRequest& req) {
  std::vector<std::vector<storage::Matcher>> sets;
  for (std::string_view text : req.Params("match[]")) {
    auto expr = query::ParseExpr(text);
    if (!expr.ok()) {
      return Status::InvalidArgument("invalid parameter \"match[]\": " + expr.status().message());
    }
    const auto* vs = (*expr)->TryAs<query::VectorSelector>();
    if (vs == nullptr || vs->mods.offset_ms != 0 || vs->mods.at != query::AtKind::kNone) {
      return Status::InvalidArgument("invalid parameter \"match[]\": " + Quote(text) +
                                     " is not a series selector");
    }
    std::vector<storage::Matcher> set;
    for (const auto& m : vs->matchers) {
      auto sm = storage::Matcher::Make(static_cast<storage::MatchType>(m.type), m.name, m.value);
      if (!sm.ok()) {
        return Status::InvalidArgument("invalid parameter \"match[]\": " + sm.status().message());
      }
      set.push_back(std::move(*sm));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

}  // namespace vigil::server
