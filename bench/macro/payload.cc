#include "bench/macro/payload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "server/ingest/remote_write_encode.h"
#include "storage/labels.h"

namespace vigil::bench::macro {

namespace {

// ---- line protocol --------------------------------------------------------------------------

void AppendEscaped(std::string* s, std::string_view v, std::string_view specials) {
  for (char c : v) {
    if (specials.find(c) != std::string_view::npos) s->push_back('\\');
    s->push_back(c);
  }
}

void AppendDouble(std::string* s, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  s->append(buf, p);
}

void AppendInt(std::string* s, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  s->append(buf, p);
}

int64_t DefaultWindow(const Dataset& d, const BatchOptions& o) {
  if (o.window_ms > 0) return o.window_ms;
  for (const Series& s : d.series) {
    if (s.ts.size() >= 2) return std::max<int64_t>(1, 10 * (s.ts[1] - s.ts[0]));
  }
  return 60'000;
}

// Walks the dataset window by window; `emit(i, begin, end)` gets the sample range [begin, end) of
// series i in the current window; `full()` says whether the request under construction is full.
void WalkWindows(const std::vector<const Series*>& series, int64_t window,
                 const std::function<void(size_t, size_t, size_t)>& emit) {
  int64_t lo = INT64_MAX;
  for (const Series* s : series) {
    if (!s->ts.empty()) lo = std::min(lo, s->ts.front());
  }
  std::vector<size_t> pos(series.size(), 0);
  size_t remaining = series.size();
  for (const Series* s : series) {
    if (s->ts.empty()) --remaining;
  }
  for (int64_t w = lo; remaining > 0; w += window) {
    const int64_t end_t = w + window;
    for (size_t i = 0; i < series.size(); ++i) {
      const Series& s = *series[i];
      size_t b = pos[i], e = b;
      while (e < s.ts.size() && s.ts[e] < end_t) ++e;
      if (e == b) continue;
      emit(i, b, e);
      pos[i] = e;
      if (e == s.ts.size()) --remaining;
    }
  }
}

}  // namespace

bool ParseSeriesName(std::string_view text, ParsedName* out, std::string* error) {
  out->metric.clear();
  out->labels.clear();
  const size_t brace = text.find('{');
  out->metric = std::string(text.substr(0, brace));
  if (out->metric.empty()) {
    *error = "series '" + std::string(text) + "': no metric name";
    return false;
  }
  if (brace == std::string_view::npos) return true;
  size_t i = brace + 1;
  auto fail = [&](const std::string& what) {
    *error = "series '" + std::string(text) + "' position " + std::to_string(i) + ": " + what;
    return false;
  };
  while (i < text.size() && text[i] != '}') {
    const size_t eq = text.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') {
      return fail("expected name=\"value\"");
    }
    std::string name(text.substr(i, eq - i));
    std::string value;
    i = eq + 2;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\' && i + 1 < text.size()) {
        ++i;
        value.push_back(text[i] == 'n' ? '\n' : text[i]);
      } else {
        value.push_back(text[i]);
      }
      ++i;
    }
    if (i >= text.size()) return fail("unterminated label value");
    ++i;  // closing quote
    out->labels.emplace_back(std::move(name), std::move(value));
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) return fail("missing '}'");
  std::sort(out->labels.begin(), out->labels.end());
  return true;
}

bool BuildRemoteWrite(const Dataset& d, const BatchOptions& o,
                      std::vector<std::vector<Request>>* out, std::string* error) {
  // Label strings live in `names`; `labels` holds views of them, __name__ included, sorted.
  std::vector<ParsedName> names(d.series.size());
  std::vector<std::vector<storage::Label>> labels(d.series.size());
  std::vector<const Series*> series;
  for (size_t i = 0; i < d.series.size(); ++i) {
    if (!ParseSeriesName(d.series[i].name, &names[i], error)) return false;
    labels[i].push_back({"__name__", names[i].metric});
    for (const auto& [k, v] : names[i].labels) labels[i].push_back({k, v});
    std::sort(labels[i].begin(), labels[i].end());
    series.push_back(&d.series[i]);
  }
  const size_t shards = std::max<size_t>(1, o.shards);
  out->assign(shards, {});
  std::vector<server::ingest::RemoteWriteEncoder> encoders(
      shards, server::ingest::RemoteWriteEncoder(server::ingest::RemoteWriteVersion::k1));
  std::vector<size_t> samples(shards, 0);
  std::vector<int64_t> first_ts(shards, 0);
  std::vector<server::ingest::RemoteWriteSample> buf;
  auto flush = [&](size_t sh) {
    if (samples[sh] == 0) return;
    (*out)[sh].push_back(Request{encoders[sh].Snappy(), samples[sh], first_ts[sh]});
    encoders[sh].Reset();
    samples[sh] = 0;
  };
  WalkWindows(series, DefaultWindow(d, o), [&](size_t i, size_t b, size_t e) {
    const size_t sh = i % shards;
    if (samples[sh] == 0) first_ts[sh] = series[i]->ts[b];
    buf.clear();
    for (size_t k = b; k < e; ++k) buf.push_back({series[i]->ts[k], series[i]->vs[k]});
    encoders[sh].AddSeries(labels[i], buf);
    samples[sh] += e - b;
    if (samples[sh] >= o.batch_samples) flush(sh);
  });
  for (size_t sh = 0; sh < shards; ++sh) flush(sh);
  return true;
}

