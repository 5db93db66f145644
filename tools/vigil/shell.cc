#include "tools/vigil/shell.h"

#include <fnmatch.h>
#include <algorithm>
#include <chrono>

#include "tools/vigil/statement.h"
#include "tools/vigil/time_format.h"

namespace vigil::shell {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// A step giving about `points` points over `span_ms`, rounded to a whole second at least.
int64_t AutoStep(int64_t span_ms, int points) {
  int64_t step = std::max<int64_t>(1000, span_ms / std::max(1, points));
  return (step + 999) / 1000 * 1000;
}

}  // namespace

std::string_view HelpText() {
  return R"(Type a PromQL expression and press Enter; it runs as an instant query, or as a range
query after \range. A statement goes on over several lines while a bracket or quote is open or
a line ends with '\'. Tab completes metric names, label names and values, functions and
keywords. Ctrl-C cancels the running query (or the line being typed), Ctrl-D leaves.

  \help                           this text
  \metrics [pattern]              metric names (pattern: substring, or a glob with * ?)
  \labels [metric]                label names (of a metric: with their values)
  \series <selector>              series matching a selector, labels as columns
  \range <start> <end> [step]     range queries from now on; times: now, -1h, now-30m,
                                  RFC 3339 (2026-11-27T05:00:00Z), Unix seconds; step: 15s, 1m
  \range off                      back to instant queries
  \format table|csv|json|chart    output format (chart draws range queries)
  \status                         server version and storage statistics
  \cq [list] | \cq show NAME     continuous queries: definitions, state, lag, failures
  \cq create NAME [kind=forecast] [interval=1m] [season=1d] [horizon=1h] [coverage=0.95]
       [sensitivity=3] [labels=a=b] EXPR     create one (its outputs: NAME:forecast, :upper, ...)
  \cq drop NAME                   drop one (its series stay)
  \quit                           leave (also Ctrl-D)
)";
}

Shell::Shell(ApiClient* api, ShellOptions options, std::FILE* out, std::FILE* err)
    : api_(api),
      options_(std::move(options)),
      out_(out),
      err_(err),
      completion_(api, std::chrono::seconds(30)) {}

int64_t Shell::Now() const {
  if (now_for_testing_ != 0) return now_for_testing_;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Shell::Print(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), out_);
  std::fflush(out_);
}

void Shell::Note(std::string_view s) {
  std::string line;
  if (options_.render.color) line += "\033[2m";
  line += s;
  if (options_.render.color) line += "\033[0m";
  line += "\n";
  Print(line);
}

void Shell::Confirm(std::string_view s) {
  if (options_.interactive) Note(s);
}

void Shell::PrintError(const Status& st, std::string_view query) {
  std::string msg;
  // The terminal echoed ^C without a newline.
  if (st.code() == StatusCode::kCancelled && options_.interactive) msg += "\n";
  if (options_.render.color) msg += "\033[1;31m";
  msg += st.code() == StatusCode::kCancelled ? "cancelled" : "error";
  if (options_.render.color) msg += "\033[0m";
  if (st.code() != StatusCode::kCancelled) {
    const std::string& type = api_->last_error_type();
    msg += type.empty() || type == "client" ? ": " : " (" + type + "): ";
    msg += st.message();
  }
  msg += "\n";
  if (!query.empty()) msg += MarkErrorPosition(query, st.message());
  std::fflush(out_);
  std::fwrite(msg.data(), 1, msg.size(), err_);
  std::fflush(err_);
}

Status Shell::Execute(std::string_view statement) {
  std::string_view s = Trim(statement);
  if (s.empty()) return Status::OK();
  if (s.starts_with("\\")) {
    error_context_.clear();
    Status st = Meta(s);
    if (!st.ok()) PrintError(st, error_context_);
    return st;
  }
  Status st = RunQuery(statement);
  if (!st.ok()) PrintError(st, statement);
  return st;
}

