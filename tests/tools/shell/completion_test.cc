#include <catch2/catch.hpp>

#include "tools/vigil/completion.h"

using namespace vigil::shell;

namespace {

class FixedSource : public CompletionSource {
 public:
  int calls = 0;
  vigil::Result<std::vector<std::string>> MetricNames() override {
    ++calls;
    return std::vector<std::string>{"http_requests_total", "http_request_duration_seconds",
                                    "node_load1", "rate_limited_total"};
  }
  vigil::Result<std::vector<std::string>> LabelNames(std::string_view metric) override {
    ++calls;
    last_metric = std::string(metric);
    return std::vector<std::string>{"__name__", "instance", "job", "method"};
  }
  vigil::Result<std::vector<std::string>> LabelValues(std::string_view label,
                                                      std::string_view metric) override {
    ++calls;
    last_metric = std::string(metric);
    last_label = std::string(label);
    return std::vector<std::string>{"api", "apiserver", "db", "say\"hi"};
  }
  std::string last_metric, last_label;
};

}  // namespace

TEST_CASE("Completion context: where the cursor is", "[tools][shell][completion]") {
  auto ctx = AnalyzeCompletion("sum(rate(http_re");
  CHECK(ctx.kind == CompletionKind::kExpression);
  CHECK(ctx.prefix == "http_re");

  ctx = AnalyzeCompletion("http_requests_total{");
  CHECK(ctx.kind == CompletionKind::kLabelName);
  CHECK(ctx.metric == "http_requests_total");
  CHECK(ctx.in_selector);

  ctx = AnalyzeCompletion("http_requests_total{job=\"api\", me");
  CHECK(ctx.kind == CompletionKind::kLabelName);
  CHECK(ctx.prefix == "me");

  ctx = AnalyzeCompletion("http_requests_total{job=~\"ap");
  CHECK(ctx.kind == CompletionKind::kLabelValue);
  CHECK(ctx.label == "job");
  CHECK(ctx.prefix == "ap");
  CHECK(ctx.open_quote);
  CHECK(ctx.metric == "http_requests_total");

  ctx = AnalyzeCompletion("up{job=");
  CHECK(ctx.kind == CompletionKind::kLabelValue);
  CHECK_FALSE(ctx.open_quote);

  ctx = AnalyzeCompletion("sum by (ins");
  CHECK(ctx.kind == CompletionKind::kLabelName);
  CHECK_FALSE(ctx.in_selector);

  ctx = AnalyzeCompletion("a / on(job, ");
  CHECK(ctx.kind == CompletionKind::kLabelName);

  ctx = AnalyzeCompletion("rate(x[");
  CHECK(ctx.kind == CompletionKind::kDuration);

  ctx = AnalyzeCompletion("sum(\n  rate(x[5m])) by (job) + node_l");
  CHECK(ctx.kind == CompletionKind::kExpression);
  CHECK(ctx.prefix == "node_l");

  CHECK(AnalyzeCompletion("up{job=\"(\"} + no").prefix == "no");
  CHECK(AnalyzeCompletion("up # comment ").kind == CompletionKind::kNone);
  CHECK(AnalyzeCompletion("up > 1").kind == CompletionKind::kNone);

  ctx = AnalyzeCompletion("\\fo");
  CHECK(ctx.kind == CompletionKind::kMetaCommand);
  CHECK(ctx.prefix == "\\fo");
  CHECK(AnalyzeCompletion("\\format c").kind == CompletionKind::kFormat);
  CHECK(AnalyzeCompletion("\\labels http").kind == CompletionKind::kMetric);
  ctx = AnalyzeCompletion("\\series up{j");
  CHECK(ctx.kind == CompletionKind::kLabelName);
  CHECK(ctx.metric == "up");
}

TEST_CASE("Completion candidates and the text inserted", "[tools][shell][completion]") {
  FixedSource src;
  Completion c = Complete(AnalyzeCompletion("http_req"), &src);
  CHECK(c.candidates ==
        std::vector<std::string>{"http_request_duration_seconds", "http_requests_total"});
  CHECK(c.insert == "uest");  // the common prefix

  c = Complete(AnalyzeCompletion("node"), &src);
  CHECK(c.insert == "_load1");

  // Functions and metrics mix; a unique function gets its parenthesis.
  c = Complete(AnalyzeCompletion("rat"), &src);
  CHECK(c.candidates == std::vector<std::string>{"rate", "rate_limited_total"});
  c = Complete(AnalyzeCompletion("label_rep"), &src);
  CHECK(c.insert == "lace(");
  c = Complete(AnalyzeCompletion("sum(rate(x[5m])) wi"), &src);
  CHECK(c.insert == "thout");

  c = Complete(AnalyzeCompletion("http_requests_total{j"), &src);
  CHECK(c.insert == "ob=");
  CHECK(src.last_metric == "http_requests_total");
  c = Complete(AnalyzeCompletion("sum by (ins"), &src);
  CHECK(c.insert == "tance");
  c = Complete(AnalyzeCompletion("up{"), &src);
  CHECK(c.candidates == std::vector<std::string>{"instance", "job", "method"});  // no __name__

  c = Complete(AnalyzeCompletion("up{job=\"d"), &src);
  CHECK(c.insert == "b\"");
  CHECK(src.last_label == "job");
  CHECK(src.last_metric == "up");
  c = Complete(AnalyzeCompletion("up{job=\"ap"), &src);
  CHECK(c.insert == "i");
  c = Complete(AnalyzeCompletion("up{job="), &src);
  CHECK(c.insert == "\"");  // opens the quote; Tab again lists
  c = Complete(AnalyzeCompletion("up{job=\"s"), &src);
  CHECK(c.insert == "ay\\\"hi\"");  // escaped inside the string

  c = Complete(AnalyzeCompletion("\\for"), &src);
  CHECK(c.insert == "mat ");
  c = Complete(AnalyzeCompletion("\\format c"), &src);
  CHECK(c.candidates == std::vector<std::string>{"chart", "csv"});
  c = Complete(AnalyzeCompletion("rate(x[1"), &src);
  CHECK(c.candidates == std::vector<std::string>{"15m", "1d", "1h", "1m"});
  CHECK(Complete(AnalyzeCompletion("up > 1"), &src).candidates.empty());
}

TEST_CASE("Completion without a server still offers PromQL words", "[tools][shell][completion]") {
  Completion c = Complete(AnalyzeCompletion("count_ov"), nullptr);
  CHECK(c.insert == "er_time(");
  CHECK(std::find(PromqlWords().begin(), PromqlWords().end(), "group_left") != PromqlWords().end());
  CHECK(LongestCommonPrefix({"abc", "abd", "ab"}) == "ab");
  CHECK(LongestCommonPrefix({}) == "");
}
