#include "query/parser/lexer.h"

#include <array>
#include <utility>

#include "query/parser/text.h"

namespace vigil::query::detail {
namespace {

bool IsAlpha(int c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsAlnum(int c) { return IsAlpha(c) || IsDigit(c); }
bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct KeywordEntry {
  std::string_view word;
  Keyword kw;
};

constexpr auto kKeywords = std::to_array<KeywordEntry>({
    {"and", Keyword::kAnd},           {"or", Keyword::kOr},
    {"unless", Keyword::kUnless},     {"atan2", Keyword::kAtan2},
    {"sum", Keyword::kSum},           {"avg", Keyword::kAvg},
    {"count", Keyword::kCount},       {"min", Keyword::kMin},
    {"max", Keyword::kMax},           {"group", Keyword::kGroup},
    {"stddev", Keyword::kStddev},     {"stdvar", Keyword::kStdvar},
    {"topk", Keyword::kTopK},         {"bottomk", Keyword::kBottomK},
    {"quantile", Keyword::kQuantile}, {"count_values", Keyword::kCountValues},
    {"limitk", Keyword::kLimitK},     {"limit_ratio", Keyword::kLimitRatio},
    {"offset", Keyword::kOffset},     {"smoothed", Keyword::kSmoothed},
    {"anchored", Keyword::kAnchored}, {"by", Keyword::kBy},
    {"without", Keyword::kWithout},   {"on", Keyword::kOn},
    {"ignoring", Keyword::kIgnoring}, {"group_left", Keyword::kGroupLeft},
    {"group_right", Keyword::kGroupRight}, {"fill", Keyword::kFill},
    {"fill_left", Keyword::kFillLeft}, {"fill_right", Keyword::kFillRight},
    {"bool", Keyword::kBool},         {"start", Keyword::kStart},
    {"end", Keyword::kEnd},           {"step", Keyword::kStep},
    {"range", Keyword::kRange},
});

bool EqualsLower(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

Keyword LookupKeyword(std::string_view word) {
  if (word.size() < 2 || word.size() > 12) return Keyword::kNone;
  for (const auto& e : kKeywords) {
    if (EqualsLower(word, e.word)) return e.kw;
  }
  return Keyword::kNone;
}

}  // namespace

bool IsAggregatorKeyword(Keyword k) { return k >= Keyword::kSum && k <= Keyword::kLimitRatio; }

Token Lexer::Make(Tok kind, size_t start) {
  Token t;
  t.kind = kind;
  t.pos = static_cast<uint32_t>(start);
  t.len = static_cast<uint32_t>(pos_ - start);
  t.text = input_.substr(start, pos_ - start);
  return t;
}

Token Lexer::Error(size_t start, std::string message) {
  error_ = std::move(message);
  Token t;
  t.kind = Tok::kError;
  t.pos = static_cast<uint32_t>(start);
  t.len = static_cast<uint32_t>(input_.size() - start);
  t.text = error_;
  done_ = true;
  return t;
}

bool Lexer::Accept(std::string_view valid) {
  int c = Peek();
  if (c >= 0 && valid.find(static_cast<char>(c)) != std::string_view::npos) {
    ++pos_;
    return true;
  }
  return false;
}

bool Lexer::SkipSpaceAndComments(bool comments) {
  bool any = false;
  while (pos_ < input_.size()) {
    if (IsSpace(Peek())) {
      ++pos_;
    } else if (comments && Peek() == '#') {
      while (pos_ < input_.size() && input_[pos_] != '\n' && input_[pos_] != '\r') ++pos_;
    } else {
      break;
    }
    any = true;
  }
  return any;
}

Token Lexer::Next() {
  if (done_) return last_;
  Token t;
  if (brace_open_) {
    t = LexInsideBraces();
  } else if (bracket_open_) {
    t = LexInsideBrackets();
  } else {
    t = LexStatement();
  }
  if (t.kind == Tok::kEOF || t.kind == Tok::kError) {
    done_ = true;
    last_ = t;
  }
  return t;
}

Token Lexer::LexStatement() {
  SkipSpaceAndComments(true);
  size_t start = pos_;
  int r = Peek();
  if (r < 0) {
    if (paren_depth_ != 0) return Error(start, "unclosed left parenthesis");
    return Make(Tok::kEOF, start);
  }
  ++pos_;
  switch (r) {
    case ',': return Make(Tok::kComma, start);
    case '*': return Make(Tok::kMul, start);
    case '/': return Make(Tok::kDiv, start);
    case '%': return Make(Tok::kMod, start);
    case '+': return Make(Tok::kAdd, start);
    case '-': return Make(Tok::kSub, start);
    case '^': return Make(Tok::kPow, start);
    case '@': return Make(Tok::kAt, start);
    case '=':
      if (Peek() == '=') {
        ++pos_;
        return Make(Tok::kEqlC, start);
      }
      if (Peek() == '~') return Error(start, "unexpected character after '=': '~'");
      return Make(Tok::kAssign, start);
    case '!':
      if (Peek() != '=') {
        char32_t cp = 0;
        if (pos_ < input_.size()) DecodeUtf8(input_, pos_, &cp);
        return Error(start, "unexpected character after '!': " + QuoteRune(cp));
      }
      ++pos_;
      return Make(Tok::kNeq, start);
    case '<':
      if (Accept("=")) return Make(Tok::kLte, start);
      if (Accept("/")) return Make(Tok::kTrimUpper, start);
      return Make(Tok::kLss, start);
    case '>':
      if (Accept("=")) return Make(Tok::kGte, start);
      if (Accept("/")) return Make(Tok::kTrimLower, start);
      return Make(Tok::kGtr, start);
    case '"':
    case '\'':
    case '`':
      return LexString(start, static_cast<char>(r));
    case '(':
      ++paren_depth_;
      return Make(Tok::kLeftParen, start);
    case ')':
      if (--paren_depth_ < 0) return Error(start, "unexpected right parenthesis ')'");
      return Make(Tok::kRightParen, start);
    case '{':
      brace_open_ = true;
      return Make(Tok::kLeftBrace, start);
    case '}':
      return Error(start, "unexpected right brace '}'");
    case '[':
      bracket_open_ = true;
      return Make(Tok::kLeftBracket, start);
    case ']':
      return Error(start, "unexpected right bracket ']'");
    default:
      break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    pos_ = start;
    return LexNumberOrDuration(start);
  }
  if (IsAlpha(r) || r == ':') {
    pos_ = start;
    return LexWord(start, true);
  }
  char32_t cp;
  pos_ = start;
  int n = DecodeUtf8(input_, start, &cp);
  return Error(start, "unexpected character: " + QuoteRune(n == 0 ? 0xFFFD : cp));
}

Token Lexer::LexInsideBraces() {
  SkipSpaceAndComments(true);
  size_t start = pos_;
  int r = Peek();
  if (r < 0) return Error(start, "unexpected end of input inside braces");
  ++pos_;
  switch (r) {
    case ',': return Make(Tok::kComma, start);
    case '"':
    case '\'':
    case '`':
      return LexString(start, static_cast<char>(r));
    case '=':
      if (Accept("~")) return Make(Tok::kEqlRegex, start);
      return Make(Tok::kAssign, start);
    case '!':
      if (Accept("~")) return Make(Tok::kNeqRegex, start);
      if (Accept("=")) return Make(Tok::kNeq, start);
      {
        char32_t cp = 0;
        if (pos_ < input_.size()) DecodeUtf8(input_, pos_, &cp);
        return Error(start, "unexpected character after '!' inside braces: " + QuoteRune(cp));
      }
    case '{': return Error(start, "unexpected left brace '{'");
    case '}':
      brace_open_ = false;
      return Make(Tok::kRightBrace, start);
    default:
      break;
  }
  if (IsAlpha(r)) {
    pos_ = start;
    return LexWord(start, false);
  }
  char32_t cp;
  pos_ = start;
  int n = DecodeUtf8(input_, start, &cp);
  return Error(start, "unexpected character inside braces: " + QuoteRune(n == 0 ? 0xFFFD : cp));
}

Token Lexer::LexInsideBrackets() {
  SkipSpaceAndComments(false);
  size_t start = pos_;
  int r = Peek();
  if (r < 0) return Error(start, "unexpected end of input in duration expression");
  ++pos_;
  switch (r) {
    case ']':
      bracket_open_ = false;
      return Make(Tok::kRightBracket, start);
    case ':': return Make(Tok::kColon, start);
    case ',': return Make(Tok::kComma, start);
    case '+': return Make(Tok::kAdd, start);
    case '-': return Make(Tok::kSub, start);
    case '*': return Make(Tok::kMul, start);
    case '/': return Make(Tok::kDiv, start);
    case '%': return Make(Tok::kMod, start);
    case '^': return Make(Tok::kPow, start);
    case '(':
      ++paren_depth_;
      return Make(Tok::kLeftParen, start);
    case ')':
      if (--paren_depth_ < 0) return Error(start, "unexpected right parenthesis ')'");
      return Make(Tok::kRightParen, start);
    default:
      break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    pos_ = start;
    return LexNumberOrDuration(start);
  }
  if (IsAlpha(r)) {
    // step(), range(), min_of(), max_of(); the parser rejects other words.
    while (IsAlpha(Peek())) ++pos_;
    Token t = Make(Tok::kIdentifier, start);
    t.keyword = LookupKeyword(t.text);
    return t;
  }
  char32_t cp;
  pos_ = start;
  int n = DecodeUtf8(input_, start, &cp);
  return Error(start, "unexpected character in duration expression: " +
                          QuoteRune(n == 0 ? 0xFFFD : cp));
}

bool Lexer::ScanNumber() {
  size_t initial = pos_;
  std::string_view digits = "0123456789";
  if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
    pos_ += 2;
    Accept("_");
    digits = "0123456789abcdefABCDEF";
  }
  const bool hex = digits.size() > 10;
  auto is = [&](std::string_view set) {
    int c = Peek();
    return c >= 0 && set.find(static_cast<char>(c)) != std::string_view::npos;
  };
  Accept(".");
  Accept(digits);
  bool dot = false;
  bool exponent = false;
  while (is(digits) || is("._") || (!hex && is("eE"))) {
    if (is(".")) {
      if (dot || hex) {
        ++pos_;
        return false;
      }
      ++pos_;
      dot = true;
      if (Accept("_.")) return false;
      continue;
    }
    if (!hex && is("eE")) {
      if (exponent) {
        ++pos_;
        return false;
      }
      ++pos_;
      exponent = true;
      Accept("+-");
      if (Accept("._eE") || Peek() < 0) return false;
      continue;
    }
    if (Accept("_")) {
      if (Accept("._eE") || Peek() < 0) return false;
      continue;
    }
    while (is(digits)) ++pos_;
  }
  if (pos_ == initial) return false;
  return !IsAlnum(Peek());
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");  // "ms"; bad units such as "hs" are caught by ParseDuration.
  while (Accept("0123456789")) {
    while (Accept("0123456789")) {
    }
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  if (IsAlnum(Peek())) {
    ++pos_;  // part of the bad text reported
    return false;
  }
  return true;
}

Token Lexer::LexNumberOrDuration(size_t start) {
  if (ScanNumber()) return Make(Tok::kNumber, start);
  if (AcceptRemainingDuration()) return Make(Tok::kDuration, start);
  std::string bad(input_.substr(start, pos_ - start));
  return Error(start, "bad number or duration syntax: " + Quoted(bad));
}

Token Lexer::LexWord(size_t start, bool keywords) {
  while (IsAlnum(Peek()) || (keywords && Peek() == ':')) ++pos_;
  std::string_view word = input_.substr(start, pos_ - start);
  bool colon = word.find(':') != std::string_view::npos;
  Token t = Make(colon ? Tok::kMetricIdentifier : Tok::kIdentifier, start);
  if (!keywords || colon) return t;
  if (EqualsLower(word, "inf") || EqualsLower(word, "nan")) {
    t.kind = Tok::kNumber;
    return t;
  }
  t.keyword = LookupKeyword(word);
  return t;
}

Token Lexer::LexString(size_t start, char quote) {
  if (quote == '`') {
    while (pos_ < input_.size() && input_[pos_] != '`') {
      char32_t cp;
      int n = DecodeUtf8(input_, pos_, &cp);
      if (n == 0) return Error(start, "invalid UTF-8 rune");
      pos_ += n;
    }
    if (pos_ >= input_.size()) return Error(start, "unterminated raw string");
    ++pos_;
    return Make(Tok::kString, start);
  }
  while (true) {
    if (pos_ >= input_.size()) return Error(start, "unterminated quoted string");
    char c = input_[pos_];
    if (c == '\n') return Error(start, "unterminated quoted string");
    if (c == quote) {
      ++pos_;
      return Make(Tok::kString, start);
    }
    if (c != '\\') {
      char32_t cp;
      int n = DecodeUtf8(input_, pos_, &cp);
      if (n == 0) return Error(start, "invalid UTF-8 rune");
      pos_ += n;
      continue;
    }
    ++pos_;
    if (pos_ >= input_.size()) return Error(start, "escape sequence not terminated");
    char e = input_[pos_++];
    int digits = 0;
    uint32_t base = 16;
    uint32_t max = 255;
    switch (e) {
      case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
        continue;
      case 'x': digits = 2; break;
      case 'u': digits = 4, max = 0x10FFFF; break;
      case 'U': digits = 8, max = 0x10FFFF; break;
      default:
        if (e == quote) continue;
        if (e >= '0' && e <= '7') {
          digits = 3, base = 8, --pos_;
          break;
        }
        {
          char32_t cp = static_cast<unsigned char>(e);
          DecodeUtf8(input_, pos_ - 1, &cp);
          return Error(start, "unknown escape sequence " + UnicodeRune(cp));
        }
    }
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (pos_ >= input_.size()) return Error(start, "escape sequence not terminated");
      int c2 = Peek();
      uint32_t d = 16;
      if (c2 >= '0' && c2 <= '9') d = c2 - '0';
      if (c2 >= 'a' && c2 <= 'f') d = c2 - 'a' + 10;
      if (c2 >= 'A' && c2 <= 'F') d = c2 - 'A' + 10;
      if (d >= base) {
        char32_t cp = static_cast<unsigned char>(c2);
        DecodeUtf8(input_, pos_, &cp);
        return Error(start, "illegal character " + UnicodeRune(cp) + " in escape sequence");
      }
      v = v * base + d;
      ++pos_;
    }
    if (v > max || (v >= 0xD800 && v < 0xE000)) {
      return Error(start, "escape sequence is an invalid Unicode code point");
    }
  }
}

std::string Describe(const Token& t) {
  auto quoted_prefix = [](std::string_view s) {
    // Go's %.10q: at most 10 runes, then "..." when longer.
    size_t i = 0;
    int runes = 0;
    while (i < s.size() && runes < 10) {
      char32_t cp;
      int n = DecodeUtf8(s, i, &cp);
      i += n == 0 ? 1 : n;
      ++runes;
    }
    std::string out = Quoted(s.substr(0, i));
    if (i < s.size()) out += "...";
    return out;
  };
  switch (t.kind) {
    case Tok::kEOF: return "end of input";
    case Tok::kError: return std::string(t.text);
    case Tok::kIdentifier:
      if (t.keyword == Keyword::kNone) return "identifier " + Quoted(t.text);
      if (t.keyword <= Keyword::kAtan2) return "<op:" + std::string(t.text) + ">";
      if (IsAggregatorKeyword(t.keyword)) return "<aggr:" + std::string(t.text) + ">";
      if (t.keyword >= Keyword::kStart) return Quoted(t.text);
      return "<" + std::string(t.text) + ">";
    case Tok::kMetricIdentifier: return "metric identifier " + Quoted(t.text);
    case Tok::kNumber: return "number " + quoted_prefix(t.text);
    case Tok::kDuration: return "duration " + quoted_prefix(t.text);
    case Tok::kString: return "string " + quoted_prefix(t.text);
    case Tok::kAdd: case Tok::kSub: case Tok::kMul: case Tok::kDiv: case Tok::kMod:
    case Tok::kPow: case Tok::kEqlC: case Tok::kNeq: case Tok::kLss: case Tok::kLte:
    case Tok::kGtr: case Tok::kGte: case Tok::kAt: case Tok::kTrimUpper: case Tok::kTrimLower: case Tok::kEqlRegex: case Tok::kNeqRegex:
      return "<op:" + std::string(t.text) + ">";
    default: return Quoted(t.text);
  }
}

}  // namespace vigil::query::detail
