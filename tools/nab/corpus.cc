#include "tools/nab/corpus.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace vigil::nab {

namespace {

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  if (s == "NaN" || s == "nan") {
    *out = std::nan("");
    return true;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Calls fn(line_number, line) for every line of `text` (1-based numbers, '\r' stripped).
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    VIGIL_RETURN_IF_ERROR(fn(line_no, Trim(line)));
  }
  return Status::OK();
}

// Minimal reader for the one JSON shape of windows files.
class JsonCursor {
 public:
  explicit JsonCursor(std::string_view text) : text_(text) {}
  void SkipSpace() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]) != nullptr) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Status Expect(char c) {
    if (Consume(c)) return Status::OK();
    return Status::InvalidArgument("windows JSON: expected '" + std::string(1, c) + "' at offset " +
                                   std::to_string(pos_));
  }
  Result<std::string> String() {
    VIGIL_RETURN_IF_ERROR(Expect('"'));
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out.push_back(text_[pos_++]);
    }
    if (pos_ >= text_.size()) return Status::InvalidArgument("windows JSON: unterminated string");
    ++pos_;
    return out;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view text) {
  text = Trim(text);
  int64_t unix_seconds;
  if (ParseInt(text, &unix_seconds)) return unix_seconds;
  double fractional;
  if (text.find_first_of("-: ") == std::string_view::npos && ParseDouble(text, &fractional) &&
      std::isfinite(fractional)) {
    return static_cast<int64_t>(std::floor(fractional));
  }
  // YYYY-MM-DD HH:MM:SS[.f...]
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':') {
    return Status::InvalidArgument("timestamp \"" + std::string(text) +
                                   "\" is neither YYYY-MM-DD HH:MM:SS nor Unix seconds");
  }
  int64_t y, mo, d, h, mi, s;
  if (!ParseInt(text.substr(0, 4), &y) || !ParseInt(text.substr(5, 2), &mo) ||
      !ParseInt(text.substr(8, 2), &d) || !ParseInt(text.substr(11, 2), &h) ||
      !ParseInt(text.substr(14, 2), &mi) || !ParseInt(text.substr(17, 2), &s) || mo < 1 ||
      mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return Status::InvalidArgument("timestamp \"" + std::string(text) + "\" has an invalid field");
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest != "Z") {
    if (rest[0] != '.' || rest.size() < 2) {
      return Status::InvalidArgument("timestamp \"" + std::string(text) + "\" has trailing text");
    }
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') {
        if (c == 'Z' && &c == &rest.back()) break;
        return Status::InvalidArgument("timestamp \"" + std::string(text) + "\" has trailing text");
      }
    }
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

Result<SeriesCsv> ParseSeriesCsv(std::string_view text, std::string_view source) {
  SeriesCsv out;
  bool header = true;
  Status st = ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    if (line.empty()) return Status::OK();
    const std::string where = std::string(source) + ":" + std::to_string(line_no);
    if (header) {
      header = false;
      if (line != "timestamp,value") {
        return Status::InvalidArgument(where + ": header must be \"timestamp,value\", got \"" +
                                       std::string(line) + "\"");
      }
      return Status::OK();
    }
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      return Status::InvalidArgument(where + ": expected two fields timestamp,value");
    }
    Result<int64_t> ts = ParseTimestamp(line.substr(0, comma));
    if (!ts.ok()) return ts.status().WithContext(where);
    double v;
    if (!ParseDouble(Trim(line.substr(comma + 1)), &v)) {
      return Status::InvalidArgument(where + ": value \"" + std::string(line.substr(comma + 1)) +
                                     "\" is not a number");
    }
    // Equal timestamps are kept as separate rows (NAB's files repeat a timestamp at a DST change).
    if (!out.timestamps.empty() && *ts < out.timestamps.back()) {
      return Status::InvalidArgument(where + ": timestamps must not go backwards (row " +
                                     std::to_string(out.timestamps.size() + 1) + ")");
    }
    out.timestamp_text.emplace_back(Trim(line.substr(0, comma)));
    out.timestamps.push_back(*ts);
    out.values.push_back(v);
    return Status::OK();
  });
  VIGIL_RETURN_IF_ERROR(st);
  if (header) return Status::InvalidArgument(std::string(source) + ": empty file (no header)");
  return out;
}

Result<SeriesCsv> ReadSeriesCsv(FileSystem* fs, const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path));
  return ParseSeriesCsv(text, path);
}

