#include "query/duration_expr.h"

#include <cmath>

#include "query/ast.h"
#include "query/parser/text.h"

namespace vigil::query {

bool IsConstant(const DurationExpr& e) {
  if (e.op == DurationOp::kStep || e.op == DurationOp::kRange) return false;
  if (e.lhs && !IsConstant(*e.lhs)) return false;
  if (e.rhs && !IsConstant(*e.rhs)) return false;
  return true;
}

Result<double> EvalDurationExpr(const DurationExpr& e, double step_seconds, double range_seconds) {
  switch (e.op) {
    case DurationOp::kLiteral: return e.seconds;
    case DurationOp::kStep: return step_seconds;
    case DurationOp::kRange: return range_seconds;
    case DurationOp::kNeg:
    case DurationOp::kPlus:
    case DurationOp::kParen: {
      VIGIL_ASSIGN_OR_RETURN(double v, EvalDurationExpr(*e.lhs, step_seconds, range_seconds));
      return e.op == DurationOp::kNeg ? -v : v;
    }
    default: break;
  }
  VIGIL_ASSIGN_OR_RETURN(double a, EvalDurationExpr(*e.lhs, step_seconds, range_seconds));
  VIGIL_ASSIGN_OR_RETURN(double b, EvalDurationExpr(*e.rhs, step_seconds, range_seconds));
  switch (e.op) {
    // Go's math.Min/Max: NaN wins.
    case DurationOp::kMinOf: return std::isnan(a) || std::isnan(b) ? NAN : std::fmin(a, b);
    case DurationOp::kMaxOf: return std::isnan(a) || std::isnan(b) ? NAN : std::fmax(a, b);
    case DurationOp::kAdd: return a + b;
    case DurationOp::kSub: return a - b;
    case DurationOp::kMul: return a * b;
    case DurationOp::kDiv:
      if (b == 0) return Status::InvalidArgument("division by zero");
      return a / b;
    case DurationOp::kMod:
      if (b == 0) return Status::InvalidArgument("modulo by zero");
      return std::fmod(a, b);
    case DurationOp::kPow: return std::pow(a, b);
    default: break;
  }
  return Status::Internal("bad duration expression");
}

namespace {

const char* OpText(DurationOp op) {
  switch (op) {
    case DurationOp::kAdd: return " + ";
    case DurationOp::kSub: return " - ";
    case DurationOp::kMul: return " * ";
    case DurationOp::kDiv: return " / ";
    case DurationOp::kMod: return " % ";
    case DurationOp::kPow: return " ^ ";
    default: return "";
  }
}

void Append(const DurationExpr& e, std::string* out) {
  switch (e.op) {
    case DurationOp::kLiteral: {
      double ms = e.seconds * 1000;
      if (e.written_as_duration && ms == std::floor(ms) && std::fabs(ms) < 9e18) {
        *out += FormatDuration(static_cast<int64_t>(ms));
      } else {
        *out += detail::FormatNumber(e.seconds);
      }
      return;
    }
    case DurationOp::kStep: *out += "step()"; return;
    case DurationOp::kRange: *out += "range()"; return;
    case DurationOp::kMinOf:
    case DurationOp::kMaxOf:
      *out += e.op == DurationOp::kMinOf ? "min_of(" : "max_of(";
      Append(*e.lhs, out);
      *out += ", ";
      Append(*e.rhs, out);
      *out += ')';
      return;
    case DurationOp::kNeg:
    case DurationOp::kPlus:
      *out += e.op == DurationOp::kNeg ? '-' : '+';
      Append(*e.lhs, out);
      return;
    case DurationOp::kParen:
      *out += '(';
      Append(*e.lhs, out);
      *out += ')';
      return;
    default:
      Append(*e.lhs, out);
      *out += OpText(e.op);
      Append(*e.rhs, out);
      return;
  }
}

}  // namespace

std::string FormatDurationExpr(const DurationExpr& e) {
  std::string out;
  Append(e, &out);
  return out;
}

bool Equal(const DurationExpr& a, const DurationExpr& b) {
  if (a.op != b.op) return false;
  if (a.op == DurationOp::kLiteral) {
    return a.seconds == b.seconds || (std::isnan(a.seconds) && std::isnan(b.seconds));
  }
  if ((a.lhs == nullptr) != (b.lhs == nullptr) || (a.rhs == nullptr) != (b.rhs == nullptr)) {
    return false;
  }
  return (!a.lhs || Equal(*a.lhs, *b.lhs)) && (!a.rhs || Equal(*a.rhs, *b.rhs));
}

}  // namespace vigil::query
