// Parallel WAL replay (storage/head/replay_workers.h) leaves the head exactly as a serial replay
// of the same records does: samples, out-of-order and rejection counts, unknown refs, aliases
// and tombstones in WAL order.

#include <random>

#include "storage/head/head.h"
#include "storage/head/replay_workers.h"
#include "storage/wal/records.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::L;
using testing::ReadAll;

// One WAL record, decoded.
struct Rec {
  enum Kind { kSeries, kSamples, kTombstones } kind;
  std::vector<std::pair<SeriesRef, Labels>> series;
  std::vector<wal::RefSample> samples;
  std::vector<wal::RefTombstone> tombstones;
};

// A log with the hard cases: series created all along, an alias ref for an existing label set
// whose samples follow, samples out of order (inside and beyond the window), duplicates, refs that
// no series record names, and tombstones between samples of the series they delete from.
std::vector<Rec> MakeLog(uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Rec> log;
  constexpr SeriesRef kSeries = 700;
  SeriesRef created = 0;
  const auto create_up_to = [&](SeriesRef n) {
    Rec r{Rec::kSeries, {}, {}, {}};
    for (; created < n; ++created) {
      r.series.push_back({created + 1, L({{"__name__", "m"}, {"i", std::to_string(created + 1)}})});
    }
    log.push_back(std::move(r));
  };
  create_up_to(300);
  int64_t now = 1'000'000;
  for (int batch = 0; batch < 200; ++batch) {
    if (batch == 40) create_up_to(kSeries);
    if (batch == 60) {
      // Ref 5000 is another name of series 7 (a label set seen again after a checkpoint).
      log.push_back(Rec{Rec::kSeries, {{5000, L({{"__name__", "m"}, {"i", "7"}})}}, {}, {}});
    }
    if (batch % 50 == 25) {
      Rec t{Rec::kTombstones, {}, {}, {}};
      for (SeriesRef ref = 1; ref <= 40; ++ref) t.tombstones.push_back({ref, now - 90'000, now - 30'000});
      log.push_back(std::move(t));
    }
    Rec r{Rec::kSamples, {}, {}, {}};
    const SeriesRef live = created;
    for (SeriesRef ref = 1; ref <= live; ++ref) {
      int64_t t = now;
      const uint64_t dice = rng() % 100;
      if (dice < 3) t = now - 20'000;                  // out of order, inside the window
      if (dice == 3) t = now - 10 * 3'600'000;         // beyond the window: rejected
      if (dice == 4 && batch > 0) t = now - 10'000;    // a duplicate of the previous sample
      r.samples.push_back({ref, t, double(rng() % 1000) / 8});
    }
    if (batch > 60) r.samples.push_back({5000, now + 1, double(batch)});  // through the alias
    r.samples.push_back({9999, now, 1});  // no series record names it
    std::shuffle(r.samples.begin(), r.samples.end(), rng);
    // Small records too: an appender committing a few samples at a time.
    if (batch % 7 == 3) {
      for (size_t i = 0; i < r.samples.size(); i += 5) {
        Rec part{Rec::kSamples, {}, {}, {}};
        part.samples.assign(r.samples.begin() + i,
                            r.samples.begin() + std::min(i + 5, r.samples.size()));
        log.push_back(std::move(part));
      }
    } else {
      log.push_back(std::move(r));
    }
    now += 10'000;
  }
  return log;
}

// Replays as Db::Open does: serially, or with `threads` workers.
void Replay(Head* head, const std::vector<Rec>& log, unsigned threads) {
  std::optional<ReplayWorkers> workers;
  if (threads > 1) workers.emplace(head, threads);
  for (const Rec& r : log) {
    switch (r.kind) {
      case Rec::kSeries: {
        std::vector<wal::RefSeries> rs;
        for (const auto& [ref, ls] : r.series) rs.push_back({ref, ls.Encoded()});
        REQUIRE(head->ReplaySeries(rs).ok());
        break;
      }
      case Rec::kSamples:
        if (workers) {
          workers->Submit(std::make_shared<const std::vector<wal::RefSample>>(r.samples));
        } else {
          REQUIRE(head->ReplaySamples(r.samples).ok());
        }
        break;
      case Rec::kTombstones:
        if (workers) workers->Drain();
        head->ReplayTombstones(r.tombstones);
        break;
    }
  }
}

TEST_CASE("replay workers: the head after a parallel replay equals the serial one",
          "[storage][head][replay]") {
  const uint32_t seed = GENERATE(1u, 2u, 3u);
  const unsigned threads = GENERATE(2u, 3u, 8u);
  CAPTURE(seed, threads);
  const std::vector<Rec> log = MakeLog(seed);
  HeadOptions o;
  o.out_of_order_window_ms = 3'600'000;
  o.chunk_target_samples = 16;  // many chunk cuts (and adaptive re-encodes) on the workers
  Head serial(o);
  Replay(&serial, log, 1);
  Head parallel(o);
  Replay(&parallel, log, threads);

  const auto want = ReadAll(serial, {});
  const auto got = ReadAll(parallel, {});
  REQUIRE(want.size() == 700);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(want[i].labels);
    CHECK(got[i].labels == want[i].labels);
    CHECK(got[i].ts == want[i].ts);
    CHECK(got[i].bits == want[i].bits);
  }
  const HeadStats a = serial.Stats(), b = parallel.Stats();
  CHECK(b.samples_appended == a.samples_appended);
  CHECK(b.out_of_order_samples == a.out_of_order_samples);
  CHECK(b.rejected_samples == a.rejected_samples);
  CHECK(b.chunks == a.chunks);
  CHECK(b.min_time == a.min_time);
  CHECK(b.max_time == a.max_time);
  CHECK(parallel.ReplayUnknownRefSamples() == serial.ReplayUnknownRefSamples());
  CHECK(serial.ReplayUnknownRefSamples() == 200);
  // The log's hard cases happened: the checks above compared something.
  CHECK(a.out_of_order_samples > 0);
  CHECK(a.rejected_samples > 0);
  CHECK(serial.ReplayHasAliases());
}

TEST_CASE("replay workers: Drain waits for every submitted record", "[storage][head][replay]") {
  Head head(HeadOptions{});
  REQUIRE(head.ReplaySeries(std::vector<wal::RefSeries>{{1, L({{"__name__", "a"}}).Encoded()}}).ok());
  ReplayWorkers workers(&head, 2);
  for (int i = 0; i < 100; ++i) {
    workers.Submit(std::make_shared<const std::vector<wal::RefSample>>(
        std::vector<wal::RefSample>{{1, int64_t(i) * 1000, double(i)}}));
  }
  workers.Drain();
  CHECK(head.Stats().samples_appended == 100);
}

TEST_CASE("replay workers: thread count", "[storage][head][replay]") {
  CHECK(ReplayWorkers::ThreadsFor(1) == 1);
  CHECK(ReplayWorkers::ThreadsFor(3) == 3);
  CHECK(ReplayWorkers::ThreadsFor(0) >= 1);
  CHECK(ReplayWorkers::ThreadsFor(0) <= 8);
}

}  // namespace
}  // namespace vigil::storage
