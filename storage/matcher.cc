#include "storage/matcher.h"

#include <re2/re2.h>

#include <algorithm>

#include "storage/labels/quote.h"
#include "storage/labels/regex_shape.h"

namespace vigil::storage {

namespace {

// Above this size a literal set is searched by bisection instead of a linear scan.
constexpr size_t kLinearSetMax = 8;

thread_local uint64_t regex_engine_matches = 0;

RE2::Options RegexOptions() {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);  // `.` matches newline, as Prometheus' (?s)
  return opts;
}

}  // namespace

std::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

Result<Matcher> Matcher::Make(MatchType type, std::string_view name, std::string_view value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::string(name);
  m.value_ = std::string(value);
  if (m.IsRegex()) {
    // Matched with ANCHOR_BOTH, which is RE2's full match: the same language as `^(?:re)$`
    // without a second compile, and `a)|(b` stays an error instead of becoming valid by wrapping.
    auto re = std::make_shared<RE2>(value, RegexOptions());
    if (!re->ok()) {
      return Status::InvalidArgument("invalid regular expression in matcher " + m.ToString() + ": " +
                                     re->error());
    }
    detail::RegexAnalysis analysis = detail::AnalyzeRegex(value);
    m.shape_ = analysis.shape;
    m.set_ = std::move(analysis.literals);
    m.prefix_ = std::move(analysis.prefix);
    if (m.shape_ == RegexShape::kGeneral) m.re_ = std::move(re);
  }
  m.matches_empty_ = m.Matches(std::string_view());
  return m;
}

bool Matcher::RegexMatches(std::string_view v) const {
  switch (shape_) {
    case RegexShape::kAny:
      return true;
    case RegexShape::kNonEmpty:
      return !v.empty();
    case RegexShape::kPrefix:
      return v.starts_with(prefix_);
    case RegexShape::kLiteralSet:
      if (set_.size() <= kLinearSetMax) {
        return std::find(set_.begin(), set_.end(), v) != set_.end();
      }
      return std::binary_search(set_.begin(), set_.end(), v);
    case RegexShape::kGeneral:
      break;
  }
  ++regex_engine_matches;
  return re_->Match(re2::StringPiece(v.data(), v.size()), 0, v.size(), RE2::ANCHOR_BOTH, nullptr, 0);
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual: return v == value_;
    case MatchType::kNotEqual: return v != value_;
    case MatchType::kRegexMatch: return RegexMatches(v);
    case MatchType::kRegexNoMatch: return !RegexMatches(v);
  }
  return false;
}

uint64_t RegexEngineMatchesOnThisThread() { return regex_engine_matches; }

std::string Matcher::ToString() const {
  std::string out;
  if (IsValidLabelName(name_)) {
    out = name_;
  } else {
    detail::AppendQuoted(name_, &out);
  }
  out.append(MatchTypeString(type_));
  detail::AppendQuoted(value_, &out);
  return out;
}

}  // namespace vigil::storage
