#include "query/promqltest/script.h"

#include <cmath>
#include <limits>
#include <optional>

#include "query/parser.h"
#include "query/promqltest/values.h"

namespace vigil::query::promqltest {
namespace {

constexpr double kEpsilon = 1e-6;
constexpr double kMinNormal = 2.2250738585072014e-308;

}  // namespace

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double abs_sum = std::fabs(a) + std::fabs(b);
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < kEpsilon;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    size_t a = l.find_first_not_of(" \t\r");
    size_t b = l.find_last_not_of(" \t\r");
    std::string t = a == std::string_view::npos ? "" : std::string(l.substr(a, b - a + 1));
    if (!t.empty() && t[0] == '#') t.clear();
    out.push_back(std::move(t));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t st = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > st) out.push_back(s.substr(st, i - st));
  }
  return out;
}

Result<int64_t> ParseTime(std::string_view s) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  VIGIL_ASSIGN_OR_RETURN(int64_t v, ParseDuration(s));
  return neg ? -v : v;
}

// The rest of `line` after skipping `n` whitespace-separated fields.
std::string_view AfterFields(std::string_view line, size_t n) {
  size_t i = 0;
  for (size_t k = 0; k < n; ++k) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  }
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  return line.substr(i);
}

Result<storage::Labels> SeriesLabels(std::string_view desc) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<LabelPair> pairs, ParseSeriesDescription(desc));
  storage::LabelsBuilder b;
  for (const LabelPair& p : pairs) b.Add(p.name, p.value);
  return b.Build();
}

namespace {

Status ParseExpectLine(std::string_view l, EvalCmd* cmd) {
  std::string_view rest = AfterFields(l, 1);
  std::vector<std::string_view> f = Fields(rest);
  if (f.empty()) return Status::InvalidArgument("empty expect line");
  std::string_view type = f[0];
  if (type == "range" && f.size() >= 8 && f[1] == "vector") {
    cmd->range_vector = true;
    VIGIL_ASSIGN_OR_RETURN(cmd->rv_start, ParseTime(f[3]));
    VIGIL_ASSIGN_OR_RETURN(cmd->rv_end, ParseTime(f[5]));
    VIGIL_ASSIGN_OR_RETURN(cmd->rv_step, ParseTime(f[7]));
    return Status::OK();
  }
  if (type == "string") {
    std::string_view q = AfterFields(rest, 1);
    std::string s;
    if (q.size() >= 2 && (q[0] == '"' || q[0] == '`' || q[0] == '\'') && q.back() == q[0]) {
      auto e = ParseExpr(q);
      if (e.ok() && (*e)->kind == ExprKind::kStringLiteral) {
        s = (*e)->As<StringLiteral>().value;
      } else {
        s = std::string(q.substr(1, q.size() - 2));
      }
    } else {
      s = std::string(q);
    }
    cmd->str = std::move(s);
    return Status::OK();
  }
  Expect e;
  if (type == "fail")
    e.type = Expect::kFail;
  else if (type == "warn")
    e.type = Expect::kWarn;
  else if (type == "info")
    e.type = Expect::kInfo;
  else if (type == "no_warn")
    e.type = Expect::kNoWarn;
  else if (type == "no_info")
    e.type = Expect::kNoInfo;
  else if (type == "ordered")
    e.type = Expect::kOrdered;
  else
    return Status::InvalidArgument("unknown expect type " + std::string(type));
  std::string_view after = AfterFields(rest, 1);
  if (!after.empty()) {
    size_t colon = after.find(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("bad expect line");
    std::string_view mt = after.substr(0, colon);
    while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
    std::string_view text = after.substr(colon + 1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (mt == "msg")
      e.match = Expect::kMsg;
    else if (mt == "regex")
      e.match = Expect::kRegex;
    else
      return Status::InvalidArgument("bad expect match type " + std::string(mt));
    e.text = std::string(text);
  }
  if (e.type == Expect::kFail) cmd->fail = true;
  if (e.type == Expect::kOrdered) cmd->ordered = true;
  cmd->expects.push_back(std::move(e));
  return Status::OK();
}

}  // namespace

Status ParseEvalHeader(std::string_view l, EvalCmd* cmd) {
  std::vector<std::string_view> f = Fields(l);
  std::string_view verb = f[0];
  if (verb == "eval_fail") {
    cmd->fail = true;
    cmd->expects.push_back({Expect::kFail, Expect::kAny, ""});
  } else if (verb == "eval_warn") {
    cmd->expects.push_back({Expect::kWarn, Expect::kAny, ""});
  } else if (verb == "eval_info") {
    cmd->expects.push_back({Expect::kInfo, Expect::kAny, ""});
  } else if (verb == "eval_ordered") {
    cmd->ordered = true;
  } else if (verb != "eval") {
    return Status::InvalidArgument("unknown command " + std::string(verb));
  }
  if (f.size() < 3) return Status::InvalidArgument("incomplete eval command");
  if (f[1] == "instant") {
    size_t skip = 2;
    if (f[2] == "at") {
      if (f.size() < 5) return Status::InvalidArgument("incomplete eval command");
      VIGIL_ASSIGN_OR_RETURN(cmd->start, ParseTime(f[3]));
      skip = 4;
    }
    cmd->end = cmd->start;
    cmd->expr = std::string(AfterFields(l, skip));
    return Status::OK();
  }
  if (f[1] == "range" && f.size() >= 9 && f[2] == "from" && f[4] == "to" && f[6] == "step") {
    cmd->range = true;
    VIGIL_ASSIGN_OR_RETURN(cmd->start, ParseTime(f[3]));
    VIGIL_ASSIGN_OR_RETURN(cmd->end, ParseTime(f[5]));
    VIGIL_ASSIGN_OR_RETURN(cmd->step, ParseTime(f[7]));
    cmd->expr = std::string(AfterFields(l, 8));
    return Status::OK();
  }
  return Status::InvalidArgument("malformed eval command");
}

Status ParseResultLine(std::string_view l, EvalCmd* cmd) {
  if (l.rfind("expected_fail_message", 0) == 0) {
    cmd->fail = true;
    cmd->expects.push_back({Expect::kFail, Expect::kMsg, std::string(AfterFields(l, 1))});
    return Status::OK();
  }
  if (l.rfind("expected_fail_regexp", 0) == 0) {
    cmd->fail = true;
    cmd->expects.push_back({Expect::kFail, Expect::kRegex, std::string(AfterFields(l, 1))});
    return Status::OK();
  }
  if (l.rfind("expect ", 0) == 0) return ParseExpectLine(l, cmd);
  if (auto v = ParseNumber(l)) {
    cmd->scalar = *v;
    return Status::OK();
  }
  std::string_view desc, vals;
  if (!SplitSeriesLine(l, &desc, &vals)) return Status::InvalidArgument("bad result line");
  ExpectedSeries es;
  VIGIL_ASSIGN_OR_RETURN(es.labels, SeriesLabels(desc));
  VIGIL_ASSIGN_OR_RETURN(es.values, ParseValues(vals));
  for (const SeqValue& v : es.values) {
    if (v.kind == SeqValue::kHistogram) cmd->native = true;
  }
  cmd->series.push_back(std::move(es));
  return Status::OK();
}

}  // namespace vigil::query::promqltest
