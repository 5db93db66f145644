#pragma once

// A small JSON reader and writer for the shell: enough for the Prometheus HTTP API's envelopes.
// Input comes from the network, so the parser bounds its nesting depth, checks every byte and
// reports the byte offset of the first error; it never throws.
//
//   VIGIL_ASSIGN_OR_RETURN(JsonValue doc, JsonValue::Parse(body));
//   if (const JsonValue* status = doc.Find("status")) ...
//
// Numbers keep their text as well as their double value, so that 64-bit integers such as
// Prometheus' minTime (9223372036854775807) are written back unchanged.

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "storage/base/status.h"

namespace vigil::shell {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Number {
    double value;
    std::string text;  // as written in the input (or produced by FromNumber)
  };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;  // in input order

  JsonValue() = default;
  static JsonValue FromBool(bool b);
  static JsonValue FromNumber(double v);
  static JsonValue FromNumber(double v, std::string text);  // keeps `text` as the spelling
  static JsonValue FromString(std::string s);
  static JsonValue FromArray(Array a);
  static JsonValue FromObject(Object o);

  // In-place setters (the parser builds values with them, avoiding variant moves).
  void SetNull() { v_.emplace<std::monostate>(); }
  void SetBool(bool b) { v_.emplace<bool>(b); }
  void SetNumber(double v, std::string text) { v_.emplace<Number>(Number{v, std::move(text)}); }
  void SetString(std::string s) { v_.emplace<std::string>(std::move(s)); }
  Array& SetArray() { return v_.emplace<Array>(); }
  Object& SetObject() { return v_.emplace<Object>(); }

  // Parses one JSON text (RFC 8259). Errors name the byte offset: "JSON: offset 17: expected ':'".
  static Result<JsonValue> Parse(std::string_view text);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // REQUIRES: the matching type.
  bool boolean() const { return std::get<bool>(v_); }
  double number() const { return std::get<Number>(v_).value; }
  const std::string& number_text() const { return std::get<Number>(v_).text; }
  const std::string& str() const { return std::get<std::string>(v_); }
  const Array& array() const { return std::get<Array>(v_); }
  const Object& object() const { return std::get<Object>(v_); }

  // The member named `key` of an object, or nullptr (also when this is not an object).
  const JsonValue* Find(std::string_view key) const;
  JsonValue* FindMutable(std::string_view key);
  // The string member `key`, or "" when absent or not a string.
  std::string_view StringOr(std::string_view key, std::string_view fallback = "") const;

  // Compact JSON; with indent > 0, pretty-printed with that many spaces per level.
  void Write(std::string* out, int indent = 0) const;
  std::string ToString(int indent = 0) const;

 private:
  void WriteAt(std::string* out, int indent, int depth) const;
  std::variant<std::monostate, bool, Number, std::string, Array, Object> v_;
};

// Appends `s` as a quoted JSON string (escaping quotes, backslashes and control characters).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace vigil::shell