bool BuildLineProtocol(const Dataset& d, const BatchOptions& o, std::vector<std::vector<Request>>* out,
                       std::string* error) {
  // A line group: one line prefix ("measurement,tags ") and the series that are its fields.
  struct Group {
    std::string prefix;
    std::vector<std::string> fields;  // "name="
    std::vector<const Series*> series;
  };
  std::vector<Group> groups;
  std::vector<std::string> group_labels;  // labels rendered, to find a group's next field
  ParsedName n;
  for (const Series& s : d.series) {
    if (!ParseSeriesName(s.name, &n, error)) return false;
    for (double v : s.vs) {
      if (!std::isfinite(v)) {
        *error = "series " + s.name + ": line protocol cannot carry the value " +
                 std::to_string(v) + " (drop non-finite samples first)";
        return false;
      }
    }
    std::string measurement = n.metric, field = "value";
    const std::string& lm = d.line_measurement;
    if (!lm.empty() && n.metric.size() > lm.size() + 1 && n.metric.compare(0, lm.size(), lm) == 0 &&
        n.metric[lm.size()] == '_') {
      measurement = lm;
      field = n.metric.substr(lm.size() + 1);
    }
    std::string prefix;
    AppendEscaped(&prefix, measurement, ", ");
    for (const auto& [k, v] : n.labels) {
      prefix.push_back(',');
      AppendEscaped(&prefix, k, ",= ");
      prefix.push_back('=');
      AppendEscaped(&prefix, v, ",= ");
    }
    prefix.push_back(' ');
    std::string f;
    AppendEscaped(&f, field, ",= ");
    f.push_back('=');
    if (!groups.empty() && field != "value" && groups.back().prefix == prefix &&
        groups.back().series.front()->ts == s.ts) {
      groups.back().fields.push_back(std::move(f));
      groups.back().series.push_back(&s);
      continue;
    }
    groups.push_back(Group{std::move(prefix), {std::move(f)}, {&s}});
  }
  std::vector<const Series*> heads;
  for (const Group& g : groups) heads.push_back(g.series.front());
  const size_t shards = std::max<size_t>(1, o.shards);
  out->assign(shards, {});
  std::vector<std::string> body(shards);
  std::vector<size_t> samples(shards, 0);
  std::vector<int64_t> first_ts(shards, 0);
  auto flush = [&](size_t sh) {
    if (samples[sh] == 0) return;
    (*out)[sh].push_back(Request{std::move(body[sh]), samples[sh], first_ts[sh]});
    body[sh].clear();
    samples[sh] = 0;
  };
  WalkWindows(heads, DefaultWindow(d, o), [&](size_t gi, size_t b, size_t e) {
    const Group& g = groups[gi];
    const size_t sh = gi % shards;
    if (samples[sh] == 0) first_ts[sh] = g.series.front()->ts[b];
    std::string& out_body = body[sh];
    for (size_t k = b; k < e; ++k) {
      out_body += g.prefix;
      for (size_t f = 0; f < g.fields.size(); ++f) {
        if (f > 0) out_body.push_back(',');
        out_body += g.fields[f];
        AppendDouble(&out_body, g.series[f]->vs[k]);
      }
      out_body.push_back(' ');
      AppendInt(&out_body, g.series.front()->ts[k]);
      out_body.push_back('\n');
    }
    samples[sh] += (e - b) * g.fields.size();
    if (samples[sh] >= o.batch_samples) flush(sh);
  });
  for (size_t sh = 0; sh < shards; ++sh) flush(sh);
  return true;
}

}  // namespace vigil::bench::macro
