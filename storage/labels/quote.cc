#include "storage/labels/quote.h"

#include "storage/base/utf8.h"

namespace vigil::storage::detail {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendHexByte(unsigned char c, std::string* out) {
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

bool IsInvisible(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
}

}  // namespace

void AppendQuoted(std::string_view s, std::string* out) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      char32_t cp;
      const int n = DecodeUtf8(s, i, &cp);
      if (n == 0) {
        AppendHexByte(c, out);
        ++i;
      } else if (IsInvisible(cp)) {
        out->append("\\u");
        for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(cp >> shift) & 0xF]);
        i += n;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\a': out->append("\\a"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\v': out->append("\\v"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          AppendHexByte(c, out);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace vigil::storage::detail
