#pragma once

// JSON for the HTTP API: a streaming writer that appends to a caller-owned string (no DOM on the
// response path) and a small reader into a value tree for clients and tests.
//
//   std::string out;
//   JsonWriter w(&out);
//   w.BeginObject().Key("status").String("success").EndObject();
//
// Thread safety: none; one writer per thread. JsonValue trees are immutable values.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::server {

class JsonWriter {
 public:
  // Appends to *out, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // An object key; the next call writes its value.
  JsonWriter& Key(std::string_view key);
  // A string value, escaped (invalid UTF-8 bytes become U+FFFD, as Go's encoder does).
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // A JSON number for finite v (shortest round-trip form); null for NaN and infinities.
  JsonWriter& Double(double v);
  // Pre-encoded JSON inserted as one value.
  JsonWriter& Raw(std::string_view json);
  // A sample in Prometheus' API form, `[<seconds>,"<value>"]` (AppendPromTimestamp and
  // AppendPromValue below), in one append.
  JsonWriter& PromPoint(int64_t ms, double v);

  std::string* out() { return out_; }

 private:
  void Separate();

  std::string* out_;
  // One entry per open container: whether it holds an element already.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends s as a JSON string literal with quotes.
void AppendJsonString(std::string* out, std::string_view s);

// Prometheus' spelling of a sample value: shortest round-trip decimal without exponent
// ("1.5", "100000", "0.001"), "NaN", "+Inf", "-Inf".
std::string FormatPromValue(double v);
void AppendPromValue(std::string* out, double v);
// Prometheus' spelling of a millisecond timestamp as a JSON number of seconds: the whole seconds,
// then '.' and exactly three digits when ms % 1000 != 0 ("1435781451.781", "1.050", "-0.500",
// "12").
void AppendPromTimestamp(std::string* out, int64_t ms);

// A parsed JSON document.
class JsonValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  static Result<JsonValue> Parse(std::string_view text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  double number() const { return number_; }
  const std::string& str() const { return string_; }
  const std::vector<JsonValue>& array() const { return array_; }
  // Members in document order.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  // The member named key, or a shared null value when absent or not an object.
  const JsonValue& operator[](std::string_view key) const;
  // The i-th array element, or null when out of range or not an array.
  const JsonValue& operator[](size_t i) const;
  bool Has(std::string_view key) const;
  size_t size() const { return is_array() ? array_.size() : members_.size(); }

  // Compact JSON text.
  std::string Dump() const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace vigil::server
