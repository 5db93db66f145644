#include "query/parser/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace vigil::query::detail {

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]xx.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  size_t e = sci.find('e');
  std::string_view mant = sci.substr(0, e);
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  bool neg = mant[0] == '-';
  if (neg) mant.remove_prefix(1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    out += digits;
    out.append(int_digits - digits.size(), '0');
  } else {
    out.append(digits, 0, int_digits);
    out += '.';
    out.append(digits, int_digits);
  }
  return out;
}

namespace {

// An approximation of Go's unicode.IsPrint: controls, C1 controls, separators other than the
// ASCII space, soft hyphen, BOM and surrogate/private ranges are not printable.
bool IsPrint(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xA0 || r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if (r >= 0x2000 && r <= 0x200F) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;
  if (r >= 0xFFF0 && r <= 0xFFFF) return false;
  return r <= 0x10FFFF;
}

void AppendEscapedRune(char32_t r, char quote, std::string* out) {
  char buf[16];
  switch (r) {
    case '\a': *out += "\\a"; return;
    case '\b': *out += "\\b"; return;
    case '\f': *out += "\\f"; return;
    case '\n': *out += "\\n"; return;
    case '\r': *out += "\\r"; return;
    case '\t': *out += "\\t"; return;
    case '\v': *out += "\\v"; return;
    case '\\': *out += "\\\\"; return;
    default: break;
  }
  if (r == static_cast<char32_t>(quote)) {
    out->push_back('\\');
    out->push_back(quote);
    return;
  }
  if (IsPrint(r)) {
    AppendUtf8(r, out);
  } else if (r < 0x80) {
    std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(r));
    *out += buf;
  } else if (r < 0x10000) {
    std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(r));
    *out += buf;
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(r));
    *out += buf;
  }
}

}  // namespace

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    int n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(s[i]));
      *out += buf;
      ++i;
      continue;
    }
    AppendEscapedRune(cp, '"', out);
    i += n;
  }
  out->push_back('"');
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendQuoted(s, &out);
  return out;
}

std::string QuoteRune(char32_t r) {
  std::string out = "'";
  AppendEscapedRune(r, '\'', &out);
  out += '\'';
  return out;
}

std::string UnicodeRune(char32_t r) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(r));
  std::string out = buf;
  if (IsPrint(r)) {
    out += " '";
    AppendUtf8(r, &out);
    out += '\'';
  }
  return out;
}

namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;
}

}  // namespace

bool Unquote(std::string_view token, std::string* out) {
  out->clear();
  if (token.size() < 2 || token.front() != token.back()) return false;
  char q = token.front();
  std::string_view body = token.substr(1, token.size() - 2);
  if (q == '`') {
    if (body.find('`') != std::string_view::npos) return false;
    out->assign(body);
    return true;
  }
  if (q != '"' && q != '\'') return false;
  out->reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == q || c == '\n') return false;
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (++i >= body.size()) return false;
    char e = body[i++];
    int digits = 0;
    int base = 16;
    switch (e) {
      case 'a': out->push_back('\a'); continue;
      case 'b': out->push_back('\b'); continue;
      case 'f': out->push_back('\f'); continue;
      case 'n': out->push_back('\n'); continue;
      case 'r': out->push_back('\r'); continue;
      case 't': out->push_back('\t'); continue;
      case 'v': out->push_back('\v'); continue;
      case '\\': out->push_back('\\'); continue;
      case '"':
      case '\'':
        if (e != q) return false;
        out->push_back(e);
        continue;
      case 'x': digits = 2; break;
      case 'u': digits = 4; break;
      case 'U': digits = 8; break;
      default:
        if (e < '0' || e > '7') return false;
        digits = 3, base = 8, --i;
        break;
    }
    if (i + digits > body.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      int d = HexVal(body[i + k]);
      if (d >= base) return false;
      v = v * base + d;
    }
    i += digits;
    if (e == 'x' || base == 8) {
      if (v > 255) return false;
      out->push_back(static_cast<char>(v));  // a raw byte, as in Go
    } else {
      if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return false;
      AppendUtf8(v, out);
    }
  }
  return true;
}

bool IsLegacyLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsLegacyMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace vigil::query::detail
