#include "query/eval/helpers.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "query/parser/text.h"

namespace vigil::query::eval {

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::nan("");
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
    return a < b;
  });
  const double n = static_cast<double>(values.size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

std::string LabelsString(const storage::Labels& ls) {
  std::string out = "{";
  bool first = true;
  for (const storage::Label& l : ls) {
    if (!first) out += ", ";
    first = false;
    if (detail::IsLegacyLabelName(l.name)) {
      out.append(l.name);
    } else {
      detail::AppendQuoted(l.name, &out);
    }
    out += "=";
    detail::AppendQuoted(l.value, &out);
  }
  out += "}";
  return out;
}

uint64_t PromLabelsHash(const storage::Labels& ls) {
  std::string b;
  for (const storage::Label& l : ls) {
    b.append(l.name);
    b.push_back('\xff');
    b.append(l.value);
    b.push_back('\xff');
  }
  return XXH64(b.data(), b.size(), 0);
}

bool RatioSelects(double ratio, const storage::Labels& ls) {
  const double offset = static_cast<double>(PromLabelsHash(ls)) /
                        static_cast<double>(std::numeric_limits<uint64_t>::max());
  return (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1.0 + ratio);
}

bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t si = i, sj = j;
      while (si < a.size() && a[si] == '0') ++si;
      while (sj < b.size() && b[sj] == '0') ++sj;
      size_t ei = si, ej = sj;
      while (ei < a.size() && digit(a[ei])) ++ei;
      while (ej < b.size() && digit(b[ej])) ++ej;
      if (ei - si != ej - sj) return ei - si < ej - sj;
      int c = a.substr(si, ei - si).compare(b.substr(sj, ej - sj));
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace vigil::query::eval
