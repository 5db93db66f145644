#include "query/promqltest/runner.h"

#include <re2/re2.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "query/parser.h"
#include "query/promqltest/mem_storage.h"
#include "query/promqltest/script.h"
#include "storage/matcher.h"
#include "storage/series_ref.h"

namespace vigil::query::promqltest {
namespace {

std::string Num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string MessageOf(const Status& s) { return s.message(); }

class ScriptRun {
 public:
  ScriptRun(std::string_view name, const RunnerOptions& options)
      : options_(options), engine_(options.engine) {
    report_.name = std::string(name);
  }

  ScriptReport Run(std::string_view text);

 private:
  Status Load(const std::vector<std::string>& lines, size_t* i, bool nhcb);
  void RunEval(const EvalCmd& cmd);
  bool NeedsNative(const Expr& e) const;
  std::string Check(const EvalCmd& cmd, const Result<QueryResult>& r) const;
  std::string CheckAnnotations(const EvalCmd& cmd, const QueryResult& r) const;
  std::string CompareVector(const EvalCmd& cmd, const VectorValue& v) const;
  std::string CompareMatrix(const EvalCmd& cmd, const MatrixValue& m, int64_t start, int64_t end,
                            int64_t step) const;
  std::string RangeModeCheck(const EvalCmd& cmd, const QueryResult& instant);
  void Fail(int line, const std::string& expr, std::string msg) {
    report_.failed++;
    report_.failures.push_back({line, expr, std::move(msg)});
  }
  void Skip(const std::string& reason, bool native) {
    (native ? report_.skipped_native : report_.skipped_other)++;
    report_.skip_reasons[reason]++;
  }

