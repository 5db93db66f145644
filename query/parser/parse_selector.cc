// Vector selectors, label matchers and grouping label lists.

#include <re2/re2.h>

#include <utility>

#include "query/parser/parser.h"
#include "query/parser/text.h"

namespace vigil::query::detail {
namespace {

// Go's regexp/syntax wording for RE2's error codes.
std::string RegexErrorText(const RE2& re) {
  const char* what = nullptr;
  switch (re.error_code()) {
    case RE2::ErrorMissingParen: what = "missing closing )"; break;
    case RE2::ErrorUnexpectedParen: what = "unexpected )"; break;
    case RE2::ErrorMissingBracket: what = "missing closing ]"; break;
    case RE2::ErrorRepeatArgument: what = "missing argument to repetition operator"; break;
    case RE2::ErrorRepeatSize: what = "invalid repeat count"; break;
    case RE2::ErrorRepeatOp: what = "invalid nested repetition operator"; break;
    case RE2::ErrorBadEscape: what = "invalid escape sequence"; break;
    case RE2::ErrorBadCharClass: what = "invalid character class"; break;
    case RE2::ErrorBadCharRange: what = "invalid character class range"; break;
    case RE2::ErrorBadPerlOp: what = "invalid or unsupported Perl syntax"; break;
    case RE2::ErrorBadUTF8: what = "invalid UTF-8"; break;
    case RE2::ErrorBadNamedCapture: what = "invalid named capture"; break;
    case RE2::ErrorTrailingBackslash: what = "trailing backslash at end of expression"; break;
    default: break;
  }
  if (what == nullptr) return "error parsing regexp: " + re.error();
  return std::string("error parsing regexp: ") + what + ": `" + re.error_arg() + "`";
}

}  // namespace

bool Parser::AddMatcher(VectorSelector* vs, MatchType type, std::string name, std::string value,
                        PosRange span) {
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);  // Prometheus compiles with (?s)
    RE2 re("^(?:" + value + ")$", opts);
    if (!re.ok()) {
      RE2 bare(value, opts);  // for an error that quotes the user's text, not our anchors
      Fail(span, RegexErrorText(bare.ok() ? re : bare));
      return false;
    }
  }
  vs->matchers.push_back({type, std::move(name), std::move(value)});
  return true;
}

ExprPtr Parser::ParseVectorSelector() {
  auto vs = std::make_unique<VectorSelector>();
  vs->type = ValueType::kVector;
  const Token& first = Peek();
  vs->span = {first.pos, first.pos + first.len};
  if (first.kind == Tok::kIdentifier || first.kind == Tok::kMetricIdentifier) {
    vs->name = std::string(Consume().text);
  }
  if (PeekIs(Tok::kLeftBrace)) {
    if (!ParseLabelMatchers(vs.get())) return nullptr;
    vs->span.end = last_end();
  }
  if (!vs->name.empty()) {
    vs->matchers.push_back({MatchType::kEqual, "__name__", vs->name});
  }
  return vs;
}

bool Parser::ParseLabelMatchers(VectorSelector* vs) {
  Consume();  // {
  std::string quoted_name;
  bool has_quoted_name = false;
  PosRange quoted_span;
  while (!PeekIs(Tok::kRightBrace)) {
    const Token& t = Peek();
    if (t.kind != Tok::kIdentifier && t.kind != Tok::kString) {
      Unexpected("label matching", "identifier or \"}\"");
      return false;
    }
    Token name_tok = Consume();
    std::string name;
    if (name_tok.kind == Tok::kString) {
      if (!Unquote(name_tok.text, &name)) {
        Fail({name_tok.pos, name_tok.pos + name_tok.len},
             "error unquoting string " + Quoted(name_tok.text));
        return false;
      }
      if (PeekIs(Tok::kComma) || PeekIs(Tok::kRightBrace)) {
        // A lone quoted string is the metric name: {"metric.name", ...}.
        if (!vs->name.empty() || has_quoted_name) {
          Fail(vs->span, "metric name must not be set twice: " +
                             Quoted(vs->name.empty() ? quoted_name : vs->name) + " or " +
                             Quoted(name));
          return false;
        }
        quoted_name = std::move(name);
        has_quoted_name = true;
        quoted_span = {name_tok.pos, name_tok.pos + name_tok.len};
        if (PeekIs(Tok::kComma)) Consume();
        continue;
      }
    } else {
      name = std::string(name_tok.text);
    }
    MatchType type;
    switch (Peek().kind) {
      case Tok::kAssign: type = MatchType::kEqual; break;
      case Tok::kNeq: type = MatchType::kNotEqual; break;
      case Tok::kEqlRegex: type = MatchType::kRegexMatch; break;
      case Tok::kNeqRegex: type = MatchType::kRegexNoMatch; break;
      default:
        Unexpected("label matching", "label matching operator");
        return false;
    }
    Consume();
    if (!PeekIs(Tok::kString)) {
      Unexpected("label matching", "string");
      return false;
    }
    Token value_tok = Consume();
    std::string value;
    if (!Unquote(value_tok.text, &value)) {
      Fail({value_tok.pos, value_tok.pos + value_tok.len},
           "error unquoting string " + Quoted(value_tok.text));
      return false;
    }
    if (!AddMatcher(vs, type, std::move(name), std::move(value),
                    {name_tok.pos, value_tok.pos + value_tok.len})) {
      return false;
    }
    if (PeekIs(Tok::kComma)) {
      Consume();
    } else if (!PeekIs(Tok::kRightBrace)) {
      Unexpected("label matching", "\",\" or \"}\"");
      return false;
    }
  }
  Consume();  // }
  if (has_quoted_name) {
    if (!vs->name.empty()) {
      Fail({vs->span.start, last_end()}, "metric name must not be set twice: " +
                                             Quoted(vs->name) + " or " + Quoted(quoted_name));
      return false;
    }
    // Kept last, like a name written outside the braces, so both spellings give one tree.
    vs->name = std::move(quoted_name);
  }
  return true;
}

bool Parser::ParseGroupingLabels(std::vector<std::string>* labels) {
  if (!PeekIs(Tok::kLeftParen)) {
    Unexpected("grouping opts", "\"(\"");
    return false;
  }
  Consume();
  labels->clear();
  while (!PeekIs(Tok::kRightParen)) {
    const Token& t = Peek();
    if (t.kind == Tok::kIdentifier) {
      labels->emplace_back(Consume().text);
    } else if (t.kind == Tok::kString) {
      Token s = Consume();
      std::string name;
      if (!Unquote(s.text, &name)) {
        Fail({s.pos, s.pos + s.len}, "error unquoting string " + Quoted(s.text));
        return false;
      }
      labels->push_back(std::move(name));
    } else {
      Unexpected("grouping opts", "label");
      return false;
    }
    if (PeekIs(Tok::kComma)) {
      Consume();
    } else if (!PeekIs(Tok::kRightParen)) {
      Unexpected("grouping opts", "\",\" or \")\"");
      return false;
    }
  }
  Consume();
  return true;
}

}  // namespace vigil::query::detail
