#include "tools/vigil/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "storage/base/utf8.h"

namespace vigil::shell {
namespace {

constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<JsonValue> ParseDocument() {
    JsonValue v;
    if (!ParseValue(&v, 0)) return Error();
    SkipSpace();
    if (pos_ != in_.size()) {
      Fail("unexpected data after the JSON value");
      return Error();
    }
    return v;
  }

 private:
  Status Error() const {
    return Status::InvalidArgument("JSON: offset " + std::to_string(err_pos_) + ": " + err_);
  }
  bool Fail(const char* what) {
    if (err_.empty()) {
      err_ = what;
      err_pos_ = pos_;
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than 256 levels");
    SkipSpace();
    if (pos_ >= in_.size()) return Fail("unexpected end of input");
    char c = in_[pos_];
    switch (c) {
      case 'n':
        if (!Literal("null")) return false;
        out->SetNull();
        return true;
      case 't':
        if (!Literal("true")) return false;
        out->SetBool(true);
        return true;
      case 'f':
        if (!Literal("false")) return false;
        out->SetBool(false);
        return true;
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        out->SetString(std::move(s));
        return true;
      }
      case '[': {
        ++pos_;
        JsonValue::Array& arr = out->SetArray();
        SkipSpace();
        if (pos_ < in_.size() && in_[pos_] == ']') {
          ++pos_;
          return true;
        }
        for (;;) {
          arr.emplace_back();
          if (!ParseValue(&arr.back(), depth + 1)) return false;
          SkipSpace();
          if (pos_ >= in_.size()) return Fail("unexpected end of input in an array");
          if (in_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (in_[pos_] == ']') {
            ++pos_;
            break;
          }
          return Fail("expected ',' or ']'");
        }
        return true;
      }
      case '{': {
        ++pos_;
        JsonValue::Object& obj = out->SetObject();
        SkipSpace();
        if (pos_ < in_.size() && in_[pos_] == '}') {
          ++pos_;
          return true;
        }
        for (;;) {
          SkipSpace();
          if (pos_ >= in_.size() || in_[pos_] != '"') return Fail("expected a member name");
          std::string key;
          if (!ParseString(&key)) return false;
          SkipSpace();
          if (pos_ >= in_.size() || in_[pos_] != ':') return Fail("expected ':'");
          ++pos_;
          obj.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                           std::forward_as_tuple());
          if (!ParseValue(&obj.back().second, depth + 1)) return false;
          SkipSpace();
          if (pos_ >= in_.size()) return Fail("unexpected end of input in an object");
          if (in_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (in_[pos_] == '}') {
            ++pos_;
            break;
          }
          return Fail("expected ',' or '}'");
        }
        return true;
      }
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Fail("unexpected character");
    }
  }

  bool ParseNumber(JsonValue* out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t s = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      return pos_ > s;
    };
    if (in_[pos_] == '-') ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return Fail("invalid number");
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Fail("invalid number: digits expected after '.'");
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("invalid number: digits expected in the exponent");
    }
    std::string_view text = in_.substr(start, pos_ - start);
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) {
      v = text[0] == '-' ? -HUGE_VAL : HUGE_VAL;
      // Underflow also reports out of range; those numbers are tiny, not huge.
      if (text.find_first_of("eE") != std::string_view::npos &&
          text.find("e-") != std::string_view::npos) {
        v = 0;
      }
    } else if (ec != std::errc() || ptr != text.data() + text.size()) {
      return Fail("invalid number");
    }
    out->SetNumber(v, std::string(text));
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > in_.size()) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= uint32_t(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= uint32_t(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= uint32_t(c - 'A' + 10);
      } else {
        return Fail("invalid hex digit in \\u escape");
      }
    }
    *out = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    for (;;) {
      size_t run = pos_;
      while (pos_ < in_.size() && in_[pos_] != '"' && in_[pos_] != '\\' &&
             static_cast<unsigned char>(in_[pos_]) >= 0x20) {
        ++pos_;
      }
      out->append(in_.data() + run, pos_ - run);
      if (pos_ >= in_.size()) return Fail("unterminated string");
      char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c != '\\') return Fail("control character in a string");
      ++pos_;
      if (pos_ >= in_.size()) return Fail("unterminated escape");
      char e = in_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (in_.substr(pos_, 2) != "\\u") return Fail("unpaired surrogate in \\u escape");
            pos_ += 2;
            if (!Hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("unpaired surrogate in \\u escape");
          }
          AppendUtf8(char32_t(cp), out);
          break;
        }
        default:
          --pos_;
          return Fail("invalid escape");
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string err_;
  size_t err_pos_ = 0;
};