Status Shell::RunQuery(std::string_view query) {
  Result<QueryResult> r = Status::Internal("unset");
  if (options_.range) {
    int64_t now = Now();
    VIGIL_ASSIGN_OR_RETURN(int64_t start, ParseTime(options_.range->start, now));
    VIGIL_ASSIGN_OR_RETURN(int64_t end, ParseTime(options_.range->end, now));
    if (end < start) {
      return Status::InvalidArgument("range end " + FormatTimestamp(end) + " is before its start " +
                                     FormatTimestamp(start));
    }
    int64_t step = options_.range->step_ms;
    if (step == 0) {
      int points = options_.format == Format::kTable ? 60 : std::max(60, options_.render.width * 2);
      step = AutoStep(end - start, points);
    }
    if (IsRelativeTime(options_.range->start) && IsRelativeTime(options_.range->end)) {
      // Align a moving window to its step, so that repeated queries hit the same timestamps.
      start -= ((start % step) + step) % step;
      end -= ((end % step) + step) % step;
    }
    r = api_->QueryRange(query, start, end, step);
  } else {
    std::optional<int64_t> t;
    if (!options_.time.empty()) {
      VIGIL_ASSIGN_OR_RETURN(t, ParseTime(options_.time, Now()));
    }
    r = api_->Query(query, t);
  }
  if (!r.ok()) return r.status();
  Print(Render(*r, options_.format, options_.render));
  for (const auto* list : {&r->warnings, &r->infos}) {
    for (const auto& w : *list) {
      std::string line = (list == &r->warnings ? "warning: " : "info: ") + w;
      if (options_.interactive) {
        Note(line);
      } else {
        std::fprintf(err_, "%s\n", line.c_str());  // keeps CSV and JSON on stdout clean
      }
    }
  }
  bool human = options_.format == Format::kTable || options_.format == Format::kChart;
  if (options_.footer && human) Note(RenderFooter(*r));
  return Status::OK();
}

Status Shell::Meta(std::string_view line) {
  size_t sp = line.find_first_of(" \t");
  std::string_view cmd = line.substr(0, sp);
  std::string_view args = sp == std::string_view::npos ? "" : Trim(line.substr(sp));
  if (cmd == "\\help" || cmd == "\\h" || cmd == "\\?") return Help();
  if (cmd == "\\quit" || cmd == "\\q" || cmd == "\\exit") {
    quit_ = true;
    return Status::OK();
  }
  if (cmd == "\\metrics" || cmd == "\\m") return Metrics(args);
  if (cmd == "\\labels" || cmd == "\\l") return Labels(args);
  if (cmd == "\\series" || cmd == "\\s") return SeriesCmd(args);
  if (cmd == "\\range" || cmd == "\\r") return RangeCmd(args);
  if (cmd == "\\format" || cmd == "\\f") return FormatCmd(args);
  if (cmd == "\\status") return StatusCmd();
  if (cmd == "\\cq") return Cq(args);
  return Status::InvalidArgument("unknown command " + std::string(cmd) + " (see \\help)");
}

Status Shell::Help() {
  Print(HelpText());
  return Status::OK();
}

