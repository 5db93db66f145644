#include "server/http/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cctype>

#include "storage/base/utf8.h"

namespace vigil::server {

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_->push_back(',');
    has_element_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_->push_back('{');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_->push_back('}');
  has_element_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_->push_back('[');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_->push_back(']');
  has_element_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(out_, key);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Separate();
  AppendJsonString(out_, s);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool v) {
  Separate();
  out_->append(v ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Double(double v) {
  Separate();
  if (!std::isfinite(v)) {
    out_->append("null");
    return *this;
  }
  // As Go's encoder: plain decimal unless the exponent is below -6 or at least 21.
  double a = std::fabs(v);
  char buf[400];
  auto fmt = (a == 0 || (a >= 1e-6 && a < 1e21)) ? std::chars_format::fixed
                                                 : std::chars_format::scientific;
  auto r = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  out_->append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_->append(json);
  return *this;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // A run of printable ASCII without quote or backslash goes out in one append.
    size_t j = i;
    while (j < s.size()) {
      const unsigned char b = static_cast<unsigned char>(s[j]);
      if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
      ++j;
    }
    if (j != i) {
      out->append(s.data() + i, j - i);
      i = j;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      char32_t cp = 0;
      int n = DecodeUtf8(s, i, &cp);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD for a stray byte
        ++i;
      } else {
        out->append(s.substr(i, static_cast<size_t>(n)));
        i += static_cast<size_t>(n);
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

namespace {

// Prometheus' spelling of v at p; returns the end. REQUIRES: 400 bytes at p (the fixed notation
// of DBL_MAX has 309 digits).
char* PutPromValue(char* p, double v) {
  if (std::isnan(v)) return std::copy_n("NaN", 3, p);
  if (std::isinf(v)) return std::copy_n(v > 0 ? "+Inf" : "-Inf", 4, p);
  return std::to_chars(p, p + 400, v, std::chars_format::fixed).ptr;
}

// Prometheus' spelling of a millisecond timestamp at p; returns the end. REQUIRES: 24 bytes at p.
char* PutPromTimestamp(char* p, int64_t ms) {
  const uint64_t abs = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (ms < 0) *p++ = '-';
  p = std::to_chars(p, p + 21, abs / 1000).ptr;
  const uint64_t frac = abs % 1000;
  if (frac != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    *p++ = static_cast<char>('0' + frac / 10 % 10);
    *p++ = static_cast<char>('0' + frac % 10);
  }
  return p;
}

}  // namespace

void AppendPromValue(std::string* out, double v) {
  char buf[400];
  out->append(buf, PutPromValue(buf, v));
}

std::string FormatPromValue(double v) {
  std::string out;
  AppendPromValue(&out, v);
  return out;
}

void AppendPromTimestamp(std::string* out, int64_t ms) {
  char buf[24];
  out->append(buf, PutPromTimestamp(buf, ms));
}

JsonWriter& JsonWriter::PromPoint(int64_t ms, double v) {
  Separate();
  char buf[432];
  char* p = buf;
  *p++ = '[';
  p = PutPromTimestamp(p, ms);
  *p++ = ',';
  *p++ = '"';
  p = PutPromValue(p, v);
  *p++ = '"';
  *p++ = ']';
  out_->append(buf, p);
  return *this;
}

// ---- reader ----

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Result<JsonValue> ParseDocument() {
    JsonValue v;
    VIGIL_RETURN_IF_ERROR(ParseValue(&v, 0));
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected data after the top-level value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 256;

  Status Error(std::string_view what) const {
    return Status::InvalidArgument("json: " + std::string(what) + " at byte " +
                                   std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  Status ParseValue(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return Error("nesting too deep");
    SkipSpace();
    if (pos_ >= s_.size()) return Error("unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->type_ = JsonValue::Type::kString;
      return ParseString(&v->string_);
    }
    if (Consume("true")) {
      v->type_ = JsonValue::Type::kBool;
      v->bool_ = true;
      return Status::OK();
    }
    if (Consume("false")) {
      v->type_ = JsonValue::Type::kBool;
      return Status::OK();
    }
    if (Consume("null")) return Status::OK();
    return ParseNumber(v);
  }

  Status ParseNumber(JsonValue* v) {
    size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E' ||
                                s_[pos_] == '+' || s_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return Error("unexpected character");
    double d = 0;
    auto r = std::from_chars(s_.data() + start, s_.data() + pos_, d);
    if (r.ec != std::errc() || r.ptr != s_.data() + pos_) {
      pos_ = start;
      return Error("bad number");
    }
    v->type_ = JsonValue::Type::kNumber;
    v->number_ = d;
    return Status::OK();
  }

  Status ParseHex4(uint32_t* cp) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= h - '0';
      else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
      else return Error("bad \\u escape");
    }
    *cp = v;
    return Status::OK();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return Status::OK();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return Error("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          VIGIL_RETURN_IF_ERROR(ParseHex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t lo = 0;
            VIGIL_RETURN_IF_ERROR(ParseHex4(&lo));
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          AppendUtf8(static_cast<char32_t>(cp), out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
  }

  Status ParseArray(JsonValue* v, int depth) {
    ++pos_;
    v->type_ = JsonValue::Type::kArray;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Status::OK();
    }
    while (true) {
      JsonValue e;
      VIGIL_RETURN_IF_ERROR(ParseValue(&e, depth + 1));
      v->array_.push_back(std::move(e));
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated array");
      char c = s_[pos_++];
      if (c == ']') return Status::OK();
      if (c != ',') return Error("expected ',' or ']'");
    }
  }

  Status ParseObject(JsonValue* v, int depth) {
    ++pos_;
    v->type_ = JsonValue::Type::kObject;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Status::OK();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a key");
      std::string key;
      VIGIL_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      JsonValue e;
      VIGIL_RETURN_IF_ERROR(ParseValue(&e, depth + 1));
      v->members_.emplace_back(std::move(key), std::move(e));
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated object");
      char c = s_[pos_++];
      if (c == '}') return Status::OK();
      if (c != ',') return Error("expected ',' or '}'");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

Result<JsonValue> JsonValue::Parse(std::string_view text) { return JsonParser(text).ParseDocument(); }

const JsonValue& JsonValue::operator[](std::string_view key) const {
  static const JsonValue kNull;
  if (type_ != Type::kObject) return kNull;
  for (const auto& [k, v] : members_) {
    if (k == key) return v;
  }
  return kNull;
}

const JsonValue& JsonValue::operator[](size_t i) const {
  static const JsonValue kNull;
  if (type_ != Type::kArray || i >= array_.size()) return kNull;
  return array_[i];
}

bool JsonValue::Has(std::string_view key) const {
  if (type_ != Type::kObject) return false;
  for (const auto& [k, v] : members_) {
    if (k == key) return true;
  }
  return false;
}

namespace {
void DumpTo(const JsonValue& v, JsonWriter* w) {
  switch (v.type()) {
    case JsonValue::Type::kNull: w->Null(); break;
    case JsonValue::Type::kBool: w->Bool(v.bool_value()); break;
    case JsonValue::Type::kNumber: w->Double(v.number()); break;
    case JsonValue::Type::kString: w->String(v.str()); break;
    case JsonValue::Type::kArray:
      w->BeginArray();
      for (const auto& e : v.array()) DumpTo(e, w);
      w->EndArray();
      break;
    case JsonValue::Type::kObject:
      w->BeginObject();
      for (const auto& [k, e] : v.members()) {
        w->Key(k);
        DumpTo(e, w);
      }
      w->EndObject();
      break;
  }
}
}  // namespace

std::string JsonValue::Dump() const {
  std::string out;
  JsonWriter w(&out);
  DumpTo(*this, &w);
  return out;
}

}  // namespace vigil::server
