#pragma once

// Duration expressions: the arithmetic Prometheus 3 accepts (experimentally) in ranges, subquery
// steps and offsets, e.g. `[5m + step()]`, `offset -(2 * 1m)`, `[max_of(step(), 1m):]`. Values
// are seconds; durations and plain numbers mix freely (`[2m * 15]` is 30 minutes).

#include <cstdint>
#include <memory>
#include <string>

#include "storage/base/status.h"

namespace vigil::query {

enum class DurationOp : uint8_t {
  kLiteral,  // a number or duration as written
  kStep,     // step(): the query step (0 for instant queries)
  kRange,    // range(): end - start of the query (0 for instant queries)
  kMinOf, kMaxOf,
  kAdd, kSub, kMul, kDiv, kMod, kPow,
  kNeg, kPlus,  // unary
  kParen,
};

struct DurationExpr;
using DurationExprPtr = std::unique_ptr<DurationExpr>;

struct DurationExpr {
  DurationOp op = DurationOp::kLiteral;
  double seconds = 0;           // kLiteral
  bool written_as_duration = false;  // kLiteral: `90s` rather than `90`
  DurationExprPtr lhs;          // binary ops, min_of/max_of, unary operand, paren
  DurationExprPtr rhs;
};

// True when e uses neither step() nor range().
bool IsConstant(const DurationExpr& e);

// Evaluates e in seconds. Errors: division or modulo by zero.
Result<double> EvalDurationExpr(const DurationExpr& e, double step_seconds, double range_seconds);

// Canonical text (no outer brackets).
std::string FormatDurationExpr(const DurationExpr& e);

bool Equal(const DurationExpr& a, const DurationExpr& b);

}  // namespace vigil::query
