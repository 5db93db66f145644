// ParseLabels (declared in storage/labels.h): the series notation written by Labels::ToString.

#include <algorithm>
#include <string>
#include <vector>

#include "storage/labels.h"
#include "storage/labels/quote.h"
#include "storage/base/utf8.h"

namespace vigil::storage {

namespace {

struct ParsedLabel {
  std::string name;
  std::string value;
  size_t pos;  // where the item starts, for error messages
};

class SeriesParser {
 public:
  explicit SeriesParser(std::string_view text) : text_(text) {}

  Result<Labels> Parse() {
    SkipSpace();
    if (Peek() != '{') {
      const size_t start = pos_;
      std::string_view metric = ScanIdent(/*metric=*/true);
      if (metric.empty()) return Error(start, "expected a metric name or '{'");
      items_.push_back({std::string(kMetricNameLabel), std::string(metric), start});
      SkipSpace();
    }
    if (Peek() == '{') {
      ++pos_;
      VIGIL_RETURN_IF_ERROR(ParseBraces());
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error(pos_, "unexpected trailing input");
    return Finish();
  }

 private:
  Status ParseBraces() {
    bool need_sep = false;
    bool has_quoted_metric = false;
    for (;;) {
      SkipSpace();
      if (Peek() == '}') {
        ++pos_;
        return Status::OK();
      }
      if (need_sep) {
        if (Peek() != ',') return Error(pos_, "expected ',' or '}'");
        ++pos_;
        need_sep = false;
        continue;
      }
      const size_t item_pos = pos_;
      std::string name;
      bool quoted_name = false;
      if (IsQuote(Peek())) {
        VIGIL_RETURN_IF_ERROR(ScanString(&name));
        quoted_name = true;
      } else {
        std::string_view ident = ScanIdent(/*metric=*/false);
        if (ident.empty()) return Error(pos_, "expected a label name, a quoted string or '}'");
        name = std::string(ident);
      }
      SkipSpace();
      if (quoted_name && (Peek() == ',' || Peek() == '}')) {
        // Prometheus 3 form `{"metric.name", a="b"}`.
        if (has_quoted_metric) return Error(item_pos, "second quoted metric name");
        has_quoted_metric = true;
        items_.push_back({std::string(kMetricNameLabel), std::move(name), item_pos});
        need_sep = true;
        continue;
      }
      if (Peek() != '=') return Error(pos_, "expected '=' after label name");
      ++pos_;
      if (Peek() == '~') return Error(pos_ - 1, "matchers are not allowed in a series, expected '='");
      SkipSpace();
      if (!IsQuote(Peek())) return Error(pos_, "expected a quoted label value");
      std::string value;
      VIGIL_RETURN_IF_ERROR(ScanString(&value));
      items_.push_back({std::move(name), std::move(value), item_pos});
      need_sep = true;
    }
  }

  Result<Labels> Finish() {
    std::stable_sort(items_.begin(), items_.end(),
                     [](const ParsedLabel& a, const ParsedLabel& b) { return a.name < b.name; });
    LabelsBuilder builder;
    for (size_t i = 0; i < items_.size(); ++i) {
      const ParsedLabel& it = items_[i];
      if (i > 0 && items_[i - 1].name == it.name) {
        const ParsedLabel& later = items_[i - 1].pos > it.pos ? items_[i - 1] : it;
        return Error(later.pos, "duplicate label name \"" + it.name + "\"");
      }
      if (!IsValidLabelName(it.name)) {
        std::string msg = "invalid label name ";
        detail::AppendQuoted(it.name, &msg);
        return Error(it.pos, msg + ", names must match [a-zA-Z_][a-zA-Z0-9_]*");
      }
      if (it.name == kMetricNameLabel && !IsValidMetricName(it.value)) {
        std::string msg = "invalid metric name ";
        detail::AppendQuoted(it.value, &msg);
        return Error(it.pos, msg + ", metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*");
      }
      builder.Add(it.name, it.value);
    }
    return builder.Build();
  }

  static bool IsQuote(char c) { return c == '"' || c == '\'' || c == '`'; }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  std::string_view ScanIdent(bool metric) {
    const size_t start = pos_;
    auto ok = [&](char c, bool first) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':') ||
             (!first && c >= '0' && c <= '9');
    };
    while (pos_ < text_.size() && ok(text_[pos_], pos_ == start)) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Status Error(size_t pos, const std::string& what) const {
    std::string msg = "cannot parse series ";
    detail::AppendQuoted(text_, &msg);
    return Status::InvalidArgument(msg + " at position " + std::to_string(pos) + ": " + what);
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads `n` hex digits at pos_ into *v.
  Status ScanHex(int n, uint32_t* v) {
    *v = 0;
    for (int i = 0; i < n; ++i, ++pos_) {
      const int d = HexValue(Peek());
      if (d < 0) return Error(pos_, "expected a hexadecimal digit in escape sequence");
      *v = *v << 4 | static_cast<uint32_t>(d);
    }
    return Status::OK();
  }

  // REQUIRES: IsQuote(Peek()). Decodes the string literal into *out and checks it is UTF-8.
  Status ScanString(std::string* out) {
    const size_t start = pos_;
    const char quote = text_[pos_++];
    for (;;) {
      if (pos_ >= text_.size()) return Error(start, "unterminated string");
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (quote == '`') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      if (c == '\n') return Error(pos_, "newline in string (use \\n)");
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      const size_t esc = pos_++;
      const char e = Peek();
      ++pos_;
      switch (e) {
        case 'a': out->push_back('\a'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'v': out->push_back('\v'); break;
        case '\\': case '"': case '\'': out->push_back(e); break;
        case 'x': {
          uint32_t v;
          VIGIL_RETURN_IF_ERROR(ScanHex(2, &v));
          out->push_back(static_cast<char>(v));
          break;
        }
        case 'u': case 'U': {
          uint32_t cp;
          VIGIL_RETURN_IF_ERROR(ScanHex(e == 'u' ? 4 : 8, &cp));
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Error(esc, "escape sequence is not a valid Unicode code point");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2; ++i, ++pos_) {
              if (Peek() < '0' || Peek() > '7') return Error(pos_, "expected an octal digit in escape sequence");
              v = v * 8 + static_cast<uint32_t>(Peek() - '0');
            }
            if (v > 255) return Error(esc, "octal escape value above 255");
            out->push_back(static_cast<char>(v));
            break;
          }
          return Error(esc, "unknown escape sequence");
      }
    }
    if (size_t bad = FindInvalidUtf8(*out); bad != std::string::npos) {
      return Error(start, "string is not valid UTF-8 (byte " + std::to_string(bad) + " of its value)");
    }
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<ParsedLabel> items_;
};

}  // namespace

Result<Labels> ParseLabels(std::string_view text) { return SeriesParser(text).Parse(); }

}  // namespace vigil::storage
