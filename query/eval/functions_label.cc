// label_replace and label_join. Both keep the metric name pending removal unless they write
// __name__ themselves, and merge series that end up with the same labels.

#include <re2/re2.h>

#include <string_view>
#include <unordered_set>

#include "query/eval/functions.h"
#include "query/parser/text.h"

namespace vigil::query::eval {
namespace {

bool ValidLabelName(std::string_view s) { return !s.empty() && detail::IsValidUtf8(s); }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$.
std::string Expand(const re2::RE2& re, std::string_view repl,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  size_t i = 0;
  while (i < repl.size()) {
    char ch = repl[i];
    if (ch != '$' || i + 1 >= repl.size()) {
      out.push_back(ch);
      ++i;
      continue;
    }
    if (repl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    std::string_view name;
    size_t next;
    if (repl[i + 1] == '{') {
      size_t close = repl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.push_back('$');
        ++i;
        continue;
      }
      name = repl.substr(i + 2, close - i - 2);
      bool ok = !name.empty();
      for (char c : name) ok = ok && IsNameChar(c);
      if (!ok) {
        out.push_back('$');
        ++i;
        continue;
      }
      next = close + 1;
    } else {
      size_t j = i + 1;
      while (j < repl.size() && IsNameChar(repl[j])) ++j;
      if (j == i + 1) {
        out.push_back('$');
        ++i;
        continue;
      }
      name = repl.substr(i + 1, j - i - 1);
      next = j;
    }
    bool numeric = true;
    for (char c : name) numeric = numeric && c >= '0' && c <= '9';
    int idx = -1;
    if (numeric) {
      if (name.size() < 9) idx = std::stoi(std::string(name));
    } else {
      auto it = named.find(std::string(name));
      if (it != named.end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size() && groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
    i = next;
  }
  return out;
}

}  // namespace

Result<VectorSteps> MergeSameLabels(VectorSteps in, size_t steps) {
  {
    // Usually every label set is distinct already: then there is nothing to merge, and the series
    // go out as they are (what the merge below would build, without copying each of them).
    std::unordered_set<std::string_view> seen;
    seen.reserve(in.series.size());
    bool distinct = true;
    for (const StepSeries& s : in.series) {
      if (!seen.insert(s.labels.Encoded()).second) {
        distinct = false;
        break;
      }
    }
    if (distinct) return in;
  }
  OutputBuilder ob(steps);
  for (StepSeries& s : in.series) {
    size_t idx = ob.Series(s.labels, s.drop_name);
    for (size_t i = 0; i < steps; ++i) {
      if (s.ok[i] && !ob.Set(idx, i, s.v[i])) {
        return Status::InvalidArgument(kDuplicateLabelsetError);
      }
    }
  }
  return ob.Finish();
}

Result<Value> EvalLabelReplace(Evaluator& ev, const Call& c) {
  const std::string& dst = StringArg(*c.args[1]);
  const std::string& repl = StringArg(*c.args[2]);
  const std::string& src = StringArg(*c.args[3]);
  const std::string& regex = StringArg(*c.args[4]);
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  re2::RE2 re("^(?:" + regex + ")$", opts);
  if (!re.ok()) {
    return Status::InvalidArgument("invalid regular expression in label_replace(): " + regex);
  }
  if (!ValidLabelName(dst)) {
    return Status::InvalidArgument("invalid destination label name in label_replace(): " + dst);
  }
  VIGIL_ASSIGN_OR_RETURN(VectorSteps in, ev.EvalVector(*c.args[0]));
  const int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(ngroups);
  storage::LabelsBuilder lb;
  for (StepSeries& s : in.series) {
    std::string_view v = s.labels.Get(src);
    if (!re.Match(re2::StringPiece(v.data(), v.size()), 0, v.size(), re2::RE2::UNANCHORED,
                  groups.data(), ngroups)) {
      continue;
    }
    std::string res = Expand(re, repl, groups);
    lb.Reset(s.labels);
    lb.Set(dst, res);
    VIGIL_ASSIGN_OR_RETURN(s.labels, lb.Build());
    if (dst == storage::kMetricNameLabel) s.drop_name = false;
  }
  VIGIL_ASSIGN_OR_RETURN(VectorSteps out, MergeSameLabels(std::move(in), ev.range().n));
  return Value(std::move(out));
}

Result<Value> EvalLabelJoin(Evaluator& ev, const Call& c) {
  const std::string& dst = StringArg(*c.args[1]);
  const std::string& sep = StringArg(*c.args[2]);
  std::vector<std::string> srcs;
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string& src = StringArg(*c.args[i]);
    if (!ValidLabelName(src)) {
      return Status::InvalidArgument("invalid source label name in label_join(): " + src);
    }
    srcs.push_back(src);
  }
  if (!ValidLabelName(dst)) {
    return Status::InvalidArgument("invalid destination label name in label_join(): " + dst);
  }
  VIGIL_ASSIGN_OR_RETURN(VectorSteps in, ev.EvalVector(*c.args[0]));
  storage::LabelsBuilder lb;
  for (StepSeries& s : in.series) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined += sep;
      joined.append(s.labels.Get(srcs[i]));
    }
    lb.Reset(s.labels);
    lb.Set(dst, joined);
    VIGIL_ASSIGN_OR_RETURN(s.labels, lb.Build());
    if (dst == storage::kMetricNameLabel) s.drop_name = false;
  }
  VIGIL_ASSIGN_OR_RETURN(VectorSteps out, MergeSameLabels(std::move(in), ev.range().n));
  return Value(std::move(out));
}

}  // namespace vigil::query::eval
