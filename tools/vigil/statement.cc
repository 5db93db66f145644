#include "tools/vigil/statement.h"

#include <vector>

#include "storage/base/utf8.h"

namespace vigil::shell {

bool NeedsMoreInput(std::string_view text) {
  int depth = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (comment) {
      if (c == '\n') comment = false;
      continue;
    }
    if (quote != 0) {
      if (c == '\\' && quote != '`') {
        ++i;  // escaped character
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    switch (c) {
      case '"':
      case '\'':
      case '`':
        quote = c;
        break;
      case '#':
        comment = true;
        break;
      case '(':
      case '[':
      case '{':
        ++depth;
        break;
      case ')':
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  if (quote != 0) return true;
  if (depth > 0) return true;
  // An explicit continuation: the last line ends with a backslash (outside a comment).
  std::string_view last =
      text.substr(text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t' || last.back() == '\r')) {
    last.remove_suffix(1);
  }
  return !comment && last.ends_with("\\");
}

std::string_view StripContinuation(std::string_view line) {
  std::string_view l = line;
  while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
    l.remove_suffix(1);
  if (l.ends_with("\\")) {
    l.remove_suffix(1);
    return l;
  }
  return line;
}

bool FindErrorPosition(std::string_view m, int* line, int* column) {
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] < '0' || m[i] > '9') continue;
    if (i > 0 && ((m[i - 1] >= '0' && m[i - 1] <= '9') || m[i - 1] == '.' || m[i - 1] == ':')) {
      continue;
    }
    size_t j = i;
    long l = 0, c = 0;
    while (j < m.size() && m[j] >= '0' && m[j] <= '9' && j - i < 7) l = l * 10 + (m[j++] - '0');
    if (j >= m.size() || m[j] != ':') continue;
    size_t k = ++j;
    while (j < m.size() && m[j] >= '0' && m[j] <= '9' && j - k < 7) c = c * 10 + (m[j++] - '0');
    if (j == k || j >= m.size() || m[j] != ':') continue;  // "line:col:" only, not times
    if (l < 1 || c < 1) continue;
    *line = int(l);
    *column = int(c);
    return true;
  }
  return false;
}

namespace {

bool IsWide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool IsCombining(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F);
}

}  // namespace

int DisplayWidth(std::string_view s) {
  int w = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    int n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      ++w;  // an invalid byte is shown as one replacement character
      ++i;
      continue;
    }
    i += size_t(n);
    if (IsCombining(cp)) continue;
    w += IsWide(cp) ? 2 : 1;
  }
  return w;
}

std::string MarkErrorPosition(std::string_view query, std::string_view message, int indent) {
  int line = 0, column = 0;
  if (!FindErrorPosition(message, &line, &column)) return {};
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (;;) {
    size_t nl = query.find('\n', start);
    lines.push_back(query.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (line > int(lines.size())) return {};
  std::string_view bad = lines[size_t(line - 1)];
  if (size_t(column) > bad.size() + 1) return {};
  bool numbered = lines.size() > 1;
  std::string pad(size_t(indent), ' ');
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string shown(lines[i]);
    for (char& ch : shown) {
      if (ch == '\t') ch = ' ';
    }
    std::string prefix = pad;
    if (numbered) prefix += std::to_string(i + 1) + "| ";
    out += prefix + shown + "\n";
    if (int(i) == line - 1) {
      int col = DisplayWidth(bad.substr(0, size_t(column - 1)));
      out += std::string(size_t(DisplayWidth(prefix) + col), ' ') + "^\n";
    }
  }
  return out;
}

}  // namespace vigil::shell