void Shell::PrintList(const std::vector<std::string>& words) {
  if (words.empty()) return;
  int w = 0;
  for (const auto& s : words) w = std::max(w, DisplayWidth(s));
  int col_w = w + 2;
  int ncols = std::max(1, (options_.render.width + 2) / col_w);
  if (!options_.interactive) ncols = 1;  // one per line for scripts
  size_t nrows = (words.size() + size_t(ncols) - 1) / size_t(ncols);
  std::string out;
  for (size_t r = 0; r < nrows; ++r) {
    std::string line;
    for (size_t c = 0; c < size_t(ncols); ++c) {
      size_t i = c * nrows + r;
      if (i >= words.size()) break;
      line += words[i];
      line.append(size_t(std::max(0, col_w - DisplayWidth(words[i]))), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  Print(out);
}

Status Shell::Metrics(std::string_view pattern) {
  auto t0 = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, api_->LabelValues("__name__"));
  std::vector<std::string> shown;
  std::string pat(pattern);
  bool glob = pattern.find_first_of("*?[") != std::string_view::npos;
  for (auto& n : names) {
    if (pattern.empty() ||
        (glob ? fnmatch(pat.c_str(), n.c_str(), 0) == 0 : n.find(pattern) != std::string::npos)) {
      shown.push_back(std::move(n));
    }
  }
  PrintList(shown);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (options_.footer) {
    Note(std::to_string(shown.size()) + (shown.size() == 1 ? " metric" : " metrics") + " · " +
         FormatElapsed(ms));
  }
  return Status::OK();
}

Status Shell::Labels(std::string_view metric) {
  auto t0 = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, api_->LabelNames(metric));
  if (metric.empty()) {
    PrintList(names);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : names) {
      if (n == "__name__") continue;
      VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> values, api_->LabelValues(n, metric));
      std::string sample;
      for (size_t i = 0; i < values.size() && i < 5; ++i) {
        if (i > 0) sample += ", ";
        sample += values[i];
      }
      if (values.size() > 5) sample += ", …";
      rows.push_back({n, std::to_string(values.size()), sample});
    }
    Print(FormatTable({"label", "values", "examples"}, rows, {false, true, false},
                      options_.render.color));
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (options_.footer) {
    size_t n = names.size() - size_t(std::count(names.begin(), names.end(), "__name__") *
                                     (metric.empty() ? 0 : 1));
    Note(std::to_string(n) + (n == 1 ? " label" : " labels") + " · " + FormatElapsed(ms));
  }
  return Status::OK();
}

Status Shell::SeriesCmd(std::string_view selector) {
  if (selector.empty())
    return Status::InvalidArgument("usage: \\series <selector>, e.g. \\series up{job=\"api\"}");
  auto t0 = std::chrono::steady_clock::now();
  error_context_ = std::string(selector);
  VIGIL_ASSIGN_OR_RETURN(std::vector<Series> found, api_->SeriesOf(selector));
  auto* series = &found;
  Print(series->empty() ? std::string("(no series)\n")
                        : RenderSeriesTable(*series, options_.render));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (options_.footer) Note(std::to_string(series->size()) + " series · " + FormatElapsed(ms));
  return Status::OK();
}

Status Shell::RangeCmd(std::string_view args) {
  std::vector<std::string_view> w = Words(args);
  if (w.empty()) {
    if (!options_.range) {
      Confirm("instant queries (set a range with \\range <start> <end> [step])");
    } else {
      const RangeSpec& r = *options_.range;
      Confirm("range " + r.start + " → " + r.end + ", step " +
              (r.step_ms == 0 ? std::string("auto") : FormatDuration(r.step_ms)));
    }
    return Status::OK();
  }
  if (w.size() == 1 && (w[0] == "off" || w[0] == "instant")) {
    options_.range.reset();
    Confirm("instant queries");
    return Status::OK();
  }
  if (w.size() < 2 || w.size() > 3) {
    return Status::InvalidArgument("usage: \\range <start> <end> [step] | \\range off");
  }
  RangeSpec spec{std::string(w[0]), std::string(w[1]), 0};
  int64_t now = Now();
  VIGIL_ASSIGN_OR_RETURN(int64_t start, ParseTime(spec.start, now));
  VIGIL_ASSIGN_OR_RETURN(int64_t end, ParseTime(spec.end, now));
  if (end < start) return Status::InvalidArgument("the range ends before it starts");
  if (w.size() == 3) {
    VIGIL_ASSIGN_OR_RETURN(spec.step_ms, ParseStep(w[2]));
    if ((end - start) / spec.step_ms > 11000) {
      return Status::InvalidArgument("step " + FormatDuration(spec.step_ms) +
                                     " gives more than "
                                     "11000 points over " +
                                     FormatDuration(end - start));
    }
  }
  options_.range = spec;
  Confirm("range " + FormatTimestamp(start) + " → " + FormatTimestamp(end) + " (" +
          FormatDuration(end - start) + "), step " +
          (spec.step_ms == 0 ? std::string("auto") : FormatDuration(spec.step_ms)) +
          (IsRelativeTime(spec.start) || IsRelativeTime(spec.end) ? ", follows the clock" : ""));
  return Status::OK();
}

