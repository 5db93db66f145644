// Loader for ../shared/datasets/real-scrape: series.tsv (id<TAB>name) and samples.csv.zst (zstd CSV
// "id,timestamp_ms,value", sorted by id then time), read with the zstd streaming API.

#include "bench/data/datasets.h"

#include <zstd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#ifndef VIGIL_DATASETS_DIR
#define VIGIL_DATASETS_DIR ""
#endif

namespace vigil::bench {

namespace {

template <typename T>
bool ParseInt(std::string_view s, T* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Shortest round-trip decimal, or NaN / +Inf / -Inf as the README spells them. std::from_chars
// takes no leading '+', so "+Inf" (and any "+<number>") is handled here.
bool ParseValue(std::string_view s, double* v) {
  if (s == "NaN") {
    *v = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s == "+Inf") {
    *v = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf") {
    *v = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

class CsvSink {
 public:
  CsvSink(Dataset* d, const std::unordered_map<int64_t, size_t>* index, std::string path)
      : d_(d), index_(index), path_(std::move(path)) {}

  // Consumes complete lines of `data`; an incomplete last line is kept for the next call.
  bool Feed(std::string_view data, std::string* error) {
    pending_.append(data);
    std::string_view rest = pending_;
    size_t nl;
    while ((nl = rest.find('\n')) != std::string_view::npos) {
      if (!Line(rest.substr(0, nl), error)) return false;
      rest.remove_prefix(nl + 1);
    }
    pending_.erase(0, pending_.size() - rest.size());
    return true;
  }

  bool Finish(std::string* error) {
    if (!pending_.empty() && !Line(pending_, error)) return false;
    pending_.clear();
    if (line_no_ == 0) return Fail("file is empty", error);
    return true;
  }

 private:
  bool Fail(const std::string& what, std::string* error) {
    *error = path_ + ":" + std::to_string(line_no_) + ": " + what;
    return false;
  }

  bool Line(std::string_view line, std::string* error) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no_ == 1) {
      if (line != "id,timestamp_ms,value") return Fail("unexpected CSV header", error);
      return true;
    }
    if (line.empty()) return true;
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    int64_t id, ts;
    double v;
    if (c2 == std::string_view::npos || !ParseInt(line.substr(0, c1), &id) ||
        !ParseInt(line.substr(c1 + 1, c2 - c1 - 1), &ts) || !ParseValue(line.substr(c2 + 1), &v)) {
      return Fail("malformed sample line '" + std::string(line) + "'", error);
    }
    if (id != cur_id_) {
      auto it = index_->find(id);
      if (it == index_->end()) return Fail("series id " + std::to_string(id) + " not in series.tsv", error);
      cur_id_ = id;
      cur_ = &d_->series[it->second];
      if (!cur_->ts.empty()) return Fail("samples of series " + std::to_string(id) + " not contiguous", error);
    }
    if (!cur_->ts.empty() && ts < cur_->ts.back()) {
      return Fail("timestamps of series " + std::to_string(id) + " go backwards", error);
    }
    cur_->ts.push_back(ts);
    cur_->vs.push_back(v);
    return true;
  }

  Dataset* d_;
  const std::unordered_map<int64_t, size_t>* index_;
  std::string path_;
  std::string pending_;
  size_t line_no_ = 0;
  int64_t cur_id_ = -1;
  Series* cur_ = nullptr;
};

bool LoadSeriesNames(const std::string& path, Dataset* d,
                     std::unordered_map<int64_t, size_t>* index, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1 && line.rfind("id\t", 0) == 0) continue;
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    int64_t id;
    if (tab == std::string::npos || !ParseInt(std::string_view(line).substr(0, tab), &id)) {
      *error = path + ":" + std::to_string(line_no) + ": malformed series line";
      return false;
    }
    if (!index->emplace(id, d->series.size()).second) {
      *error = path + ":" + std::to_string(line_no) + ": duplicate series id";
      return false;
    }
    d->series.push_back(Series{line.substr(tab + 1), {}, {}});
  }
  if (d->series.empty()) {
    *error = path + ": no series";
    return false;
  }
  return true;
}

}  // namespace

std::string DatasetsDir() {
  if (const char* env = std::getenv("VIGIL_DATASETS"); env != nullptr && *env != '\0') return env;
  return VIGIL_DATASETS_DIR;
}

bool LoadRealScrape(const std::string& datasets_dir, Dataset* out, std::string* error) {
  Dataset d;
  d.name = "real-scrape";
  const std::string dir = datasets_dir + "/real-scrape";
  std::unordered_map<int64_t, size_t> index;
  if (!LoadSeriesNames(dir + "/series.tsv", &d, &index, error)) return false;

  const std::string path = dir + "/samples.csv.zst";
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    *error = "cannot open " + path;
    return false;
  }
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  std::string in_buf(ZSTD_DStreamInSize(), '\0');
  std::string out_buf(ZSTD_DStreamOutSize(), '\0');
  CsvSink sink(&d, &index, path);
  size_t last_ret = 0;
  size_t n;
  while ((n = std::fread(in_buf.data(), 1, in_buf.size(), f.get())) > 0) {
    ZSTD_inBuffer in = {in_buf.data(), n, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer o = {out_buf.data(), out_buf.size(), 0};
      last_ret = ZSTD_decompressStream(dctx.get(), &o, &in);
      if (ZSTD_isError(last_ret)) {
        *error = path + ": zstd: " + ZSTD_getErrorName(last_ret);
        return false;
      }
      if (!sink.Feed(std::string_view(out_buf.data(), o.pos), error)) return false;
    }
  }
  if (std::ferror(f.get())) {
    *error = path + ": read error";
    return false;
  }
  if (last_ret != 0) {
    *error = path + ": truncated zstd stream";
    return false;
  }
  if (!sink.Finish(error)) return false;
  std::erase_if(d.series, [](const Series& s) { return s.ts.empty(); });
  *out = std::move(d);
  return true;
}

}  // namespace vigil::bench
