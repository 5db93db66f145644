// Entry points of query/parser.h.

#include <algorithm>

#include "query/parser.h"
#include "query/parser/parser.h"
#include "query/parser/text.h"

namespace vigil::query {
namespace {

Status MakeError(std::string_view input, PosRange span, const std::string& message,
                 ParseError* out) {
  uint32_t pos = std::min<uint32_t>(span.start, static_cast<uint32_t>(input.size()));
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  int column = static_cast<int>(pos - line_start) + 1;
  if (out != nullptr) *out = ParseError{span, line, column, message};
  return Status::InvalidArgument(std::to_string(line) + ":" + std::to_string(column) +
                                 ": parse error: " + message);
}

}  // namespace

Result<ExprPtr> ParseExpr(std::string_view input, const ParseOptions& options,
                          ParseError* error) {
  if (input.size() > UINT32_MAX / 2) {
    return MakeError(input, {0, 0}, "query too long", error);
  }
  detail::Parser parser(input, options);
  ExprPtr e = parser.ParseTop();
  if (parser.failed()) {
    return MakeError(input, parser.error_span(), parser.error_message(), error);
  }
  PosRange span;
  std::string message;
  if (!detail::CheckTree(e.get(), input, &span, &message)) {
    return MakeError(input, span, message, error);
  }
  return e;
}

Result<std::vector<LabelPair>> ParseSeriesDescription(std::string_view text) {
  if (text.size() > UINT32_MAX / 2) return Status::InvalidArgument("series description too long");
  detail::Parser parser(text, ParseOptions{});
  ExprPtr e = parser.ParseSelectorOnly();
  if (parser.failed()) return MakeError(text, parser.error_span(), parser.error_message(), nullptr);
  const auto& vs = e->As<VectorSelector>();
  std::vector<LabelPair> labels;
  for (const LabelMatcher& m : vs.matchers) {
    if (m.type != MatchType::kEqual) {
      return Status::InvalidArgument("series description " + detail::Quoted(text) +
                                     ": only = matchers are allowed, got " +
                                     std::string(MatchTypeString(m.type)));
    }
    labels.push_back({m.name, m.value});
  }
  std::sort(labels.begin(), labels.end(),
            [](const LabelPair& a, const LabelPair& b) { return a.name < b.name; });
  for (size_t i = 1; i < labels.size(); ++i) {
    if (labels[i].name == labels[i - 1].name) {
      return Status::InvalidArgument("series description " + detail::Quoted(text) +
                                     ": label " + detail::Quoted(labels[i].name) +
                                     " set twice");
    }
  }
  return labels;
}

}  // namespace vigil::query
