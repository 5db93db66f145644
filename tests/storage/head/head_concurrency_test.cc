// Several appenders (distinct and shared series) and a querier at once; run under ASan/TSan.
// The WAL they write is replayed into a second head, which must read back the same data.

#include <algorithm>
#include <atomic>
#include <thread>

#include "storage/base/mem_file_system.h"
#include "storage/head/head.h"
#include "storage/wal/reader.h"
#include "storage/wal/wal.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::L;
using testing::ReadAll;

TEST_CASE("head: concurrent appenders and queriers", "[storage][head]") {
  auto fs = NewMemFileSystem();
  wal::WalOptions wo;
  wo.sync_policy = wal::SyncPolicy::kNever;
  auto w = wal::Wal::Open(fs.get(), "/wal", wo);
  REQUIRE(w.ok());
  HeadOptions opts;
  opts.chunk_target_samples = 30;
  Head head(opts);
  constexpr int kThreads = 4, kRounds = 300, kOwn = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};

  std::thread reader([&] {
    int64_t ts[64];
    double vs[64];
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
      if (!q->LabelValues("thread", {}).ok()) errors.fetch_add(1);
      (void)head.Stats();
    }
  });
  std::vector<std::thread> writers;
  for (int th = 0; th < kThreads; ++th) {
    writers.emplace_back([&, th] {
      auto app = head.NewAppender(w->get());
      std::vector<SeriesRef> own(kOwn, kNoSeriesRef);
      for (int r = 0; r < kRounds; ++r) {
        for (int s = 0; s < kOwn; ++s) {
          const int64_t t = r * 1000;
          if (own[s] == kNoSeriesRef) {
            auto ref = app->Append(
                L({{"__name__", "own"}, {"thread", std::to_string(th)}, {"s", std::to_string(s)}}),
                t, r);
            if (!ref.ok()) errors.fetch_add(1);
            own[s] = ref.ok() ? *ref : kNoSeriesRef;
          } else if (!app->AppendByRef(own[s], t, r).ok()) {
            errors.fetch_add(1);
          }
        }
        // Shared series: each thread owns distinct timestamps, so every sample is accepted
        // (in order or out of order within the window).
        for (int s = 0; s < 3; ++s) {
          if (!app->Append(L({{"__name__", "shared"}, {"s", std::to_string(s)}}),
                           r * 1000 + th, th).ok()) {
            errors.fetch_add(1);
          }
        }
        if (r % 7 == 0 && !app->Commit().ok()) errors.fetch_add(1);
      }
      if (!app->Commit().ok()) errors.fetch_add(1);
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  CHECK(errors.load() == 0);

  const HeadStats st = head.Stats();
  CHECK(st.series == kThreads * kOwn + 3);
  CHECK(st.samples_appended == uint64_t{kThreads} * kRounds * (kOwn + 3));
  CHECK(st.rejected_samples == 0);
  auto shared = ReadAll(head, {testing::Eq("__name__", "shared")});
  REQUIRE(shared.size() == 3);
  for (const auto& s : shared) {
    CHECK(s.ts.size() == size_t{kThreads} * kRounds);
    for (int r = 0; r < kRounds; ++r) {
      for (int th = 0; th < kThreads; ++th) {
        if (!std::binary_search(s.ts.begin(), s.ts.end(), int64_t{r} * 1000 + th)) {
          WARN("missing " << r * 1000 + th << " in " << s.labels);
        }
      }
    }
  }

  w->reset();
  Head replayed(opts);
  auto rd = wal::WalReader::Open(fs.get(), "/wal");
  REQUIRE(rd.ok());
  std::string_view rec;
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  while ((*rd)->Next(&rec)) {
    if (*wal::PeekRecordType(rec) == wal::RecordType::kSeries) {
      REQUIRE(wal::DecodeSeries(rec, &series).ok());
      REQUIRE(replayed.ReplaySeries(series).ok());
    } else {
      REQUIRE(wal::DecodeSamples(rec, &samples).ok());
      REQUIRE(replayed.ReplaySamples(samples).ok());
    }
  }
  REQUIRE((*rd)->status().ok());
  CHECK(replayed.ReplayUnknownRefSamples() == 0);
  auto want = ReadAll(head, {});
  auto got = ReadAll(replayed, {});
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].labels == want[i].labels);
    CHECK(got[i].ts == want[i].ts);
    CHECK(got[i].bits == want[i].bits);
  }
}

}  // namespace
}  // namespace vigil::storage
