// Stress tests of the head's commit path: every acknowledged sample must read back.
//
// 1. A deterministic simulation: several appenders follow the script of head_concurrency_test.cc
//    (own series plus shared series, each appender owning distinct timestamps of the shared ones)
//    but one thread interleaves their steps at random, with queries in between, over many seeds,
//    chunk sizes and out-of-order windows. Since every sample is applied under its series' lock,
//    any concurrent run is equivalent, per series, to one of these interleavings.
// 2. The real thing with more threads, tiny chunks and concurrent queriers ([.][slow]).

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "storage/head/head.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Bits;
using testing::L;
using testing::ReadAll;

Labels SharedLabels(int s) { return L({{"__name__", "shared"}, {"s", std::to_string(s)}}); }

// Expected contents: labels string -> (t -> value bits).
using Expected = std::map<std::string, std::map<int64_t, uint64_t>>;

void CheckContents(Head& head, const Expected& want, const std::string& when) {
  INFO(when);
  auto got = ReadAll(head, {});
  std::map<std::string, const testing::SeriesData*> by_labels;
  for (const auto& d : got) by_labels[d.labels] = &d;
  for (const auto& [labels, samples] : want) {
    INFO("series " << labels);
    auto it = by_labels.find(labels);
    REQUIRE(it != by_labels.end());
    const testing::SeriesData& d = *it->second;
    std::vector<int64_t> missing;
    for (const auto& [t, bits] : samples) {
      auto p = std::lower_bound(d.ts.begin(), d.ts.end(), t);
      if (p == d.ts.end() || *p != t || d.bits[p - d.ts.begin()] != bits) missing.push_back(t);
    }
    INFO("first missing or wrong: " << (missing.empty() ? -1 : missing.front()));
    REQUIRE(missing.empty());
    REQUIRE(d.ts.size() == samples.size());
  }
}

struct SimParams {
  uint64_t seed;
  uint32_t chunk_target;
  int64_t window;
  int appenders;
  int rounds;
  int own;
  int shared;
  int commit_every;
  int64_t step;  // time between rounds
};

void Simulate(const SimParams& p) {
  HeadOptions opts;
  opts.chunk_target_samples = p.chunk_target;
  opts.out_of_order_window_ms = p.window;
  Head head(opts);
  std::mt19937_64 rng(p.seed);
  struct AppState {
    std::unique_ptr<Appender> app;
    int round = 0;
    int pos = 0;  // index into the round's script: own series first, then shared
    std::vector<SeriesRef> own;
    std::vector<std::pair<std::string, std::pair<int64_t, uint64_t>>> pending;
  };
  std::vector<AppState> apps(p.appenders);
  for (int a = 0; a < p.appenders; ++a) {
    apps[a].app = head.NewAppender(nullptr);
    apps[a].own.assign(p.own, kNoSeriesRef);
  }
  Expected want;
  std::map<std::string, int64_t> newest;  // committed newest per series, to predict acceptance
  uint64_t acked = 0;
  auto commit = [&](AppState& st) {
    REQUIRE(st.app->Commit().ok());
    for (auto& [labels, sample] : st.pending) {
      want[labels][sample.first] = sample.second;
    }
    st.pending.clear();
  };
  const int per_round = p.own + p.shared;
  int live = p.appenders;
  int steps = 0;
  while (live > 0) {
    const int a = static_cast<int>(rng() % p.appenders);
    AppState& st = apps[a];
    if (st.round >= p.rounds) continue;
    // A burst of steps of one appender, then switch: batches overlap in every possible way.
    const int burst = 1 + static_cast<int>(rng() % 8);
    for (int b = 0; b < burst && st.round < p.rounds; ++b) {
      const int64_t t = st.round * p.step;
      if (st.pos < p.own) {
        const int s = st.pos;
        const Labels ls = L({{"__name__", "own"}, {"a", std::to_string(a)}, {"s", std::to_string(s)}});
        const double v = st.round;
        if (st.own[s] == kNoSeriesRef) {
          auto ref = st.app->Append(ls, t, v);
          REQUIRE(ref.ok());
          st.own[s] = *ref;
        } else {
          REQUIRE(st.app->AppendByRef(st.own[s], t, v).ok());
        }
        st.pending.push_back({ls.ToString(), {t, Bits(v)}});
        ++acked;
      } else {
        const int s = st.pos - p.own;
        const Labels ls = SharedLabels(s);
        const int64_t ts = t + a;
        const double v = p.seed % 2 ? double(a) : a + 0.25 * (st.round % 5);
        auto r = st.app->Append(ls, ts, v);
        // With a window covering the whole run every sample is accepted; otherwise a sample may be
        // refused at Append (too old) — then it is not acknowledged and not expected.
        if (r.ok()) {
          st.pending.push_back({ls.ToString(), {ts, Bits(v)}});
          ++acked;
        } else {
          REQUIRE(p.window < p.rounds * p.step);
          REQUIRE(r.status().code() == StatusCode::kOutOfRange);
        }
      }
      if (++st.pos == per_round) {
        st.pos = 0;
        if (st.round % p.commit_every == 0) commit(st);
        if (++st.round == p.rounds) {
          commit(st);
          --live;
        }
      }
      ++steps;
      if (steps % 97 == 0) (void)ReadAll(head, {});  // queries finish the open chunks in between
    }
  }
  // With a small window, a sample accepted at Append may be pushed out of the window by another
  // batch before its own commit; it is then counted as rejected and is not in the head. Only with a
  // window that covers the run is every acknowledged sample guaranteed.
  const HeadStats st = head.Stats();
  if (p.window >= p.rounds * p.step + p.appenders) {
    CHECK(st.rejected_samples == 0);
    CHECK(st.samples_appended == acked);
    CheckContents(head, want, "end");
  } else {
    CHECK(st.samples_appended + st.rejected_samples == acked);
  }
}

