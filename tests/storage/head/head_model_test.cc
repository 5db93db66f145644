// Randomised check of the head against a simple model: interleaved batches of several appenders
// with out-of-order data, duplicates and small chunks, read back after every few commits.

#include <algorithm>
#include <map>
#include <random>

#include "storage/head/head.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Bits;
using testing::L;
using testing::ReadAll;

void RunModel(uint64_t seed, uint32_t chunk_target, int64_t window) {
  HeadOptions opts;
  opts.chunk_target_samples = chunk_target;
  opts.out_of_order_window_ms = window;
  Head head(opts);
  constexpr int kAppenders = 4, kSeries = 3;
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<Appender>> apps;
  for (int i = 0; i < kAppenders; ++i) apps.push_back(head.NewAppender(nullptr));
  // Model: committed samples per series, and each appender's pending batch.
  std::vector<std::map<int64_t, uint64_t>> model(kSeries);
  std::vector<int64_t> newest(kSeries, INT64_MIN);
  struct Pending {
    int series;
    int64_t t;
    double v;
  };
  std::vector<std::vector<Pending>> pending(kAppenders);
  std::vector<Labels> labels;
  for (int s = 0; s < kSeries; ++s) labels.push_back(L({{"s", std::to_string(s)}}));

  auto commit = [&](int a) {
    REQUIRE(apps[a]->Commit().ok());
    for (const Pending& p : pending[a]) {  // the model applies the same rules in batch order
      auto& m = model[p.series];
      if (p.t > newest[p.series]) {
        m[p.t] = Bits(p.v);
        newest[p.series] = p.t;
      } else if (window > 0 && p.t >= newest[p.series] - window && !m.count(p.t)) {
        m[p.t] = Bits(p.v);
      }
    }
    pending[a].clear();
  };

  for (int step = 0; step < 3000; ++step) {
    const int a = static_cast<int>(rng() % kAppenders);
    const int s = static_cast<int>(rng() % kSeries);
    // Mostly forward in time, sometimes back (within or beyond the window), sometimes repeats.
    const int64_t base = std::max<int64_t>(newest[s], 0);
    int64_t t = base + static_cast<int64_t>(rng() % 50) - 20;
    const double v = static_cast<double>(rng() % 4);
    auto st = apps[a]->Append(labels[s], t, v);
    if (st.ok()) {
      pending[a].push_back({s, t, v});
    } else {
      const StatusCode c = st.status().code();
      REQUIRE((c == StatusCode::kOutOfRange || c == StatusCode::kAlreadyExists));
    }
    if (rng() % 8 == 0) commit(a);
    if (step % 300 == 299) {
      auto got = ReadAll(head, {});
      for (const auto& d : got) {
        const int sid = std::stoi(std::string(ParseLabels(d.labels).value().Get("s")));
        const auto& m = model[sid];
        REQUIRE(d.ts.size() == m.size());
        size_t i = 0;
        for (const auto& [mt, mb] : m) {
          REQUIRE(d.ts[i] == mt);
          REQUIRE(d.bits[i] == mb);
          ++i;
        }
      }
    }
  }
}

TEST_CASE("head: randomised interleaved batches match a model", "[storage][head]") {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    INFO("seed " << seed);
    RunModel(seed, 1 + seed % 30, seed % 3 == 0 ? 0 : 15);
  }
}

}  // namespace
}  // namespace vigil::storage
