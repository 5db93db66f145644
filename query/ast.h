#pragma once

// The PromQL syntax tree produced by ParseExpr (query/parser.h).
//
// Every node owns its children and its strings, so a tree outlives the query text it came from.
// Nodes carry their result type (as Prometheus' type checker computes it) and their source span
// as byte offsets into the parsed text. A tree is immutable once parsed; concurrent readers are
// safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/duration_expr.h"
#include "query/functions.h"

namespace vigil::query {

// Half-open byte range [start, end) into the parsed text.
struct PosRange {
  uint32_t start = 0;
  uint32_t end = 0;
};

enum class ExprKind : uint8_t {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kCall,
  kAggregate,
  kBinary,
  kUnary,
  kParen,
};

// Mirrors vigil::storage::Matcher's types; the engine builds storage matchers from these triples.
enum class MatchType : uint8_t { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };
std::string_view MatchTypeString(MatchType t);  // "=", "!=", "=~", "!~"

struct LabelMatcher {
  MatchType type = MatchType::kEqual;
  std::string name;
  std::string value;
  bool operator==(const LabelMatcher&) const = default;
};

enum class BinaryOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,  // arithmetic
  kTrimUpper, kTrimLower,                      // native histogram trims `</` and `>/`
  kEql, kNeq, kGtr, kLss, kGte, kLte,          // comparison
  kAnd, kOr, kUnless,                          // set
};
std::string_view BinaryOpString(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);
// 1 (or) .. 6 (^), as in Prometheus. The trim operators rank with '*'.
int Precedence(BinaryOp op);

enum class AggregateOp : uint8_t {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopK, kBottomK, kQuantile, kCountValues, kLimitK, kLimitRatio,
};
std::string_view AggregateOpString(AggregateOp op);  // lower case: "sum", "count_values", ...
bool TakesParam(AggregateOp op);
bool IsExperimental(AggregateOp op);  // limitk, limit_ratio

// What an `@` modifier pins evaluation to.
enum class AtKind : uint8_t { kNone, kTimestamp, kStart, kEnd };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  // REQUIRES: kind matches T::kKind.
  template <typename T> const T& As() const { return static_cast<const T&>(*this); }
  template <typename T> T& As() { return static_cast<T&>(*this); }
  template <typename T> const T* TryAs() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

  const ExprKind kind;
  ValueType type = ValueType::kNone;
  PosRange span;
};

struct NumberLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kNumberLiteral;
  NumberLiteral() : Expr(kKind) {}
  double value = 0;
};

struct StringLiteral final : Expr {
  static constexpr ExprKind kKind = ExprKind::kStringLiteral;
  StringLiteral() : Expr(kKind) {}
  std::string value;  // unquoted
};

// The time modifiers shared by vector selectors and subqueries. `offset_ms` is the offset as
// written (negative for `offset -5m`); when it came from a duration expression, `offset_expr` holds
// it, and offset_ms is its value if the expression is constant (no step() / range()).
struct TimeModifiers {
  int64_t offset_ms = 0;
  DurationExprPtr offset_expr;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;  // valid when at == kTimestamp
};

struct VectorSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kVectorSelector;
  VectorSelector() : Expr(kKind) {}
  // Metric name written outside the braces, or from a lone quoted name `{"a.b"}`; may be empty.
  std::string name;
  // All matchers, including `__name__="<name>"` (last) when the name was given.
  std::vector<LabelMatcher> matchers;
  TimeModifiers mods;
  bool anchored = false;  // experimental extended range selectors
  bool smoothed = false;
  // Set for the second argument of info(): the empty-matcher check does not apply.
  bool bypass_empty_matcher_check = false;
};

struct MatrixSelector final : Expr {
  static constexpr ExprKind kKind = ExprKind::kMatrixSelector;
  MatrixSelector() : Expr(kKind) {}
  // Always a VectorSelector in a tree that parsed without errors; it holds offset and @.
  ExprPtr vector_selector;
  int64_t range_ms = 0;
  DurationExprPtr range_expr;  // non-null when the range was a duration expression
};

struct Subquery final : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;
  Subquery() : Expr(kKind) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  DurationExprPtr range_expr;
  int64_t step_ms = 0;  // 0: the engine's default resolution
  DurationExprPtr step_expr;
  TimeModifiers mods;
};

struct Call final : Expr {
  static constexpr ExprKind kKind = ExprKind::kCall;
  Call() : Expr(kKind) {}
  const FunctionInfo* func = nullptr;  // static table entry, never null in a valid tree
  std::vector<ExprPtr> args;
};

struct Aggregate final : Expr {
  static constexpr ExprKind kKind = ExprKind::kAggregate;
  Aggregate() : Expr(kKind) {}
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values/limitk/limit_ratio only
  std::vector<std::string> grouping;
  bool without = false;
};

enum class Cardinality : uint8_t { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  bool on = false;                       // on(...) rather than ignoring(...)
  std::vector<std::string> labels;       // the on/ignoring list
  std::vector<std::string> include;      // group_left/group_right extra labels
  std::optional<double> fill_lhs;        // experimental fill modifiers
  std::optional<double> fill_rhs;
};

struct Binary final : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  Binary() : Expr(kKind) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Present only when both operands are instant vectors.
  std::optional<VectorMatching> matching;
};

struct Unary final : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  Unary() : Expr(kKind) {}
  bool negate = true;  // false for unary plus
  ExprPtr expr;
};

struct Paren final : Expr {
  static constexpr ExprKind kKind = ExprKind::kParen;
  Paren() : Expr(kKind) {}
  ExprPtr expr;
};

// Canonical PromQL text of e. ParseExpr(Format(e)) yields a tree Equal to e.
std::string Format(const Expr& e);

// Structural equality, ignoring source spans and the spelling of literals.
bool Equal(const Expr& a, const Expr& b);

// PromQL's spelling of a duration: "1h30m", "500ms", "0s"; negative values get a leading '-'.
std::string FormatDuration(int64_t ms);

}  // namespace vigil::query