Status Shell::FormatCmd(std::string_view args) {
  if (args.empty()) {
    Confirm("format " + std::string(FormatName(options_.format)));
    return Status::OK();
  }
  Format f;
  if (!ParseFormat(args, &f)) {
    return Status::InvalidArgument("unknown format '" + std::string(args) +
                                   "' (table, csv, json or chart)");
  }
  options_.format = f;
  Confirm("format " + std::string(FormatName(f)) +
          (f == Format::kChart && !options_.range ? " (charts draw range queries: \\range -1h now)"
                                                  : ""));
  return Status::OK();
}

Status Shell::StatusCmd() {
  auto t0 = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(JsonValue build, api_->BuildInfo());
  double rtt =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"server", api_->url().ToString()});
  rows.push_back({"round trip", FormatElapsed(rtt)});
  for (const char* k : {"version", "revision", "branch", "buildDate", "goVersion"}) {
    std::string_view v = build.StringOr(k);
    if (!v.empty()) rows.push_back({k, std::string(v)});
  }
  auto tsdb = api_->TsdbStatus();
  if (tsdb.ok()) {
    if (const JsonValue* head = tsdb->Find("headStats")) {
      for (const char* k : {"numSeries", "numLabelPairs", "chunkCount"}) {
        const JsonValue* v = head->Find(k);
        if (v != nullptr && v->is_number())
          rows.push_back({std::string("head ") + k, v->number_text()});
      }
      const JsonValue* mint = head->Find("minTime");
      const JsonValue* maxt = head->Find("maxTime");
      if (mint != nullptr && maxt != nullptr && mint->is_number() && maxt->is_number() &&
          mint->number() <= maxt->number()) {
        rows.push_back({"head time range", FormatTimestamp(int64_t(mint->number())) + " → " +
                                               FormatTimestamp(int64_t(maxt->number()))});
      }
    }
    if (const JsonValue* top = tsdb->Find("seriesCountByMetricName"); top && top->is_array()) {
      for (size_t i = 0; i < top->array().size() && i < 5; ++i) {
        const JsonValue& e = top->array()[i];
        const JsonValue* value = e.Find("value");
        rows.push_back({i == 0 ? "top metrics" : "",
                        std::string(e.StringOr("name")) + " (" +
                            (value && value->is_number() ? value->number_text() : "?") +
                            " series)"});
      }
    }
  } else {
    rows.push_back({"tsdb status", tsdb.status().message()});
  }
  int kw = 0;
  for (const auto& row : rows) kw = std::max(kw, DisplayWidth(row[0]));
  std::string out;
  for (const auto& row : rows) {
    out += row[0] + std::string(size_t(kw - DisplayWidth(row[0]) + 2), ' ') + row[1] + "\n";
  }
  Print(out);
  return Status::OK();
}

