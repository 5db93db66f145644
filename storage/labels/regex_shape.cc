#include "storage/labels/regex_shape.h"

#include <algorithm>

namespace vigil::storage::detail {

namespace {

// Characters with a meaning in RE2 syntax; unescaped, they end a literal.
bool IsMeta(char c) {
  switch (c) {
    case '\\': case '.': case '+': case '*': case '?': case '(': case ')': case '|':
    case '[': case ']': case '{': case '}': case '^': case '$':
      return true;
    default:
      return false;
  }
}

// Punctuation that RE2 reads as itself when escaped. Kept to a list checked against RE2 by
// tests/storage/matcher_test.cc; other escapes (\d, \n, \x41, \pL, ...) go to RE2.
bool IsEscapableLiteral(char c) { return IsMeta(c) || c == '-' || c == '/' || c == '_' || c == ' '; }

// Consumes literal characters from the start of re into *out. Returns the number of bytes consumed;
// stops at the first unescaped metacharacter or unsupported escape.
size_t ScanLiteral(std::string_view re, std::string* out) {
  size_t i = 0;
  while (i < re.size()) {
    const char c = re[i];
    if (c == '\\') {
      if (i + 1 >= re.size() || !IsEscapableLiteral(re[i + 1])) return i;
      out->push_back(re[i + 1]);
      i += 2;
    } else if (IsMeta(c)) {
      return i;
    } else {
      out->push_back(c);
      ++i;
    }
  }
  return i;
}

bool IsLiteral(std::string_view re, std::string* out) { return ScanLiteral(re, out) == re.size(); }

// Index of the ')' closing the '(' at re[open], or npos. Escapes are skipped; a '[' makes the
// analysis give up because brackets may hide parentheses.
size_t MatchingParen(std::string_view re, size_t open) {
  int depth = 0;
  for (size_t i = open; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      return std::string_view::npos;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

// Removes groups `( ... )` and `(?: ... )` that span the whole expression.
std::string_view StripOuterGroups(std::string_view re) {
  for (;;) {
    if (re.size() < 2 || re[0] != '(' || MatchingParen(re, 0) != re.size() - 1) return re;
    if (re.size() >= 4 && re.substr(0, 3) == "(?:") {
      re = re.substr(3, re.size() - 4);
    } else if (re[1] != '?') {
      re = re.substr(1, re.size() - 2);
    } else {
      return re;  // flags such as (?i:...)
    }
  }
}

// Splits on '|' at the top level. Returns false when re contains any group or class, so every
// branch is flat.
bool SplitAlternation(std::string_view re, std::vector<std::string_view>* branches) {
  size_t start = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
    } else if (c == '(' || c == '[') {
      return false;
    } else if (c == '|') {
      branches->push_back(re.substr(start, i - start));
      start = i + 1;
    }
  }
  branches->push_back(re.substr(start));
  return true;
}

}  // namespace

RegexAnalysis AnalyzeRegex(std::string_view re) {
  RegexAnalysis a;
  re = StripOuterGroups(re);
  if (re == ".*") {
    a.shape = RegexShape::kAny;
    return a;
  }
  if (re == ".+") {
    a.shape = RegexShape::kNonEmpty;
    return a;
  }
  std::vector<std::string_view> branches;
  if (!SplitAlternation(re, &branches)) return a;
  if (branches.size() == 1) {
    std::string lit;
    const size_t n = ScanLiteral(re, &lit);
    if (n == re.size()) {
      a.shape = RegexShape::kLiteralSet;
      a.literals.push_back(std::move(lit));
    } else if (re.substr(n) == ".*") {
      a.shape = RegexShape::kPrefix;
      a.prefix = std::move(lit);
    }
    return a;
  }
  for (std::string_view b : branches) {
    std::string lit;
    if (!IsLiteral(b, &lit)) return RegexAnalysis{};
    a.literals.push_back(std::move(lit));
  }
  std::sort(a.literals.begin(), a.literals.end());
  a.literals.erase(std::unique(a.literals.begin(), a.literals.end()), a.literals.end());
  a.shape = RegexShape::kLiteralSet;
  return a;
}

}  // namespace vigil::storage::detail
