#pragma once

// The recursive-descent PromQL parser behind query/parser.h. Internal to query/.
//
// One Parser parses one input. It stops at the first error (Prometheus reports only its first),
// then ParseExpr runs the type checker (checker.cc) over a tree that parsed cleanly.
// Split by concern: parser.cc (expressions, operators, calls, aggregations),
// parse_selector.cc (selectors, matchers, grouping labels), parse_time.cc (ranges, subqueries,
// offset, @, duration expressions).

#include <string>
#include <string_view>
#include <vector>

#include "query/ast.h"
#include "query/parser.h"
#include "query/parser/lexer.h"

namespace vigil::query::detail {

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& options);

  // Parses the whole input as one expression. Returns null after an error.
  ExprPtr ParseTop();
  // Parses the whole input as a vector selector (series descriptions).
  ExprPtr ParseSelectorOnly();

  bool failed() const { return failed_; }
  const PosRange& error_span() const { return error_span_; }
  const std::string& error_message() const { return error_message_; }

 private:
  // Tokens.
  const Token& Peek(size_t ahead = 0);
  Token Consume();
  bool PeekIs(Tok kind, size_t ahead = 0) { return Peek(ahead).kind == kind; }
  bool PeekKeyword(Keyword kw, size_t ahead = 0) {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kIdentifier && t.keyword == kw;
  }
  uint32_t last_end() const { return last_end_; }

  // Errors: the first one wins; later calls are ignored.
  void Fail(PosRange span, std::string message);
  // "unexpected <next token>[ in <context>][, expected <expected>]" at the next token.
  void Unexpected(std::string_view context, std::string_view expected);
  bool Expect(Tok kind, std::string_view context, std::string_view expected);

  // parser.cc
  ExprPtr ParseExpression(int min_precedence);
  ExprPtr ParseUnary();
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr e);
  ExprPtr ParseParen();
  ExprPtr ParseCall();
  ExprPtr ParseAggregate();
  bool ParseCallArgs(std::vector<ExprPtr>* args, std::string_view context);
  bool ParseBinaryModifiers(Binary* b);
  bool ParseFillValue(std::optional<double>* out);
  ExprPtr NumberFromToken(const Token& t);
  bool ParseNumberText(const Token& t, double* out);

  // parse_selector.cc
  ExprPtr ParseVectorSelector();
  bool ParseLabelMatchers(VectorSelector* vs);
  bool ParseGroupingLabels(std::vector<std::string>* labels);
  bool AddMatcher(VectorSelector* vs, MatchType type, std::string name, std::string value,
                  PosRange span);

  // parse_time.cc
  ExprPtr ParseBracket(ExprPtr e);
  bool ParseOffset(Expr* e, uint32_t modifier_pos);
  bool ParseAt(Expr* e);
  bool ParseRangeModifier(Expr* e, bool anchored);
  // A duration inside brackets: literal, or (when enabled) a duration expression.
  bool ParseDurationValue(std::string_view context, std::string_view expected, int64_t* ms,
                          DurationExprPtr* expr);
  DurationExprPtr ParseDurationExpr(int min_precedence);
  DurationExprPtr ParseDurationUnary();
  DurationExprPtr ParseDurationAtom();
  bool DurationLiteral(const Token& t, double* seconds);
  // As DurationLiteral, in milliseconds: exact for durations (`1001ms`), truncated for seconds.
  bool DurationLiteralMs(const Token& t, bool negative, int64_t* ms);

  Lexer lexer_;
  ParseOptions options_;
  Token buffer_[3];
  size_t buffered_ = 0;
  uint32_t last_end_ = 0;  // end of the last consumed token
  int depth_ = 0;          // recursion guard

  bool failed_ = false;
  PosRange error_span_;
  std::string error_message_;
};

// checker.cc: Prometheus' checkAST. Returns false and fills span/message on the first error.
bool CheckTree(Expr* e, std::string_view input, PosRange* span, std::string* message);

// Converts a validated literal (seconds) to milliseconds as Prometheus does.
int64_t SecondsToMs(double seconds);

}  // namespace vigil::query::detail