Result<WindowsFile> ParseWindowsJson(std::string_view text) {
  JsonCursor c(text);
  WindowsFile out;
  VIGIL_RETURN_IF_ERROR(c.Expect('{'));
  if (!c.Consume('}')) {
    do {
      VIGIL_ASSIGN_OR_RETURN(std::string key, c.String());
      VIGIL_RETURN_IF_ERROR(c.Expect(':'));
      VIGIL_RETURN_IF_ERROR(c.Expect('['));
      std::vector<std::pair<std::string, std::string>> windows;
      if (!c.Consume(']')) {
        do {
          VIGIL_RETURN_IF_ERROR(c.Expect('['));
          VIGIL_ASSIGN_OR_RETURN(std::string start, c.String());
          VIGIL_RETURN_IF_ERROR(c.Expect(','));
          VIGIL_ASSIGN_OR_RETURN(std::string end, c.String());
          VIGIL_RETURN_IF_ERROR(c.Expect(']'));
          windows.emplace_back(std::move(start), std::move(end));
        } while (c.Consume(','));
        VIGIL_RETURN_IF_ERROR(c.Expect(']'));
      }
      out.emplace_back(std::move(key), std::move(windows));
    } while (c.Consume(','));
    VIGIL_RETURN_IF_ERROR(c.Expect('}'));
  }
  if (!c.AtEnd()) return Status::InvalidArgument("windows JSON: trailing text after the object");
  return out;
}

Result<std::string> ReadMaybeGzip(FileSystem* fs, const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string raw, ReadFileToString(fs, path));
  if (path.size() < 3 || path.compare(path.size() - 3, 3, ".gz") != 0) return raw;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return Status::Internal("zlib: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::Corruption(path + ": gzip stream is corrupt at input offset " +
                                std::to_string(zs.total_in));
    }
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

Result<std::vector<Window>> WindowsToRows(
    const SeriesCsv& series, const std::vector<std::pair<std::string, std::string>>& windows,
    std::string_view file) {
  std::vector<Window> out;
  auto row_of = [&](const std::string& text) -> Result<int64_t> {
    VIGIL_ASSIGN_OR_RETURN(int64_t ts, ParseTimestamp(text));
    auto it = std::lower_bound(series.timestamps.begin(), series.timestamps.end(), ts);
    if (it == series.timestamps.end() || *it != ts) {
      return Status::InvalidArgument(std::string(file) + ": window timestamp " + text +
                                     " is not a row of the file");
    }
    return static_cast<int64_t>(it - series.timestamps.begin());
  };
  for (const auto& [start, end] : windows) {
    VIGIL_ASSIGN_OR_RETURN(int64_t first, row_of(start));
    VIGIL_ASSIGN_OR_RETURN(int64_t last, row_of(end));
    if (last < first || (!out.empty() && first <= out.back().last_row)) {
      return Status::InvalidArgument(std::string(file) +
                                     ": windows must be ordered and disjoint (" + start + ", " +
                                     end + ")");
    }
    out.push_back({first, last});
  }
  return out;
}

Result<std::map<std::string, std::vector<double>>> ParseReferenceScores(std::string_view text) {
  std::map<std::string, std::vector<double>> out;
  bool header = true;
  Status st = ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    if (line.empty()) return Status::OK();
    if (header) {
      header = false;
      if (line != "file,timestamp,anomaly_score") {
        return Status::InvalidArgument(
            "scores line 1: header must be file,timestamp,anomaly_score");
      }
      return Status::OK();
    }
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    double v;
    if (c2 == std::string_view::npos || !ParseDouble(line.substr(c2 + 1), &v) ||
        !(v >= 0 && v <= 1)) {
      return Status::InvalidArgument("scores line " + std::to_string(line_no) +
                                     ": expected file,timestamp,score with a score in [0, 1]");
    }
    out[std::string(line.substr(0, c1))].push_back(v);
    return Status::OK();
  });
  VIGIL_RETURN_IF_ERROR(st);
  return out;
}

Result<std::vector<CorpusFile>> LoadCorpus(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::string json, ReadFileToString(fs, JoinPath(dir, "windows.json")));
  VIGIL_ASSIGN_OR_RETURN(WindowsFile windows, ParseWindowsJson(json));
  std::vector<CorpusFile> out;
  for (auto& [key, file_windows] : windows) {
    CorpusFile f;
    f.key = key;
    VIGIL_ASSIGN_OR_RETURN(f.series, ReadSeriesCsv(fs, JoinPath(JoinPath(dir, "data"), key)));
    VIGIL_ASSIGN_OR_RETURN(f.windows, WindowsToRows(f.series, file_windows, key));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace vigil::nab