void Indent(std::string* out, int indent, int depth) {
  if (indent <= 0) return;
  out->push_back('\n');
  out->append(size_t(indent) * size_t(depth), ' ');
}

}  // namespace

JsonValue JsonValue::FromBool(bool b) {
  JsonValue v;
  v.SetBool(b);
  return v;
}

JsonValue JsonValue::FromNumber(double d) {
  JsonValue v;
  std::string text;
  if (std::isfinite(d)) {
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
    text.assign(buf, ec == std::errc() ? ptr : buf);
  } else {
    text = "null";  // JSON has no NaN or infinity
  }
  v.SetNumber(d, std::move(text));
  return v;
}

JsonValue JsonValue::FromNumber(double d, std::string text) {
  JsonValue v;
  v.SetNumber(d, std::move(text));
  return v;
}

JsonValue JsonValue::FromString(std::string s) {
  JsonValue v;
  v.SetString(std::move(s));
  return v;
}

JsonValue JsonValue::FromArray(Array a) {
  JsonValue v;
  v.SetArray() = std::move(a);
  return v;
}

JsonValue JsonValue::FromObject(Object o) {
  JsonValue v;
  v.SetObject() = std::move(o);
  return v;
}

Result<JsonValue> JsonValue::Parse(std::string_view text) { return Parser(text).ParseDocument(); }

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue* JsonValue::FindMutable(std::string_view key) {
  if (!is_object()) return nullptr;
  for (auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string_view JsonValue::StringOr(std::string_view key, std::string_view fallback) const {
  const JsonValue* v = Find(key);
  return v != nullptr && v->is_string() ? std::string_view(v->str()) : fallback;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void JsonValue::WriteAt(std::string* out, int indent, int depth) const {
  switch (type()) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(boolean() ? "true" : "false");
      break;
    case Type::kNumber:
      out->append(number_text());
      break;
    case Type::kString:
      AppendJsonString(str(), out);
      break;
    case Type::kArray: {
      const Array& a = array();
      out->push_back('[');
      for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0) out->push_back(',');
        // Arrays of scalars (Prometheus' [time, "value"] pairs) stay on one line.
        bool nested = a[i].is_array() || a[i].is_object();
        if (nested) Indent(out, indent, depth + 1);
        a[i].WriteAt(out, indent, depth + 1);
      }
      bool any_nested = !a.empty() && (a.back().is_array() || a.back().is_object());
      if (any_nested) Indent(out, indent, depth);
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      const Object& o = object();
      out->push_back('{');
      for (size_t i = 0; i < o.size(); ++i) {
        if (i > 0) out->push_back(',');
        Indent(out, indent, depth + 1);
        AppendJsonString(o[i].first, out);
        out->push_back(':');
        if (indent > 0) out->push_back(' ');
        o[i].second.WriteAt(out, indent, depth + 1);
      }
      if (!o.empty()) Indent(out, indent, depth);
      out->push_back('}');
      break;
    }
  }
}

void JsonValue::Write(std::string* out, int indent) const { WriteAt(out, indent, 0); }

std::string JsonValue::ToString(int indent) const {
  std::string s;
  Write(&s, indent);
  return s;
}

}  // namespace vigil::shell
