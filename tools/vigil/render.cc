#include "tools/vigil/render.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <set>
#include <tuple>

#include "tools/vigil/statement.h"
#include "tools/vigil/time_format.h"

namespace vigil::shell {

bool ParseFormat(std::string_view name, Format* out) {
  if (name == "table") {
    *out = Format::kTable;
  } else if (name == "csv") {
    *out = Format::kCsv;
  } else if (name == "json") {
    *out = Format::kJson;
  } else if (name == "chart") {
    *out = Format::kChart;
  } else {
    return false;
  }
  return true;
}

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kTable:
      return "table";
    case Format::kCsv:
      return "csv";
    case Format::kJson:
      return "json";
    case Format::kChart:
      return "chart";
  }
  return "table";
}

namespace {

void AppendPadded(std::string* out, std::string_view s, int width, bool right) {
  int pad = std::max(0, width - DisplayWidth(s));
  if (right) out->append(size_t(pad), ' ');
  out->append(s);
  if (!right) out->append(size_t(pad), ' ');
}

void AppendQuoted(std::string* out, std::string_view v) {
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Label names of all series: __name__ first, the rest sorted.
std::vector<std::string> LabelColumns(const std::vector<Series>& series) {
  std::set<std::string> names;
  bool has_name = false;
  for (const auto& s : series) {
    for (const auto& [k, v] : s.labels) {
      if (k == "__name__") {
        has_name = true;
      } else {
        names.insert(k);
      }
    }
  }
  std::vector<std::string> out;
  if (has_name) out.push_back("__name__");
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

int TableWidth(const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> w(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) w[i] = DisplayWidth(header[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < w.size(); ++i) {
      w[i] = std::max(w[i], DisplayWidth(row[i]));
    }
  }
  int total = 0;
  for (int x : w) total += x;
  return total + 2 * int(w.empty() ? 0 : w.size() - 1);
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_align, bool color) {
  std::vector<int> w(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) w[i] = DisplayWidth(header[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < w.size(); ++i) {
      w[i] = std::max(w[i], DisplayWidth(row[i]));
    }
  }
  auto right = [&](size_t i) { return i < right_align.size() && right_align[i]; };
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < w.size(); ++i) {
      if (i > 0) l += "  ";
      bool last = i + 1 == w.size();
      std::string_view cell = i < cells.size() ? std::string_view(cells[i]) : std::string_view();
      if (last && !right(i)) {
        l += cell;  // no trailing spaces
      } else {
        AppendPadded(&l, cell, w[i], right(i));
      }
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l;
  };
  if (color) out += "\033[1m";
  out += line(header);
  if (color) out += "\033[0m";
  out += "\n";
  std::string rule;
  for (size_t i = 0; i < w.size(); ++i) {
    if (i > 0) rule += "  ";
    for (int k = 0; k < w[i]; ++k) rule += "─";
  }
  out += rule + "\n";
  for (const auto& row : rows) out += line(row) + "\n";
  return out;
}

std::string SeriesName(const Series& s) {
  std::string out(s.Name());
  bool any = false;
  for (const auto& [k, v] : s.labels) {
    if (k == "__name__") continue;
    out += any ? ", " : "{";
    any = true;
    out += k + "=";
    AppendQuoted(&out, v);
  }
  if (any) out += "}";
  if (out.empty()) out = "{}";
  return out;
}

std::vector<std::string> DistinguishingLabels(const std::vector<Series>& series) {
  std::vector<std::string> out;
  if (series.size() <= 1) return out;
  for (const auto& name : LabelColumns(series)) {
    std::string_view first = series[0].Label(name);
    bool differs = false;
    for (const auto& s : series) {
      if (s.Label(name) != first) {
        differs = true;
        break;
      }
    }
    if (differs) out.push_back(name);
  }
  return out;
}

std::string ShortSeriesName(const Series& s, const std::vector<std::string>& distinguishing) {
  if (distinguishing.empty()) return SeriesName(s);
  std::string out;
  bool any = false;
  for (const auto& name : distinguishing) {
    if (name == "__name__") {
      out = std::string(s.Name()) + out;
      continue;
    }
    out += any ? ", " : "{";
    any = true;
    out += name + "=";
    AppendQuoted(&out, s.Label(name));
  }
  if (any) out += "}";
  return out;
}

std::string RenderTable(const QueryResult& r, const RenderOptions& o) {
  if (r.result_type == "scalar" || r.result_type == "string") {
    const Sample& s = r.series[0].samples[0];
    return FormatTable({r.result_type}, {{s.text}}, {r.result_type == "scalar"}, o.color);
  }
  if (r.series.empty()) return "(no data)\n";
  if (r.result_type == "vector") {
    std::vector<std::string> cols = LabelColumns(r.series);
    std::vector<std::string> header = cols;
    header.push_back("value");
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r.series) {
      std::vector<std::string> row;
      for (const auto& c : cols) row.emplace_back(s.Label(c));
      row.push_back(s.samples.empty() ? "" : s.samples[0].text);
      rows.push_back(std::move(row));
    }
    std::vector<bool> right(header.size(), false);
    right.back() = true;
    if (TableWidth(header, rows) <= o.width) return FormatTable(header, rows, right, o.color);
    std::vector<std::vector<std::string>> narrow;
    for (const auto& s : r.series) {
      narrow.push_back({SeriesName(s), s.samples.empty() ? "" : s.samples[0].text});
    }
    return FormatTable({"series", "value"}, narrow, {false, true}, o.color);
  }
  // Matrix: a column per series when it fits.
  std::vector<std::string> dist = DistinguishingLabels(r.series);
  std::vector<std::string> header = {"time"};
  for (const auto& s : r.series) header.push_back(ShortSeriesName(s, dist));
  std::map<int64_t, std::vector<std::string>> by_time;
  for (size_t i = 0; i < r.series.size(); ++i) {
    for (const auto& smp : r.series[i].samples) {
      auto& row = by_time[smp.t_ms];
      if (row.empty()) row.resize(r.series.size() + 1);
      row[i + 1] = smp.text;
    }
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(by_time.size());
  for (auto& [t, row] : by_time) {
    row[0] = FormatTimestamp(t);
    rows.push_back(std::move(row));
  }
  std::vector<bool> right(header.size(), true);
  right[0] = false;
  if (TableWidth(header, rows) <= o.width) return FormatTable(header, rows, right, o.color);
  std::vector<std::vector<std::string>> long_rows;
  for (const auto& s : r.series) {
    bool first = true;
    std::string name = SeriesName(s);
    for (const auto& smp : s.samples) {
      long_rows.push_back({first ? name : "", FormatTimestamp(smp.t_ms), smp.text});
      first = false;
    }
  }
  return FormatTable({"series", "time", "value"}, long_rows, {false, false, true}, o.color);
}

std::string RenderSeriesTable(const std::vector<Series>& series, const RenderOptions& o) {
  std::vector<std::string> cols = LabelColumns(series);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : series) {
    std::vector<std::string> row;
    for (const auto& c : cols) row.emplace_back(s.Label(c));
    rows.push_back(std::move(row));
  }
  if (TableWidth(cols, rows) <= o.width) {
    return FormatTable(cols, rows, std::vector<bool>(cols.size(), false), o.color);
  }
  std::vector<std::vector<std::string>> names;
  for (const auto& s : series) names.push_back({SeriesName(s)});
  return FormatTable({"series"}, names, {false}, o.color);
}

namespace {

std::string NumberField(const JsonValue& obj, std::string_view key, double scale_ms) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr || !v->is_number()) return "";
  return FormatElapsed(v->number() * scale_ms);
}

}  // namespace

