#pragma once

// Parsing of promqltest scripts: commands, expectations and expected results. Internal to
// query/promqltest.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/promqltest/values.h"
#include "storage/base/status.h"
#include "storage/labels.h"

namespace vigil::query::promqltest {

struct Expect {
  enum Type { kFail, kWarn, kInfo, kNoWarn, kNoInfo, kOrdered } type;
  enum Match { kAny, kMsg, kRegex } match = kAny;
  std::string text;
};

struct ExpectedSeries {
  storage::Labels labels;
  std::vector<SeqValue> values;
};

struct EvalCmd {
  int line = 0;
  std::string expr;
  bool range = false;
  int64_t start = 0, end = 0, step = 0;
  std::vector<Expect> expects;
  bool fail = false, ordered = false;
  std::optional<double> scalar;
  std::optional<std::string> str;
  bool range_vector = false;
  int64_t rv_start = 0, rv_end = 0, rv_step = 0;
  std::vector<ExpectedSeries> series;
  bool native = false;
  std::string parse_error;
};

// Prometheus' float comparison in tests: exact for equal values and NaN, else 1e-6 relative.
bool AlmostEqual(double a, double b);

// Lines trimmed of blanks, comment lines emptied (an empty line ends a command's block).
std::vector<std::string> Lines(std::string_view text);
std::vector<std::string_view> Fields(std::string_view s);
// The rest of `line` after skipping n whitespace-separated fields.
std::string_view AfterFields(std::string_view line, size_t n);
// A duration, or a negative one with a leading '-'.
Result<int64_t> ParseTime(std::string_view s);
Result<storage::Labels> SeriesLabels(std::string_view desc);

// `eval ...` / `eval_fail ...` header, then each indented line of its block.
Status ParseEvalHeader(std::string_view line, EvalCmd* cmd);
Status ParseResultLine(std::string_view line, EvalCmd* cmd);

}  // namespace vigil::query::promqltest
