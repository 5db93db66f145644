#include "query/promqltest/values.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "storage/series_ref.h"

namespace vigil::query::promqltest {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits "a<op>bxN" / "axN" / "a": returns false if the text is not of that form.
Status ExpandFloat(std::string_view tok, std::vector<SeqValue>* out) {
  std::string_view base = tok;
  std::optional<uint64_t> times;
  size_t x = tok.rfind('x');
  if (x != std::string_view::npos && x > 0 && AllDigits(tok.substr(x + 1))) {
    times = std::stoull(std::string(tok.substr(x + 1)));
    base = tok.substr(0, x);
  }
  // Find a '+' / '-' operator after the first character, not part of an exponent.
  size_t op = std::string_view::npos;
  for (size_t i = 1; i < base.size(); ++i) {
    if ((base[i] == '+' || base[i] == '-') && base[i - 1] != 'e' && base[i - 1] != 'E') {
      op = i;
      break;
    }
  }
  if (op != std::string_view::npos) {
    auto a = ParseNumber(base.substr(0, op));
    auto b = ParseNumber(base.substr(op + 1));
    if (!a || !b || !times) return Status::InvalidArgument("bad value " + std::string(tok));
    double inc = base[op] == '-' ? -*b : *b;
    double v = *a;
    out->push_back({SeqValue::kFloat, v});
    for (uint64_t i = 1; i <= *times; ++i) {
      v += inc;
      out->push_back({SeqValue::kFloat, v});
    }
    return Status::OK();
  }
  auto a = ParseNumber(base);
  if (!a) return Status::InvalidArgument("bad value " + std::string(tok));
  uint64_t n = times ? *times + 1 : 1;
  for (uint64_t i = 0; i < n; ++i) out->push_back({SeqValue::kFloat, *a});
  return Status::OK();
}

}  // namespace

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty() || s.front() == ' ') return std::nullopt;
  std::string str(s);
  std::string lower;
  for (char c : str)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "inf" || lower == "+inf") return HUGE_VAL;
  if (lower == "-inf") return -HUGE_VAL;
  if (lower == "nan") return std::nan("");
  if (lower.find("inf") != std::string::npos || lower.find("nan") != std::string::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  double v;
  if (lower.size() > 2 && (lower.rfind("0x", 0) == 0 || lower.rfind("-0x", 0) == 0)) {
    v = static_cast<double>(std::strtoll(str.c_str(), &end, 16));
  } else {
    v = std::strtod(str.c_str(), &end);
  }
  if (end != str.c_str() + str.size()) return std::nullopt;
  return v;
}

Result<std::vector<SeqValue>> ParseValues(std::string_view text) {
  std::vector<SeqValue> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    size_t start = i;
    int depth = 0;
    while (i < text.size() && (depth > 0 || !std::isspace(static_cast<unsigned char>(text[i])))) {
      if (text[i] == '{') ++depth;
      if (text[i] == '}') --depth;
      ++i;
    }
    std::string_view tok = text.substr(start, i - start);
    if (tok.find("{{") != std::string_view::npos) {
      size_t close = tok.rfind("}}");
      std::string_view rest = close == std::string_view::npos ? "" : tok.substr(close + 2);
      uint64_t n = 1;
      if (!rest.empty() && rest[0] == 'x' && AllDigits(rest.substr(1))) {
        n = std::stoull(std::string(rest.substr(1))) + 1;
      }
      for (uint64_t k = 0; k < n; ++k) out.push_back({SeqValue::kHistogram, 0});
      continue;
    }
    if (tok == "_") {
      out.push_back({SeqValue::kOmitted, 0});
      continue;
    }
    if (tok.size() > 2 && tok.substr(0, 2) == "_x" && AllDigits(tok.substr(2))) {
      uint64_t n = std::stoull(std::string(tok.substr(2)));
      for (uint64_t k = 0; k < n; ++k) out.push_back({SeqValue::kOmitted, 0});
      continue;
    }
    if (tok == "stale") {
      out.push_back({SeqValue::kStale, 0});
      continue;
    }
    VIGIL_RETURN_IF_ERROR(ExpandFloat(tok, &out));
  }
  return out;
}

bool SplitSeriesLine(std::string_view line, std::string_view* series, std::string_view* values) {
  size_t i = 0;
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '.';
  };
  while (i < line.size() && is_name(line[i])) ++i;
  if (i < line.size() && line[i] == '{') {
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == '\\' && quote != '`') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '\'' || c == '`') quote = c;
      if (c == '}') {
        ++i;
        break;
      }
    }
  }
  if (i == 0) return false;
  *series = line.substr(0, i);
  *values = line.substr(i);
  return true;
}

}  // namespace vigil::query::promqltest