Result<std::string> RenderRules(const JsonValue& data, std::string_view name,
                                const RenderOptions& o) {
  const JsonValue* groups = data.Find("groups");
  if (groups == nullptr || !groups->is_array()) {
    return Status::Corruption("malformed answer from the server: rules without \"groups\"");
  }
  std::vector<std::vector<std::string>> rows;
  std::string details;
  for (const JsonValue& g : groups->array()) {
    const JsonValue* rules = g.Find("rules");
    if (rules == nullptr || !rules->is_array()) continue;
    std::string interval;
    if (const JsonValue* iv = g.Find("interval"); iv != nullptr && iv->is_number()) {
      interval = FormatDuration(int64_t(iv->number() * 1000));
    }
    for (const JsonValue& r : rules->array()) {
      std::string_view group = g.StringOr("name");
      std::string_view rule = r.StringOr("name");
      std::string last(r.StringOr("lastEvaluation"));
      if (last.size() > 19 && last[10] == 'T') last = last.substr(0, 10) + " " + last.substr(11, 8);
      if (last.starts_with("0001-01-01")) last = "never";
      std::string eval = NumberField(r, "evaluationTime", 1000);
      if (!name.empty()) {
        if (rule != name && group != name) continue;
        for (auto [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
                 {"name", std::string(rule)},
                 {"group", std::string(group)},
                 {"type", std::string(r.StringOr("type"))},
                 {"interval", interval},
                 {"query", std::string(r.StringOr("query"))},
                 {"health", std::string(r.StringOr("health"))},
                 {"last evaluation", last},
                 {"evaluation time", eval},
                 {"last error", std::string(r.StringOr("lastError"))}}) {
          if (!v.empty())
            details += std::string(k) + std::string(16 - std::strlen(k), ' ') + v + "\n";
        }
        details += "\n";
        continue;
      }
      rows.push_back({std::string(group), std::string(rule), interval,
                      std::string(r.StringOr("health")), last, eval,
                      std::string(r.StringOr("query"))});
    }
  }
  if (!name.empty()) {
    if (details.empty()) {
      return Status::NotFound("no continuous query or rule group named '" + std::string(name) +
                              "'");
    }
    details.pop_back();
    return details;
  }
  if (rows.empty()) return std::string("(no continuous queries)\n");
  return FormatTable({"group", "name", "every", "health", "last run", "took", "query"}, rows,
                     {false, false, true, false, false, true, false}, o.color);
}

