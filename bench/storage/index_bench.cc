// Block index: postings look-up and matcher evaluation speed on 100 k and 1 M series.
//
// Series look like a Kubernetes scrape: 200 metric names x hosts, 10 jobs, 3 zones, a unique pod
// label. Counters: ids/s = postings ids decoded or produced per second (items_per_second).
//
//   storage_bench --benchmark_filter=Index

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "storage/base/mem_file_system.h"
#include "storage/block/index_reader.h"
#include "storage/block/index_writer.h"

namespace vigil::storage {
namespace {

struct Fixture {
  std::unique_ptr<MemFileSystem> fs;
  std::unique_ptr<IndexReader> index;
  size_t bytes = 0;
};

const Fixture& GetIndex(size_t n) {
  static std::map<size_t, Fixture> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::vector<block::IndexSeries> series(n);
  for (size_t i = 0; i < n; ++i) {
    series[i].labels = Labels::FromPairs({{"__name__", "metric_" + std::to_string(i % 200)},
                                          {"instance", "host-" + std::to_string(i / 200) + ":9100"},
                                          {"job", "job-" + std::to_string(i % 10)},
                                          {"pod", "pod-" + std::to_string(i)},
                                          {"zone", "zone-" + std::to_string(i % 3)}});
    series[i].chunks.push_back({0, 7199999, 120, uint64_t{1} << 32 | (8 + 200 * i), {}});
  }
  std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.labels < b.labels; });
  Fixture f;
  f.fs = NewMemFileSystem();
  std::string bytes = block::BuildIndex(series).value();
  f.bytes = bytes.size();
  WriteFileAtomic(f.fs.get(), "/index", bytes).IgnoreError();
  f.index = IndexReader::Open(block::FileView::Open(f.fs.get(), "/index").value()).value();
  return cache.emplace(n, std::move(f)).first->second;
}

Matcher M(MatchType t, const char* name, const char* value) { return Matcher::Make(t, name, value).value(); }

void RunMatchers(benchmark::State& state, const std::vector<Matcher>& ms) {
  const Fixture& f = GetIndex(static_cast<size_t>(state.range(0)));
  size_t out = 0;
  const uint64_t regex_before = RegexEngineMatchesOnThisThread();
  for (auto _ : state) {
    PostingsList ids = f.index->PostingsForMatchers(ms).value();
    out = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["result_ids"] = static_cast<double>(out);
  // RE2 runs per evaluation: 0 for literal sets, prefixes, = and != (they are look-ups).
  state.counters["re2_runs"] = static_cast<double>(RegexEngineMatchesOnThisThread() - regex_before) /
                               static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["index_MiB"] = static_cast<double>(f.bytes) / (1 << 20);
}

// One large list: job="job-3" holds n/10 ids.
void BM_IndexPostingsLarge(benchmark::State& state) {
  const Fixture& f = GetIndex(static_cast<size_t>(state.range(0)));
  size_t ids = 0;
  for (auto _ : state) {
    PostingsList p = f.index->Postings("job", "job-3").value();
    ids += p.size();
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(ids));
}

// Many small look-ups: pod="pod-<i>" (one id each); items are look-ups.
void BM_IndexPostingsLookup(benchmark::State& state) {
  const Fixture& f = GetIndex(static_cast<size_t>(state.range(0)));
  std::vector<std::string> pods;
  for (size_t i = 0; i < 1024; ++i) pods.push_back("pod-" + std::to_string((i * 7919) % state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    PostingsList p = f.index->Postings("pod", pods[i++ & 1023]).value();
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Intersection of a mid-size and two large lists: items are input ids.
void BM_IndexIntersect(benchmark::State& state) {
  const std::vector<Matcher> ms = {M(MatchType::kEqual, "__name__", "metric_7"), M(MatchType::kEqual, "job", "job-7"),
                                   M(MatchType::kEqual, "zone", "zone-1")};
  RunMatchers(state, ms);
  const double n = static_cast<double>(state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (n / 200 + n / 10 + n / 3)));
}

// Two large lists (n/10 and n/3): the merge path rather than galloping.
void BM_IndexIntersectLarge(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kEqual, "job", "job-7"), M(MatchType::kEqual, "zone", "zone-1")});
  const double n = static_cast<double>(state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (n / 10 + n / 3)));
}

// Literal alternation and prefix regexes (no RE2), a negative matcher, and a general regex.
void BM_IndexRegexSet(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kRegexMatch, "job", "job-1|job-2|job-3"), M(MatchType::kEqual, "zone", "zone-0")});
  const double n = static_cast<double>(state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (3 * n / 10 + n / 3)));
}
void BM_IndexRegexPrefix(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kEqual, "__name__", "metric_7"), M(MatchType::kRegexMatch, "instance", "host-1.*")});
  state.SetItemsProcessed(state.iterations());
}
void BM_IndexNotEqual(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kEqual, "__name__", "metric_7"), M(MatchType::kNotEqual, "zone", "zone-1")});
  const double n = static_cast<double>(state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (n / 200 + n / 3)));
}
void BM_IndexRegexGeneral(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kEqual, "__name__", "metric_7"), M(MatchType::kRegexMatch, "instance", "host-[0-9]*5:.*")});
  state.SetItemsProcessed(state.iterations());
}

// Unions: five lists of n/10 ids (a literal alternation), and 100 one-id lists (100 look-ups).
// Items are ids produced.
void BM_IndexUnion(benchmark::State& state) {
  RunMatchers(state, {M(MatchType::kRegexMatch, "job", "job-1|job-3|job-5|job-7|job-9")});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (state.range(0) / 2)));
}
void BM_IndexUnionMany(benchmark::State& state) {
  std::string alternation;
  for (int i = 0; i < 100; ++i) {
    alternation += (i ? "|pod-" : "pod-") + std::to_string((i * 7919) % state.range(0));
  }
  RunMatchers(state, {M(MatchType::kRegexMatch, "pod", alternation.c_str())});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 100));
}

#define INDEX_ARGS ->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_IndexPostingsLarge) INDEX_ARGS;
BENCHMARK(BM_IndexPostingsLookup) INDEX_ARGS;
BENCHMARK(BM_IndexIntersect) INDEX_ARGS;
BENCHMARK(BM_IndexIntersectLarge) INDEX_ARGS;
BENCHMARK(BM_IndexRegexSet) INDEX_ARGS;
BENCHMARK(BM_IndexRegexPrefix) INDEX_ARGS;
BENCHMARK(BM_IndexNotEqual) INDEX_ARGS;
BENCHMARK(BM_IndexRegexGeneral) INDEX_ARGS;
BENCHMARK(BM_IndexUnion) INDEX_ARGS;
BENCHMARK(BM_IndexUnionMany) INDEX_ARGS;

}  // namespace
}  // namespace vigil::storage

BENCHMARK_MAIN();
