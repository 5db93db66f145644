#include "tools/vigil/completion.h"

#include <algorithm>
#include <set>

#include "query/functions.h"
#include "tools/vigil/api.h"

namespace vigil::shell {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

std::string_view RTrim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The identifier that ends `s` (after trailing spaces are removed).
std::string_view TrailingWord(std::string_view s) {
  s = RTrim(s);
  size_t i = s.size();
  while (i > 0 && IsWordChar(s[i - 1])) --i;
  return s.substr(i);
}

bool IsLabelListKeyword(std::string_view w) {
  return w == "by" || w == "without" || w == "on" || w == "ignoring" || w == "group_left" ||
         w == "group_right";
}

// `before` ends with a matcher operator; returns the label name written before it.
std::string_view LabelBeforeOperator(std::string_view before) {
  before = RTrim(before);
  if (before.ends_with("=~") || before.ends_with("!~") || before.ends_with("!=")) {
    before.remove_suffix(2);
  } else if (before.ends_with("=")) {
    before.remove_suffix(1);
  } else {
    return {};
  }
  return TrailingWord(before);
}

bool EndsWithOperator(std::string_view before) {
  before = RTrim(before);
  return before.ends_with("=") || before.ends_with("=~") || before.ends_with("!~");
}

std::vector<std::string> FilterPrefix(const std::vector<std::string>& words,
                                      std::string_view prefix) {
  std::vector<std::string> out;
  for (const auto& w : words) {
    if (w.starts_with(prefix)) out.push_back(w);
  }
  return out;
}

void EscapeInto(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '"' || c == '\\') out->push_back('\\');
    if (c == '\n') {
      out->append("\\n");
      continue;
    }
    out->push_back(c);
  }
}

}  // namespace

CompletionContext AnalyzeCompletion(std::string_view text) {
  CompletionContext ctx;
  std::string_view trimmed = text;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
    trimmed.remove_prefix(1);
  }
  if (trimmed.starts_with("\\")) {
    size_t sp = trimmed.find(' ');
    if (sp == std::string_view::npos) {
      ctx.kind = CompletionKind::kMetaCommand;
      ctx.prefix = std::string(trimmed);
      return ctx;
    }
    std::string_view cmd = trimmed.substr(0, sp);
    std::string_view rest = trimmed.substr(sp + 1);
    if (cmd == "\\series") return AnalyzeCompletion(rest);
    if (cmd == "\\format") {
      ctx.kind = CompletionKind::kFormat;
      ctx.prefix = std::string(TrailingWord(rest));
    } else if (cmd == "\\labels" || cmd == "\\metrics") {
      ctx.kind = CompletionKind::kMetric;
      ctx.prefix = std::string(TrailingWord(rest));
    }
    return ctx;
  }

  struct Open {
    char c;
    std::string metric;
    bool label_list;
  };
  std::vector<Open> stack;
  char quote = 0;
  size_t quote_start = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (comment) {
      if (c == '\n') comment = false;
      continue;
    }
    if (quote != 0) {
      if (c == '\\' && quote != '`') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    switch (c) {
      case '"':
      case '\'':
      case '`':
        quote = c;
        quote_start = i;
        break;
      case '#':
        comment = true;
        break;
      case '{':
        stack.push_back({'{', std::string(TrailingWord(text.substr(0, i))), false});
        break;
      case '(':
        stack.push_back({'(', "", IsLabelListKeyword(TrailingWord(text.substr(0, i)))});
        break;
      case '[':
        stack.push_back({'[', "", false});
        break;
      case ')':
      case ']':
      case '}':
        if (!stack.empty()) stack.pop_back();
        break;
      default:
        break;
    }
  }
  if (comment) return ctx;
  if (quote != 0) {
    if (!stack.empty() && stack.back().c == '{') {
      std::string_view label = LabelBeforeOperator(text.substr(0, quote_start));
      if (!label.empty()) {
        ctx.kind = CompletionKind::kLabelValue;
        ctx.label = std::string(label);
        ctx.metric = stack.back().metric;
        ctx.prefix = std::string(text.substr(quote_start + 1));
        ctx.open_quote = true;
      }
    }
    return ctx;
  }
  size_t start = text.size();
  while (start > 0 && IsWordChar(text[start - 1])) --start;
  ctx.prefix = std::string(text.substr(start));
  std::string_view before = RTrim(text.substr(0, start));
  if (!stack.empty()) {
    const Open& top = stack.back();
    if (top.c == '{') {
      ctx.metric = top.metric;
      if (before.ends_with("{") || before.ends_with(",")) {
        ctx.kind = CompletionKind::kLabelName;
        ctx.in_selector = true;
      } else if (EndsWithOperator(before) && ctx.prefix.empty()) {
        ctx.kind = CompletionKind::kLabelValue;
        ctx.label = std::string(LabelBeforeOperator(before));
        if (ctx.label.empty()) ctx.kind = CompletionKind::kNone;
      }
      return ctx;
    }
    if (top.c == '(' && top.label_list) {
      if (before.ends_with("(") || before.ends_with(",")) ctx.kind = CompletionKind::kLabelName;
      return ctx;
    }
    if (top.c == '[') {
      ctx.kind = CompletionKind::kDuration;
      return ctx;
    }
  }
  if (!ctx.prefix.empty() && ctx.prefix[0] >= '0' && ctx.prefix[0] <= '9') return ctx;
  ctx.kind = CompletionKind::kExpression;
  return ctx;
}