  const RunnerOptions& options_;
  Engine engine_;
  MemStorage storage_;
  std::vector<storage::Labels> native_series_;
  std::string load_error_;
  ScriptReport report_;
};

ScriptReport ScriptRun::Run(std::string_view text) {
  std::vector<std::string> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    std::vector<std::string_view> f = Fields(l);
    if (f[0] == "load" || f[0] == "load_with_nhcb") {
      Status s = Load(lines, &i, f[0] == "load_with_nhcb");
      if (!s.ok()) load_error_ = "line " + std::to_string(i + 1) + ": " + s.message();
      continue;
    }
    if (f[0] == "clear") {
      storage_.Clear();
      native_series_.clear();
      load_error_.clear();
      continue;
    }
    EvalCmd cmd;
    cmd.line = static_cast<int>(i + 1);
    Status s = ParseEvalHeader(l, &cmd);
    while (s.ok() && i + 1 < lines.size() && !lines[i + 1].empty()) {
      ++i;
      s = ParseResultLine(lines[i], &cmd);
    }
    while (i + 1 < lines.size() && !lines[i + 1].empty()) ++i;
    if (!s.ok()) {
      Fail(cmd.line, cmd.expr, "cannot parse the command: " + s.message());
      continue;
    }
    RunEval(cmd);
  }
  return std::move(report_);
}

Status ScriptRun::Load(const std::vector<std::string>& lines, size_t* i, bool nhcb) {
  std::vector<std::string_view> f = Fields(lines[*i]);
  if (f.size() != 2) return Status::InvalidArgument("load needs one interval");
  VIGIL_ASSIGN_OR_RETURN(int64_t interval, ParseDuration(f[1]));
  Status first_error;
  while (*i + 1 < lines.size() && !lines[*i + 1].empty()) {
    ++*i;
    std::string_view desc, vals;
    if (!SplitSeriesLine(lines[*i], &desc, &vals)) {
      if (first_error.ok()) first_error = Status::InvalidArgument("bad series line");
      continue;
    }
    auto labels = SeriesLabels(desc);
    auto values = labels.ok() ? ParseValues(vals) : Result<std::vector<SeqValue>>(labels.status());
    if (!values.ok()) {
      if (first_error.ok()) first_error = values.status();
      continue;
    }
    bool native = false;
    for (size_t k = 0; k < values->size(); ++k) {
      const SeqValue& v = (*values)[k];
      const int64_t t = static_cast<int64_t>(k) * interval;
      switch (v.kind) {
        case SeqValue::kFloat:
          storage_.Add(*labels, t, v.v);
          break;
        case SeqValue::kStale: {
          double stale;
          std::memcpy(&stale, &storage::kStaleNaNBits, sizeof stale);
          storage_.Add(*labels, t, stale);
          break;
        }
        case SeqValue::kHistogram:
          native = true;
          break;
        case SeqValue::kOmitted:
          break;
      }
    }
    if (native) native_series_.push_back(*labels);
    std::string_view name = labels->MetricName();
    if (nhcb && name.size() > 7 && name.substr(name.size() - 7) == "_bucket" && labels->Has("le")) {
      storage::LabelsBuilder b(*labels);
      b.Set(storage::kMetricNameLabel, name.substr(0, name.size() - 7));
      b.Del("le");
      auto base = b.Build();
      if (base.ok()) native_series_.push_back(std::move(base).value());
    }
  }
  return first_error;
}

bool ScriptRun::NeedsNative(const Expr& e) const {
  switch (e.kind) {
    case ExprKind::kVectorSelector: {
      std::vector<storage::Matcher> ms;
      for (const LabelMatcher& m : e.As<VectorSelector>().matchers) {
        auto sm = storage::Matcher::Make(static_cast<storage::MatchType>(m.type), m.name, m.value);
        if (!sm.ok()) return false;
        ms.push_back(std::move(sm).value());
      }
      for (const storage::Labels& ls : native_series_) {
        bool all = true;
        for (const storage::Matcher& m : ms) all = all && m.Matches(ls);
        if (all) return true;
      }
      return false;
    }
    case ExprKind::kMatrixSelector:
      return NeedsNative(*e.As<MatrixSelector>().vector_selector);
    case ExprKind::kSubquery:
      return NeedsNative(*e.As<Subquery>().expr);
    case ExprKind::kParen:
      return NeedsNative(*e.As<Paren>().expr);
    case ExprKind::kUnary:
      return NeedsNative(*e.As<Unary>().expr);
    case ExprKind::kBinary: {
      const auto& b = e.As<Binary>();
      if (b.op == BinaryOp::kTrimUpper || b.op == BinaryOp::kTrimLower) return true;
      return NeedsNative(*b.lhs) || NeedsNative(*b.rhs);
    }
    case ExprKind::kAggregate: {
      const auto& a = e.As<Aggregate>();
      return NeedsNative(*a.expr) || (a.param != nullptr && NeedsNative(*a.param));
    }
    case ExprKind::kCall: {
      const auto& c = e.As<Call>();
      std::string_view n = c.func->name;
      if (n == "histogram_count" || n == "histogram_sum" || n == "histogram_avg" ||
          n == "histogram_stddev" || n == "histogram_stdvar") {
        return true;
      }
      for (const ExprPtr& a : c.args) {
        if (NeedsNative(*a)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

void ScriptRun::RunEval(const EvalCmd& cmd) {
  if (cmd.native) {
    Skip("native histograms (expected result)", true);
    return;
  }
  auto tree = ParseExpr(cmd.expr, options_.engine.parse_options);
  if (tree.ok() && NeedsNative(**tree)) {
    Skip("native histograms (query reads histogram data or functions)", true);
    return;
  }
  if (!load_error_.empty()) {
    Fail(cmd.line, cmd.expr, "data could not be loaded: " + load_error_);
    return;
  }
  Result<QueryResult> r = cmd.range
                              ? engine_.RangeQuery(storage_, cmd.expr, cmd.start, cmd.end, cmd.step)
                              : engine_.InstantQuery(storage_, cmd.expr, cmd.start);
  std::string err = Check(cmd, r);
  if (err.empty() && r.ok() && !cmd.range && options_.check_range_mode) {
    err = RangeModeCheck(cmd, *r);
  }
  if (err.empty()) {
    report_.passed++;
  } else {
    Fail(cmd.line, cmd.expr, std::move(err));
  }
}

bool Matches(const Expect& e, const std::string& msg) {
  switch (e.match) {
    case Expect::kAny:
      return true;
    case Expect::kMsg:
      return msg == e.text;
    case Expect::kRegex:
      return re2::RE2::PartialMatch(msg, e.text);
  }
  return false;
}

std::string ScriptRun::Check(const EvalCmd& cmd, const Result<QueryResult>& r) const {
  if (!r.ok()) {
    if (!cmd.fail) return "unexpected error: " + MessageOf(r.status());
    for (const Expect& e : cmd.expects) {
      if (e.type == Expect::kFail && !Matches(e, MessageOf(r.status()))) {
        return "expected error " + e.text + ", got: " + MessageOf(r.status());
      }
    }
    return "";
  }
  if (cmd.fail) return "expected an error, got a result";
  std::string err = CheckAnnotations(cmd, *r);
  if (!err.empty()) return err;
  const QueryResult& q = *r;
  if (cmd.range) {
    if (!q.IsMatrix()) return "range query did not return a matrix";
    return CompareMatrix(cmd, std::get<MatrixValue>(q.value), cmd.start, cmd.end, cmd.step);
  }
  if (cmd.str) {
    if (!q.IsString()) return "expected string \"" + *cmd.str + "\", got another type";
    const std::string& got = std::get<StringValue>(q.value).value;
    return got == *cmd.str ? "" : "expected string \"" + *cmd.str + "\", got \"" + got + "\"";
  }
  if (cmd.range_vector) {
    if (!q.IsMatrix()) return "expected a range vector";
    return CompareMatrix(cmd, std::get<MatrixValue>(q.value), cmd.rv_start, cmd.rv_end,
                         cmd.rv_step);
  }
  if (q.IsMatrix()) return "unexpected range vector result (no `expect range vector`)";
  if (q.IsString()) return "unexpected string result";
  if (q.IsScalar()) {
    if (!cmd.scalar)
      return "unexpected scalar result " + Num(std::get<ScalarValue>(q.value).point.v);
    const double got = std::get<ScalarValue>(q.value).point.v;
    return AlmostEqual(got, *cmd.scalar)
               ? ""
               : "expected scalar " + Num(*cmd.scalar) + ", got " + Num(got);
  }
  if (cmd.scalar) return "expected scalar " + Num(*cmd.scalar) + ", got a vector";
  return CompareVector(cmd, std::get<VectorValue>(q.value));
}

std::string ScriptRun::CheckAnnotations(const EvalCmd& cmd, const QueryResult& r) const {
  for (AnnotationKind kind : {AnnotationKind::kWarning, AnnotationKind::kInfo}) {
    const Expect::Type want = kind == AnnotationKind::kWarning ? Expect::kWarn : Expect::kInfo;
    const Expect::Type none = kind == AnnotationKind::kWarning ? Expect::kNoWarn : Expect::kNoInfo;
    const char* what = kind == AnnotationKind::kWarning ? "warning" : "info";
    std::vector<const std::string*> got;
    for (const Annotation& a : r.annotations) {
      if (a.kind == kind) got.push_back(&a.message);
    }
    bool any_expect = false;
    for (const Expect& e : cmd.expects) {
      if (e.type == none && !got.empty()) {
        return std::string("expected no ") + what + ", got: " + *got[0];
      }
      if (e.type != want) continue;
      any_expect = true;
      bool found = false;
      for (const std::string* m : got) found = found || Matches(e, *m);
      if (!found) {
        return std::string("expected ") + what + (e.text.empty() ? "" : " \"" + e.text + "\"") +
               ", got " + (got.empty() ? "none" : "\"" + *got[0] + "\"");
      }
    }
    if (!any_expect) continue;
    for (const std::string* m : got) {
      bool matched = false;
      for (const Expect& e : cmd.expects) matched = matched || (e.type == want && Matches(e, *m));
      if (!matched) return std::string("unexpected ") + what + ": " + *m;
    }
  }
  return "";
}

std::string ScriptRun::CompareVector(const EvalCmd& cmd, const VectorValue& v) const {
  if (v.size() != cmd.series.size()) {
    std::string got;
    for (const Sample& s : v) got += "\n      " + s.labels.ToString() + " " + Num(s.point.v);
    return "expected " + std::to_string(cmd.series.size()) + " series, got " +
           std::to_string(v.size()) + ":" + got;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const Sample& s = v[i];
    const ExpectedSeries* e = nullptr;
    for (const ExpectedSeries& x : cmd.series) {
      if (x.labels == s.labels) e = &x;
    }
    if (e == nullptr) return "unexpected series " + s.labels.ToString() + " " + Num(s.point.v);
    if (cmd.ordered && !(cmd.series[i].labels == s.labels)) {
      return "expected " + cmd.series[i].labels.ToString() + " at position " +
             std::to_string(i + 1) + ", got " + s.labels.ToString();
    }
    if (e->values.empty() || e->values[0].kind != SeqValue::kFloat) {
      return "expected series " + e->labels.ToString() + " has no value";
    }
    if (!AlmostEqual(s.point.v, e->values[0].v)) {
      return "series " + s.labels.ToString() + ": expected " + Num(e->values[0].v) + ", got " +
             Num(s.point.v);
    }
  }
  return "";
}

std::string ScriptRun::CompareMatrix(const EvalCmd& cmd, const MatrixValue& m, int64_t start,
                                     int64_t end, int64_t step) const {
  if (cmd.ordered) return "expected ordered result, but the query returned a matrix";
  std::vector<bool> seen(cmd.series.size());
  for (const Series& s : m) {
    size_t idx = cmd.series.size();
    for (size_t k = 0; k < cmd.series.size(); ++k) {
      if (cmd.series[k].labels == s.labels) idx = k;
    }
    std::string got;
    for (const Point& p : s.points) got += " " + Num(p.v) + "@" + std::to_string(p.t);
    if (idx == cmd.series.size()) return "unexpected series " + s.labels.ToString() + got;
    seen[idx] = true;
    std::vector<Point> want;
    const auto& vals = cmd.series[idx].values;
    for (size_t k = 0; k < vals.size(); ++k) {
      const int64_t t = start + static_cast<int64_t>(k) * step;
      if (t > end) return "more expected points than the range has";
      if (vals[k].kind == SeqValue::kFloat) want.push_back({t, vals[k].v});
    }
    std::string exp;
    for (const Point& p : want) exp += " " + Num(p.v) + "@" + std::to_string(p.t);
    if (want.size() != s.points.size()) {
      return "series " + s.labels.ToString() + ": expected" + exp + ", got" + got;
    }
    for (size_t k = 0; k < want.size(); ++k) {
      if (want[k].t != s.points[k].t || !AlmostEqual(want[k].v, s.points[k].v)) {
        return "series " + s.labels.ToString() + ": expected" + exp + ", got" + got;
      }
    }
  }
  for (size_t k = 0; k < seen.size(); ++k) {
    if (!seen[k]) return "expected series " + cmd.series[k].labels.ToString() + " not found";
  }
  return "";
}

// Prometheus runs every instant eval also as a range query from t-1m to t+1m and expects the
// same samples at t.
std::string ScriptRun::RangeModeCheck(const EvalCmd& cmd, const QueryResult& instant) {
  if (cmd.ordered || !(instant.IsVector() || instant.IsScalar())) return "";
  // step(), range(), start() and end() depend on the query range by definition.
  for (std::string_view fn : {"step()", "range()", "start()", "end()"}) {
    if (cmd.expr.find(fn) != std::string::npos) return "";
  }
  Result<QueryResult> r =
      engine_.RangeQuery(storage_, cmd.expr, cmd.start - 60000, cmd.start + 60000, 60000);
  if (!r.ok()) return "range-mode check: unexpected error: " + MessageOf(r.status());
  VectorValue vec;
  for (const Series& s : std::get<MatrixValue>(r->value)) {
    for (const Point& p : s.points) {
      if (p.t == cmd.start) vec.push_back({s.labels, p});
    }
  }
  if (instant.IsScalar()) {
    const double want = std::get<ScalarValue>(instant.value).point.v;
    if (vec.size() != 1 || !AlmostEqual(vec[0].point.v, want)) {
      return "range-mode check: scalar differs";
    }
    return "";
  }
  EvalCmd copy;
  copy.ordered = false;
  for (const Sample& s : std::get<VectorValue>(instant.value)) {
    copy.series.push_back({s.labels, {SeqValue{SeqValue::kFloat, s.point.v}}});
  }
  std::string err = CompareVector(copy, vec);
  return err.empty() ? "" : "range-mode check (range query around t differs): " + err;
}

}  // namespace

ScriptReport RunScript(std::string_view name, std::string_view text, const RunnerOptions& options) {
  ScriptRun run(name, options);
  return run.Run(text);
}

Result<ScriptReport> RunScriptFile(const std::string& path, const RunnerOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string name = path.substr(path.find_last_of('/') + 1);
  return RunScript(name, ss.str(), options);
}

}  // namespace vigil::query::promqltest
