#pragma once

// One shell session: runs statements (PromQL or meta commands) against the server and prints
// their results. Used by the interactive loop and by `vigil -e` / `-f` / stdin alike.
//
// Thread safety: single-threaded.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "tools/vigil/api.h"
#include "tools/vigil/completion.h"
#include "tools/vigil/render.h"

namespace vigil::shell {

// The range that queries use after `\range START END [STEP]`; times are kept as written and
// resolved for every query, so `-1h now` follows the clock.
struct RangeSpec {
  std::string start, end;
  int64_t step_ms = 0;  // 0: chosen from the span (about 250 points for charts, 60 for tables)
};

struct ShellOptions {
  Format format = Format::kTable;
  RenderOptions render;
  std::optional<RangeSpec> range;
  std::string time;    // instant queries: evaluation time as ParseTime accepts; "" = server now
  bool footer = true;  // timing and counts after table and chart results
  bool interactive = false;
};

class Shell {
 public:
  Shell(ApiClient* api, ShellOptions options, std::FILE* out, std::FILE* err);

  // Runs one statement and prints its result or its error (with the error's position marked
  // under the query). Returns the statement's status (used for exit codes).
  Status Execute(std::string_view statement);

  bool quit_requested() const { return quit_; }
  CompletionSource* completion_source() { return &completion_; }
  ShellOptions& options() { return options_; }

  // Wall-clock "now" in milliseconds; replaceable for tests.
  void set_now_for_testing(int64_t ms) { now_for_testing_ = ms; }

 private:
  Status RunQuery(std::string_view query);
  Status Meta(std::string_view line);
  Status Help();
  Status Metrics(std::string_view pattern);
  Status Labels(std::string_view metric);
  Status SeriesCmd(std::string_view selector);
  Status RangeCmd(std::string_view args);
  Status FormatCmd(std::string_view args);
  Status StatusCmd();
  Status Cq(std::string_view args);
  void PrintError(const Status& st, std::string_view query);
  void PrintList(const std::vector<std::string>& words);
  void Print(std::string_view s);
  void Note(std::string_view s);     // dim in a colour terminal
  void Confirm(std::string_view s);  // a Note shown only in the interactive shell
  int64_t Now() const;

  ApiClient* api_;
  ShellOptions options_;
  std::FILE* out_;
  std::FILE* err_;
  CachedCompletionSource completion_;
  bool quit_ = false;
  std::string error_context_;  // the text a meta command's error position refers to
  int64_t now_for_testing_ = 0;
};

// The text of `\help`.
std::string_view HelpText();

}  // namespace vigil::shell
