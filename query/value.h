#pragma once

// Values a PromQL query returns (query/engine.h): scalar, string, instant vector, matrix, plus the
// annotations (warnings and infos) Prometheus attaches to a result.
//
// All values own their data; a QueryResult outlives the engine, the querier and the query text.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "storage/labels.h"

namespace vigil::query {

struct Point {
  int64_t t = 0;  // milliseconds
  double v = 0;
};

// One series of an instant vector: its labels and the sample at the evaluation time (t is the
// evaluation time, as in Prometheus).
struct Sample {
  storage::Labels labels;
  Point point;
};

// One series of a matrix: range query results and instant queries of range-vector expressions.
struct Series {
  storage::Labels labels;
  std::vector<Point> points;  // ascending timestamps
};

struct ScalarValue {
  Point point;
};
struct StringValue {
  int64_t t = 0;
  std::string value;
};
using VectorValue = std::vector<Sample>;
using MatrixValue = std::vector<Series>;  // sorted by labels

enum class AnnotationKind : uint8_t { kWarning, kInfo };

// A warning or info with Prometheus' text, e.g.
// "PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)".
struct Annotation {
  AnnotationKind kind = AnnotationKind::kWarning;
  std::string message;
  bool operator==(const Annotation&) const = default;
};

struct QueryResult {
  std::variant<ScalarValue, StringValue, VectorValue, MatrixValue> value;
  std::vector<Annotation> annotations;  // unique, in the order first raised
  uint64_t samples_loaded = 0;          // samples read from storage

  bool IsScalar() const { return std::holds_alternative<ScalarValue>(value); }
  bool IsString() const { return std::holds_alternative<StringValue>(value); }
  bool IsVector() const { return std::holds_alternative<VectorValue>(value); }
  bool IsMatrix() const { return std::holds_alternative<MatrixValue>(value); }
};

}  // namespace vigil::query
