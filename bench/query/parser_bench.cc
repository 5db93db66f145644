// Parse time of typical dashboard queries (Google Benchmark).

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "query/parser.h"

namespace vigil::query {
namespace {

const std::vector<std::string>& DashboardQueries() {
  static const std::vector<std::string> kQueries = {
      "up",
      "rate(http_requests_total{job=\"api\", status=~\"5..\"}[5m])",
      "sum by (job) (rate(http_requests_total[5m]))",
      "histogram_quantile(0.99, sum by (le, service) "
      "(rate(http_request_duration_seconds_bucket{service=~\"checkout|cart\"}[5m])))",
      "sum(rate(errors_total[5m])) by (job) / on(job) group_left sum(rate(requests_total[5m])) "
      "by (job) > 0.05",
      "topk(10, sum without (instance, pod) (container_memory_working_set_bytes"
      "{namespace=\"prod\", container!=\"\"}))",
      "max_over_time(deriv(node_filesystem_free_bytes{mountpoint=\"/\"}[1h])[1d:5m]) < 0",
      "(1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))) * 100",
      "predict_linear(node_filesystem_avail_bytes{fstype!~\"tmpfs|overlay\"}[6h], 4 * 3600) < 0",
      "label_replace(up{job=~\".+\"} offset 1h, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")",
  };
  return kQueries;
}

void BM_ParseDashboardQuery(benchmark::State& state) {
  const std::string& q = DashboardQueries()[static_cast<size_t>(state.range(0))];
  for (auto _ : state) {
    auto r = ParseExpr(q);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * q.size()));
  state.SetLabel(q.substr(0, 40));
}
BENCHMARK(BM_ParseDashboardQuery)->DenseRange(0, 9);

void BM_ParseAllDashboardQueries(benchmark::State& state) {
  size_t bytes = 0;
  for (const auto& q : DashboardQueries()) bytes += q.size();
  for (auto _ : state) {
    for (const auto& q : DashboardQueries()) {
      auto r = ParseExpr(q);
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * DashboardQueries().size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ParseAllDashboardQueries);

void BM_FormatDashboardQueries(benchmark::State& state) {
  std::vector<ExprPtr> trees;
  for (const auto& q : DashboardQueries()) trees.push_back(std::move(ParseExpr(q).value()));
  for (auto _ : state) {
    for (const auto& t : trees) benchmark::DoNotOptimize(Format(*t));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * trees.size()));
}
BENCHMARK(BM_FormatDashboardQueries);

}  // namespace
}  // namespace vigil::query

BENCHMARK_MAIN();
