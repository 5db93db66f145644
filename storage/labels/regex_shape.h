#pragma once

// Recognises regexes that need no regex engine: literals, alternations of literals, literal
// prefixes followed by `.*`, `.*` and `.+`. Internal to storage/; Matcher exposes the result.

#include <string>
#include <string_view>
#include <vector>

#include "storage/matcher.h"

namespace vigil::storage::detail {

struct RegexAnalysis {
  RegexShape shape = RegexShape::kGeneral;
  std::vector<std::string> literals;  // kLiteralSet: sorted, unique
  std::string prefix;                 // kPrefix
};

// Analyses `re` as matched fully anchored with `.` matching newlines. Conservative: anything it
// does not fully understand (classes, flags such as (?i), quantifiers other than a final `.*`,
// escapes other than of punctuation, nested groups) is kGeneral. Assumes `re` compiles.
RegexAnalysis AnalyzeRegex(std::string_view re);

}  // namespace vigil::storage::detail
