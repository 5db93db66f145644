#include "query/ast.h"

#include <cmath>

namespace vigil::query {

std::string_view MatchTypeString(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

std::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kTrimUpper: return "</";
    case BinaryOp::kTrimLower: return ">/";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
  }
  return "?";
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kLte; }
bool IsSetOperator(BinaryOp op) { return op >= BinaryOp::kAnd; }

int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr: return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless: return 2;
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte: return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub: return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kAtan2:
    case BinaryOp::kTrimUpper:
    case BinaryOp::kTrimLower: return 5;
    case BinaryOp::kPow: return 6;
  }
  return 0;
}

std::string_view AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopK: return "topk";
    case AggregateOp::kBottomK: return "bottomk";
    case AggregateOp::kQuantile: return "quantile";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kLimitK: return "limitk";
    case AggregateOp::kLimitRatio: return "limit_ratio";
  }
  return "?";
}

bool TakesParam(AggregateOp op) { return op >= AggregateOp::kTopK; }
bool IsExperimental(AggregateOp op) {
  return op == AggregateOp::kLimitK || op == AggregateOp::kLimitRatio;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  uint64_t v;
  if (ms < 0) {
    out += '-';
    v = static_cast<uint64_t>(-(ms + 1)) + 1;
  } else {
    v = static_cast<uint64_t>(ms);
  }
  struct Unit {
    const char* name;
    uint64_t ms;
    bool exact;  // years and weeks only when they divide evenly: "90d" reads better than "12w6d"
  };
  static constexpr Unit kUnits[] = {{"y", 365ULL * 86400000, true}, {"w", 7ULL * 86400000, true},
                                    {"d", 86400000, false},         {"h", 3600000, false},
                                    {"m", 60000, false},            {"s", 1000, false},
                                    {"ms", 1, false}};
  for (const Unit& u : kUnits) {
    if (u.exact && v % u.ms != 0) continue;
    if (uint64_t n = v / u.ms; n > 0) {
      out += std::to_string(n);
      out += u.name;
      v -= n * u.ms;
    }
  }
  return out;
}

namespace {

bool EqualPtr(const Expr* a, const Expr* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return Equal(*a, *b);
}

bool EqualDuration(const DurationExprPtr& a, const DurationExprPtr& b) {
  if (!a || !b) return a == b;
  return Equal(*a, *b);
}

bool EqualMods(const TimeModifiers& a, const TimeModifiers& b) {
  return a.offset_ms == b.offset_ms && EqualDuration(a.offset_expr, b.offset_expr) &&
         a.at == b.at && (a.at != AtKind::kTimestamp || a.at_ms == b.at_ms);
}

bool SameNumber(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

bool SameFill(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  return SameNumber(*a, *b);
}

}  // namespace

bool Equal(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.type != b.type) return false;
  switch (a.kind) {
    case ExprKind::kNumberLiteral:
      return SameNumber(a.As<NumberLiteral>().value, b.As<NumberLiteral>().value);
    case ExprKind::kStringLiteral:
      return a.As<StringLiteral>().value == b.As<StringLiteral>().value;
    case ExprKind::kVectorSelector: {
      const auto& x = a.As<VectorSelector>();
      const auto& y = b.As<VectorSelector>();
      return x.name == y.name && x.matchers == y.matchers && EqualMods(x.mods, y.mods) &&
             x.anchored == y.anchored && x.smoothed == y.smoothed;
    }
    case ExprKind::kMatrixSelector: {
      const auto& x = a.As<MatrixSelector>();
      const auto& y = b.As<MatrixSelector>();
      return x.range_ms == y.range_ms && EqualDuration(x.range_expr, y.range_expr) &&
             EqualPtr(x.vector_selector.get(), y.vector_selector.get());
    }
    case ExprKind::kSubquery: {
      const auto& x = a.As<Subquery>();
      const auto& y = b.As<Subquery>();
      return x.range_ms == y.range_ms && EqualDuration(x.range_expr, y.range_expr) &&
             x.step_ms == y.step_ms && EqualDuration(x.step_expr, y.step_expr) &&
             EqualMods(x.mods, y.mods) && EqualPtr(x.expr.get(), y.expr.get());
    }
    case ExprKind::kCall: {
      const auto& x = a.As<Call>();
      const auto& y = b.As<Call>();
      if (x.func != y.func || x.args.size() != y.args.size()) return false;
      for (size_t i = 0; i < x.args.size(); ++i) {
        if (!EqualPtr(x.args[i].get(), y.args[i].get())) return false;
      }
      return true;
    }
    case ExprKind::kAggregate: {
      const auto& x = a.As<Aggregate>();
      const auto& y = b.As<Aggregate>();
      return x.op == y.op && x.grouping == y.grouping && x.without == y.without &&
             EqualPtr(x.param.get(), y.param.get()) && EqualPtr(x.expr.get(), y.expr.get());
    }
    case ExprKind::kBinary: {
      const auto& x = a.As<Binary>();
      const auto& y = b.As<Binary>();
      if (x.op != y.op || x.return_bool != y.return_bool ||
          x.matching.has_value() != y.matching.has_value()) {
        return false;
      }
      if (x.matching) {
        const auto& m = *x.matching;
        const auto& n = *y.matching;
        if (m.card != n.card || m.on != n.on || m.labels != n.labels || m.include != n.include ||
            !SameFill(m.fill_lhs, n.fill_lhs) || !SameFill(m.fill_rhs, n.fill_rhs)) {
          return false;
        }
      }
      return EqualPtr(x.lhs.get(), y.lhs.get()) && EqualPtr(x.rhs.get(), y.rhs.get());
    }
    case ExprKind::kUnary:
      return a.As<Unary>().negate == b.As<Unary>().negate &&
             EqualPtr(a.As<Unary>().expr.get(), b.As<Unary>().expr.get());
    case ExprKind::kParen:
      return EqualPtr(a.As<Paren>().expr.get(), b.As<Paren>().expr.get());
  }
  return false;
}

}  // namespace vigil::query