// Continuous queries through the server's CQ API (/api/v1/cq, server/docs/continuous-queries.md).
// A server without it (404) still reports its recording rules in /api/v1/rules, which \cq list and
// \cq show fall back to.
Status Shell::Cq(std::string_view args) {
  std::vector<std::string_view> w = Words(args);
  std::string_view sub = w.empty() ? "list" : w[0];
  // A 404 from the router (not from the CQ API about an unknown name): Prometheus answers in
  // plain text, vigild without CQs with "no such endpoint".
  auto no_cq_api = [&](const Status& st) {
    return api_->last_http_status() == 404 &&
           (api_->last_error_type() == "http" ||
            st.message().find("no such endpoint") != std::string::npos);
  };
  if (sub == "list" || sub == "ls") {
    auto data = api_->GetData("/api/v1/cq");
    if (!data.ok() && no_cq_api(data.status())) {
      VIGIL_ASSIGN_OR_RETURN(JsonValue rules, api_->GetData("/api/v1/rules?type=record"));
      VIGIL_ASSIGN_OR_RETURN(std::string text, RenderRules(rules, "", options_.render));
      Print(text);
      return Status::OK();
    }
    if (!data.ok()) return data.status();
    VIGIL_ASSIGN_OR_RETURN(std::string text, RenderCqs(*data, options_.render));
    Print(text);
    return Status::OK();
  }
  if (sub == "show" || sub == "describe") {
    if (w.size() != 2) return Status::InvalidArgument("usage: \\cq show <name>");
    auto data = api_->GetData("/api/v1/cq/" + UrlEncode(w[1]));
    if (!data.ok() && no_cq_api(data.status())) {
      VIGIL_ASSIGN_OR_RETURN(JsonValue rules, api_->GetData("/api/v1/rules?type=record"));
      VIGIL_ASSIGN_OR_RETURN(std::string text, RenderRules(rules, w[1], options_.render));
      Print(text);
      return Status::OK();
    }
    if (!data.ok()) return data.status();
    VIGIL_ASSIGN_OR_RETURN(std::string text, RenderCqs(*data, options_.render));
    Print(text);
    return Status::OK();
  }
  if (sub == "drop") {
    if (w.size() != 2) return Status::InvalidArgument("usage: \\cq drop <name>");
    VIGIL_RETURN_IF_ERROR(api_->DeleteData("/api/v1/cq/" + UrlEncode(w[1])).status());
    Confirm("dropped " + std::string(w[1]) + " (its series stay)");
    return Status::OK();
  }
  if (sub == "create") {
    // \cq create NAME [kind=K] [interval=D] [season=S] [horizon=D] [coverage=C]
    //                 [sensitivity=X] [labels=a=b,c=d] EXPR...
    static constexpr std::string_view kParams[] = {"kind",     "interval",    "season", "horizon",
                                                   "coverage", "sensitivity", "labels"};
    if (w.size() < 3) {
      return Status::InvalidArgument(
          "usage: \\cq create <name> [kind=record|forecast|anomaly] [interval=1m] [season=1d] "
          "[horizon=1h] [coverage=0.95] [sensitivity=3] [labels=a=b,c=d] <expr>");
    }
    std::string form = "name=" + UrlEncode(w[1]);
    size_t i = 2;
    for (; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      if (eq == std::string_view::npos) break;
      std::string_view key = w[i].substr(0, eq);
      if (std::find(std::begin(kParams), std::end(kParams), key) == std::end(kParams)) break;
      form += "&" + std::string(key) + "=" + UrlEncode(w[i].substr(eq + 1));
    }
    if (i == w.size()) return Status::InvalidArgument("\\cq create: the expression is missing");
    // The expression is the rest of the line as typed.
    std::string_view expr = args.substr(size_t(w[i].data() - args.data()));
    form += "&expr=" + UrlEncode(expr);
    error_context_ = std::string(expr);
    VIGIL_ASSIGN_OR_RETURN(JsonValue created, api_->PostData("/api/v1/cq", form));
    VIGIL_ASSIGN_OR_RETURN(std::string text, RenderCqs(created, options_.render));
    Print(text);
    return Status::OK();
  }
  return Status::InvalidArgument(
      "usage: \\cq [list] | \\cq show <name> | \\cq create <name> [k=v ...] <expr> | \\cq drop "
      "<name>");
}

}  // namespace vigil::shell