namespace {

std::string SecondsField(const JsonValue& obj, std::string_view key) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr) return "";
  if (v->is_string()) return v->str();
  if (!v->is_number()) return "";
  return FormatDuration(int64_t(std::llround(v->number() * 1000)));
}

std::string TimeField(const JsonValue& obj, std::string_view key) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr || !v->is_number()) return "";
  if (v->number() <= 0) return "never";
  return FormatTimestamp(int64_t(std::llround(v->number() * 1000)));
}

std::string RawField(const JsonValue& obj, std::string_view key) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr) return "";
  if (v->is_string()) return v->str();
  if (v->is_number()) return v->number_text();
  return v->ToString();
}

}  // namespace

Result<std::string> RenderCqs(const JsonValue& data, const RenderOptions& o) {
  if (data.is_object()) {
    std::string out;
    for (auto [label, key, kind] : std::initializer_list<std::tuple<const char*, const char*, int>>{
             {"name", "name", 0},
             {"kind", "kind", 0},
             {"expr", "expr", 0},
             {"interval", "interval", 1},
             {"season", "season", 1},
             {"horizon", "horizon", 1},
             {"coverage", "coverage", 0},
             {"sensitivity", "sensitivity", 0},
             {"labels", "labels", 0},
             {"group", "group", 0},
             {"series", "series", 0},
             {"last evaluation", "lastEvaluation", 2},
             {"next evaluation", "nextEvaluation", 2},
             {"lag", "lagSeconds", 1},
             {"evaluations", "evaluations", 0},
             {"failures", "failures", 0},
             {"skipped", "skipped", 0},
             {"evaluation time", "evaluationTime", 3},
             {"last error", "lastError", 0}}) {
      std::string v = kind == 1   ? SecondsField(data, key)
                      : kind == 2 ? TimeField(data, key)
                      : kind == 3 ? NumberField(data, key, 1000)
                                  : RawField(data, key);
      if (v.empty() || v == "{}") continue;
      out += std::string(label) + std::string(16 - std::strlen(label), ' ') + v + "\n";
    }
    return out;
  }
  if (!data.is_array()) {
    return Status::Corruption("malformed answer from the server: continuous queries");
  }
  if (data.array().empty()) return std::string("(no continuous queries)\n");
  std::vector<std::vector<std::string>> rows;
  for (const JsonValue& cq : data.array()) {
    std::string err = RawField(cq, "lastError");
    rows.push_back({RawField(cq, "name"), RawField(cq, "kind"), SecondsField(cq, "interval"),
                    RawField(cq, "series"), TimeField(cq, "lastEvaluation"),
                    SecondsField(cq, "lagSeconds"), RawField(cq, "failures"),
                    RawField(cq, "expr") + (err.empty() ? "" : "  (error: " + err + ")")});
  }
  return FormatTable({"name", "kind", "every", "series", "last run", "lag", "failures", "expr"},
                     rows, {false, false, true, true, false, true, true, false}, o.color);
}

std::string RenderCsv(const QueryResult& r) {
  std::string out;
  if (r.result_type == "scalar" || r.result_type == "string") {
    const Sample& s = r.series[0].samples[0];
    return "timestamp,value\n" + FormatApiTime(s.t_ms) + "," + CsvField(s.text) + "\n";
  }
  std::vector<std::string> cols = LabelColumns(r.series);
  for (const auto& c : cols) out += CsvField(c) + ",";
  out += "timestamp,value\n";
  for (const auto& s : r.series) {
    std::string prefix;
    for (const auto& c : cols) prefix += CsvField(s.Label(c)) + ",";
    for (const auto& smp : s.samples) {
      out += prefix + FormatApiTime(smp.t_ms) + "," + CsvField(smp.text) + "\n";
    }
  }
  return out;
}

std::string RenderJson(const QueryResult& r) { return r.data.ToString() + "\n"; }

std::string RenderFooter(const QueryResult& r) {
  size_t n = r.series.size();
  size_t m = r.NumSamples();
  std::string out = std::to_string(n) + (n == 1 ? " series, " : " series, ") + std::to_string(m) +
                    (m == 1 ? " sample" : " samples");
  if (r.range) {
    out += " · " + FormatTimestamp(r.start_ms) + " → " + FormatTimestamp(r.end_ms) + " step " +
           FormatDuration(r.step_ms);
  }
  out += " · " + FormatElapsed(r.elapsed_ms);
  return out;
}

std::string Render(const QueryResult& r, Format f, const RenderOptions& o) {
  switch (f) {
    case Format::kTable:
      return RenderTable(r, o);
    case Format::kCsv:
      return RenderCsv(r);
    case Format::kJson:
      return RenderJson(r);
    case Format::kChart:
      return RenderChart(r, o);
  }
  return {};
}

}  // namespace vigil::shell