void RunSimulations(uint64_t batch_seeds, uint64_t merge_seeds) {
  for (uint64_t seed = 1; seed <= batch_seeds; ++seed) {
    SimParams p;
    p.seed = seed;
    p.chunk_target = static_cast<uint32_t>(1 + seed % 37);
    p.window = 3600000;
    p.appenders = 2 + static_cast<int>(seed % 5);
    p.rounds = 120;
    p.own = static_cast<int>(seed % 3);
    p.shared = 3;
    p.commit_every = 1 + static_cast<int>(seed % 9);
    p.step = seed % 4 == 0 ? p.appenders : 1000;
    INFO("seed " << seed);
    Simulate(p);
  }
  // One sample per series per batch: each shared series then receives an arbitrary merge of the
  // appenders' increasing sequences, as when several commits apply at once.
  for (uint64_t seed = 100; seed < 100 + merge_seeds; ++seed) {
    SimParams p;
    p.seed = seed;
    p.chunk_target = static_cast<uint32_t>(1 + seed % 41);
    p.window = 3600000;
    p.appenders = 2 + static_cast<int>(seed % 7);
    p.rounds = 90;
    p.own = 0;
    p.shared = 3;
    p.commit_every = 1;
    p.step = seed % 3 == 0 ? p.appenders : 1000;
    INFO("seed " << seed);
    Simulate(p);
  }
}

TEST_CASE("head: simulated interleavings of concurrent batches keep every sample", "[storage][head]") {
  RunSimulations(6, 8);
}

TEST_CASE("head: simulated interleavings, many seeds", "[.][slow][head]") { RunSimulations(40, 60); }

// The concurrency test with more appenders than cores, tiny chunks (cuts and adaptive re-encodes
// on nearly every append), commits after every round and two queriers reading throughout.
TEST_CASE("head: many appenders on shared series with tiny chunks keep every sample",
          "[.][slow][head]") {
  for (uint32_t chunk_target : {1u, 2u, 3u, 7u, 30u}) {
    INFO("chunk target " << chunk_target);
    HeadOptions opts;
    opts.chunk_target_samples = chunk_target;
    Head head(opts);
    constexpr int kThreads = 8, kRounds = 400, kShared = 3;
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    auto read_loop = [&] {
      int64_t ts[16];
      double vs[16];
      while (!stop.load()) {
        auto q = head.NewQuerier(INT64_MIN, INT64_MAX);
        auto set = q->Select({});
        while (set->Next()) {
          auto it = set->Samples();
          int64_t prev = INT64_MIN;
          for (size_t n; (n = it->Next(ts, vs)) != 0;) {
            for (size_t i = 0; i < n; ++i) {
              if (ts[i] <= prev) errors.fetch_add(1);
              prev = ts[i];
            }
          }
          if (!it->status().ok()) errors.fetch_add(1);
        }
      }
    };
    std::thread r1(read_loop), r2(read_loop);
    std::vector<std::thread> writers;
    for (int th = 0; th < kThreads; ++th) {
      writers.emplace_back([&, th] {
        auto app = head.NewAppender(nullptr);
        std::vector<SeriesRef> refs(kShared, kNoSeriesRef);
        for (int r = 0; r < kRounds; ++r) {
          for (int s = 0; s < kShared; ++s) {
            const int64_t t = int64_t{r} * kThreads + th;
            const double v = th + 0.5 * (r % 3);
            if (refs[s] == kNoSeriesRef || r % 5 == 0) {
              auto ref = app->Append(SharedLabels(s), t, v);
              if (!ref.ok()) errors.fetch_add(1);
              refs[s] = ref.ok() ? *ref : kNoSeriesRef;
            } else if (!app->AppendByRef(refs[s], t, v).ok()) {
              errors.fetch_add(1);
            }
          }
          if ((r + th) % (1 + th % 3) == 0 && !app->Commit().ok()) errors.fetch_add(1);
        }
        if (!app->Commit().ok()) errors.fetch_add(1);
      });
    }
    for (auto& t : writers) t.join();
    stop = true;
    r1.join();
    r2.join();
    REQUIRE(errors.load() == 0);
    const HeadStats st = head.Stats();
    CHECK(st.rejected_samples == 0);
    CHECK(st.samples_appended == uint64_t{kThreads} * kRounds * kShared);
    Expected want;
    for (int s = 0; s < kShared; ++s) {
      auto& m = want[SharedLabels(s).ToString()];
      for (int r = 0; r < kRounds; ++r) {
        for (int th = 0; th < kThreads; ++th) m[int64_t{r} * kThreads + th] = Bits(th + 0.5 * (r % 3));
      }
    }
    CheckContents(head, want, "end");
  }
}

}  // namespace
}  // namespace vigil::storage