const std::vector<std::string>& PromqlWords() {
  static const std::vector<std::string> words = [] {
    std::set<std::string> w = {
        "sum",    "min",          "max",     "avg",      "group",      "stddev",      "stdvar",
        "count",  "count_values", "bottomk", "topk",     "quantile",   "limitk",      "limit_ratio",
        "by",     "without",      "on",      "ignoring", "group_left", "group_right", "bool",
        "offset", "and",          "or",      "unless",   "atan2"};
    for (const auto& f : query::AllFunctions()) w.insert(std::string(f.name));
    return std::vector<std::string>(w.begin(), w.end());
  }();
  return words;
}

const std::vector<std::string>& MetaCommands() {
  static const std::vector<std::string> cmds = {"\\cq",     "\\format",  "\\help",
                                                "\\labels", "\\metrics", "\\quit",
                                                "\\range",  "\\series",  "\\status"};
  return cmds;
}

std::string LongestCommonPrefix(const std::vector<std::string>& words) {
  if (words.empty()) return {};
  std::string_view p = words[0];
  for (const auto& w : words) {
    size_t n = 0;
    while (n < p.size() && n < w.size() && p[n] == w[n]) ++n;
    p = p.substr(0, n);
  }
  return std::string(p);
}

Completion Complete(const CompletionContext& ctx, CompletionSource* source) {
  Completion c;
  std::vector<std::string> pool;
  auto add_from = [&](Result<std::vector<std::string>> r) {
    if (!r.ok()) {
      c.status = r.status();
      return;
    }
    pool.insert(pool.end(), r->begin(), r->end());
  };
  std::string suffix;
  switch (ctx.kind) {
    case CompletionKind::kNone:
      return c;
    case CompletionKind::kMetaCommand:
      pool = MetaCommands();
      suffix = " ";
      break;
    case CompletionKind::kFormat:
      pool = {"chart", "csv", "json", "table"};
      break;
    case CompletionKind::kDuration:
      pool = {"1m", "5m", "15m", "30m", "1h", "6h", "1d", "7d"};
      break;
    case CompletionKind::kMetric:
      if (source != nullptr) add_from(source->MetricNames());
      break;
    case CompletionKind::kExpression:
      pool = PromqlWords();
      if (source != nullptr) add_from(source->MetricNames());
      break;
    case CompletionKind::kLabelName:
      if (source != nullptr) add_from(source->LabelNames(ctx.metric));
      pool.erase(std::remove(pool.begin(), pool.end(), "__name__"), pool.end());
      if (ctx.in_selector) suffix = "=";
      break;
    case CompletionKind::kLabelValue:
      if (source != nullptr) add_from(source->LabelValues(ctx.label, ctx.metric));
      break;
  }
  std::sort(pool.begin(), pool.end());
  pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
  c.candidates = FilterPrefix(pool, ctx.prefix);
  if (c.candidates.empty()) return c;
  bool unique = c.candidates.size() == 1;
  std::string word = unique ? c.candidates[0] : LongestCommonPrefix(c.candidates);
  std::string rest = word.substr(ctx.prefix.size());
  if (ctx.kind == CompletionKind::kLabelValue) {
    if (!ctx.open_quote) c.insert = "\"";
    EscapeInto(rest, &c.insert);
    if (unique) c.insert += "\"";
    return c;
  }
  c.insert = rest;
  if (unique) {
    if (ctx.kind == CompletionKind::kExpression && query::LookupFunction(word) != nullptr) {
      c.insert += "(";
    } else {
      c.insert += suffix;
    }
  }
  return c;
}

template <typename Fetch>
Result<std::vector<std::string>> CachedCompletionSource::Cached(const std::string& key,
                                                                Fetch fetch) {
  auto now = std::chrono::steady_clock::now();
  auto it = cache_.find(key);
  if (it != cache_.end() && now - it->second.fetched < ttl_) return it->second.values;
  auto r = fetch();
  if (!r.ok()) return r.status();
  cache_[key] = Entry{now, *r};
  return r;
}

Result<std::vector<std::string>> CachedCompletionSource::MetricNames() {
  return Cached("m", [&] { return api_->LabelValues("__name__"); });
}

Result<std::vector<std::string>> CachedCompletionSource::LabelNames(std::string_view metric) {
  return Cached("n" + std::string(metric), [&] { return api_->LabelNames(metric); });
}

Result<std::vector<std::string>> CachedCompletionSource::LabelValues(std::string_view label,
                                                                     std::string_view metric) {
  return Cached("v" + std::string(label) + "\x01" + std::string(metric),
                [&] { return api_->LabelValues(label, metric); });
}

}  // namespace vigil::shell
