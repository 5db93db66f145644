#pragma once

// PromQL parsing: the way into query/ for query text.
//
//   VIGIL_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr("sum by (job) (rate(x[5m]))"));
//
// Errors are Status::InvalidArgument with Prometheus' wording and a 1-based line:column
// position: "1:5: parse error: unexpected <op:*>". Parsing includes Prometheus' type checks
// (argument types, `bool` on scalar comparisons, set operators only between vectors, ...).
// All functions are thread-safe; they keep no state between calls.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/ast.h"
#include "storage/base/status.h"

namespace vigil::query {

// Features that Prometheus 3 keeps behind --enable-feature flags. All off by default, as there.
struct ParseOptions {
  bool experimental_functions = false;    // promql-experimental-functions (also limitk, ...)
  bool duration_expressions = false;      // promql-duration-expr
  bool extended_range_selectors = false;  // anchored / smoothed
  bool binop_fill_modifiers = false;      // fill() / fill_left() / fill_right()

  static ParseOptions AllEnabled() { return {true, true, true, true}; }
};

// Details of the first error, for callers that point at the query text (shells, editors).
struct ParseError {
  PosRange span;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
  std::string message;  // without position, e.g. "unexpected end of input"
};

// Parses and type-checks one PromQL expression. On failure, fills *error when given.
Result<ExprPtr> ParseExpr(std::string_view input, const ParseOptions& options = {},
                          ParseError* error = nullptr);

// Prometheus duration syntax ("1h30m", "500ms", "2d", "0"), units y w d h m s ms in that order,
// each at most once. Returns milliseconds.
Result<int64_t> ParseDuration(std::string_view text);

struct LabelPair {
  std::string name;
  std::string value;
  bool operator==(const LabelPair&) const = default;
};

// A series as written in test scripts: `metric{a="b"}`, `{__name__="m", a="b"}`,
// `{"metric.name", "label.x"="v"}`. Only `=` matchers. Labels come back sorted by name, the
// metric name as `__name__`.
Result<std::vector<LabelPair>> ParseSeriesDescription(std::string_view text);

}  // namespace vigil::query
