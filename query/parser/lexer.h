#pragma once

// The PromQL tokenizer. Internal to query/.
//
// Tokens are views into the input (no allocation per token). Like Prometheus' lexer it is
// stateful: inside `{...}` every word is a plain identifier and `=~` / `!~` exist; inside `[...]`
// it reads durations and duration expressions. Comments (`#` to end of line) are skipped.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::query::detail {

enum class Tok : uint8_t {
  kEOF,
  kError,             // text() is the message; pos where the bad input starts
  kIdentifier,        // word without ':' (keywords too; see Token::keyword)
  kMetricIdentifier,  // word containing ':'
  kNumber,
  kDuration,
  kString,
  kLeftParen, kRightParen, kLeftBrace, kRightBrace, kLeftBracket, kRightBracket,
  kComma, kColon,
  kAssign,                 // '=' (a matcher operator)
  kEqlRegex, kNeqRegex,    // '=~', '!~' (inside braces)
  kAdd, kSub, kMul, kDiv, kMod, kPow,
  kEqlC, kNeq, kLss, kLte, kGtr, kGte,
  kTrimUpper, kTrimLower,  // '</', '>/'
  kAt,
};

// Case-insensitive reserved words, recognized outside braces.
enum class Keyword : uint8_t {
  kNone,
  kAnd, kOr, kUnless, kAtan2,
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar, kTopK, kBottomK, kQuantile,
  kCountValues, kLimitK, kLimitRatio,
  kOffset, kSmoothed, kAnchored, kBy, kWithout, kOn, kIgnoring, kGroupLeft, kGroupRight,
  kFill, kFillLeft, kFillRight, kBool,
  kStart, kEnd, kStep, kRange,
};

bool IsAggregatorKeyword(Keyword k);

struct Token {
  Tok kind = Tok::kEOF;
  Keyword keyword = Keyword::kNone;
  uint32_t pos = 0;
  uint32_t len = 0;
  std::string_view text;  // the token's bytes; for kError the message
};

class Lexer {
 public:
  // `input` must outlive the lexer and every token it returns.
  explicit Lexer(std::string_view input) : input_(input) {}

  // Returns the next token. After kEOF or kError, keeps returning that token.
  Token Next();

  std::string_view input() const { return input_; }

 private:
  Token Make(Tok kind, size_t start);
  Token Error(size_t start, std::string message);
  Token LexStatement();
  Token LexInsideBraces();
  Token LexInsideBrackets();
  Token LexNumberOrDuration(size_t start);
  Token LexWord(size_t start, bool keywords);
  Token LexString(size_t start, char quote);
  bool ScanNumber();
  bool AcceptRemainingDuration();
  bool SkipSpaceAndComments(bool comments);

  int Peek(size_t ahead = 0) const {
    return pos_ + ahead < input_.size() ? static_cast<unsigned char>(input_[pos_ + ahead]) : -1;
  }
  bool Accept(std::string_view valid);

  std::string_view input_;
  size_t pos_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool done_ = false;
  Token last_;
  std::string error_;  // storage for the message of a kError token
};

// Prometheus' description of a token in "unexpected ..." messages: `identifier "foo"`,
// `<op:+>`, `<aggr:sum>`, `<by>`, `"("`, `number "1"`, `end of input`.
std::string Describe(const Token& t);

}  // namespace vigil::query::detail
