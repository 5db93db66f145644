#pragma once

// The PromQL function table: every float function of Prometheus 3.x with its argument and result
// types, as the parser type-checks calls. The table is static and immutable (thread-safe).

#include <cstdint>
#include <span>
#include <string_view>

namespace vigil::query {

// Result type of a PromQL expression.
enum class ValueType : uint8_t { kNone, kScalar, kVector, kMatrix, kString };

// Prometheus' wording: "scalar", "instant vector", "range vector", "string", "none".
std::string_view DocumentedType(ValueType t);

struct FunctionInfo {
  std::string_view name;
  ValueType arg_types[5];
  uint8_t num_arg_types;
  // 0: exactly num_arg_types arguments. n > 0: the last type may repeat so that between
  // num_arg_types - 1 and num_arg_types - 1 + n arguments are accepted. -1: the last type repeats
  // without bound (at least num_arg_types - 1 arguments).
  int8_t variadic;
  ValueType return_type;
  // Behind --enable-feature=promql-experimental-functions in Prometheus.
  bool experimental;

  std::span<const ValueType> ArgTypes() const { return {arg_types, num_arg_types}; }
};

// Case-sensitive, as in Prometheus. Returns nullptr for unknown names.
const FunctionInfo* LookupFunction(std::string_view name);

// Every entry, sorted by name.
std::span<const FunctionInfo> AllFunctions();

}  // namespace vigil::query
