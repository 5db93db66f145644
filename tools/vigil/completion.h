#pragma once

// Tab completion: what the word before the cursor is (metric, label name, label value, function,
// meta command...) and the candidates for it. Metric names, label names and label values come
// from the server through a CompletionSource, fetched on the first Tab that needs them and cached
// for a short while, so the shell starts without a round trip.

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::shell {

class ApiClient;

enum class CompletionKind {
  kNone,
  kExpression,   // metric names, functions, aggregations, keywords
  kLabelName,    // inside {...} or by (...)
  kLabelValue,   // after label= inside {...}
  kDuration,     // inside [...]
  kMetaCommand,  // \he
  kFormat,       // \format c
  kMetric,       // \labels <metric>
};

struct CompletionContext {
  CompletionKind kind = CompletionKind::kNone;
  std::string prefix;        // the part of the word already typed (inside quotes for label values)
  std::string metric;        // the metric of the selector around the cursor, when written
  std::string label;         // kLabelValue: the label whose value is typed
  bool open_quote = false;   // kLabelValue: the opening quote is typed already
  bool in_selector = false;  // kLabelName: inside {...} (a unique name gets '=' appended)
};

// Looks at the statement text before the cursor (all its lines).
CompletionContext AnalyzeCompletion(std::string_view before_cursor);

// Where the server's lists come from (an interface, so tests can use fixed lists).
class CompletionSource {
 public:
  virtual ~CompletionSource() = default;
  virtual Result<std::vector<std::string>> MetricNames() = 0;
  virtual Result<std::vector<std::string>> LabelNames(std::string_view metric) = 0;
  virtual Result<std::vector<std::string>> LabelValues(std::string_view label,
                                                       std::string_view metric) = 0;
};

// Asks the server and keeps each answer for `ttl`.
class CachedCompletionSource final : public CompletionSource {
 public:
  CachedCompletionSource(ApiClient* api, std::chrono::milliseconds ttl) : api_(api), ttl_(ttl) {}
  Result<std::vector<std::string>> MetricNames() override;
  Result<std::vector<std::string>> LabelNames(std::string_view metric) override;
  Result<std::vector<std::string>> LabelValues(std::string_view label,
                                               std::string_view metric) override;

 private:
  struct Entry {
    std::chrono::steady_clock::time_point fetched;
    std::vector<std::string> values;
  };
  template <typename Fetch>
  Result<std::vector<std::string>> Cached(const std::string& key, Fetch fetch);

  ApiClient* api_;
  std::chrono::milliseconds ttl_;
  std::map<std::string, Entry> cache_;
};

struct Completion {
  // Full candidate words for the context (what the word becomes), sorted and unique.
  std::vector<std::string> candidates;
  // Text to insert at the cursor: the unique candidate's rest plus a suffix ("(" after a
  // function, a closing quote after a label value), or the candidates' common prefix's rest.
  std::string insert;
  Status status;  // an error fetching from the server (candidates may still hold static ones)
};

// Candidates for `ctx`. `source` may be null (only static candidates then).
Completion Complete(const CompletionContext& ctx, CompletionSource* source);

// PromQL function names, aggregation operators and keywords (static).
const std::vector<std::string>& PromqlWords();
// Meta command names, with the backslash.
const std::vector<std::string>& MetaCommands();

std::string LongestCommonPrefix(const std::vector<std::string>& words);

}  // namespace vigil::shell
