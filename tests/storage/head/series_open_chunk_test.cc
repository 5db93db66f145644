// The open chunk of a head series: one sample without a block, then a block holding the appender's
// state and the chunk bytes, grown when an append spills past its capacity (storage/head/series.h,
// README.md "Memory accounting").

#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "compression/chunk.h"
#include "storage/head/series.h"

namespace vigil::storage::head {
namespace {

struct Samples {
  std::vector<int64_t> ts;
  std::vector<uint64_t> bits;
  bool operator==(const Samples&) const = default;
};

void DecodeInto(std::string_view chunk, Samples* out) {
  compression::ChunkDecoder dec(chunk);
  int64_t ts[64];
  double vs[64];
  for (size_t n; (n = dec.Next(ts, vs)) != 0;) {
    for (size_t i = 0; i < n; ++i) {
      out->ts.push_back(ts[i]);
      out->bits.push_back(std::bit_cast<uint64_t>(vs[i]));
    }
  }
  REQUIRE(dec.ok());
}

// Every in-order sample of s, read through a snapshot of all time.
Samples ReadSeries(Series& s, size_t* closed_chunks = nullptr) {
  SeriesSnapshot snap;
  s.Snapshot(kMinTime, kMaxTime, &snap);
  Samples out;
  for (const ChunkHandle& c : snap.chunks) DecodeInto(c.bytes(), &out);
  if (!snap.open.empty()) DecodeInto(snap.open, &out);
  if (closed_chunks != nullptr) *closed_chunks = snap.chunks.size();
  return out;
}

// The open chunk as a snapshot copies it (empty when there is none).
std::string OpenBytes(Series& s) {
  SeriesSnapshot snap;
  s.Snapshot(kMinTime, kMaxTime, &snap);
  return snap.open;
}

constexpr int64_t kHour = 3600 * 1000;

using SeriesPtr = std::unique_ptr<Series, Series::Deleter>;
// A series without labels (the open chunk does not look at them).
SeriesPtr NewSeries(SeriesRef ref) { return SeriesPtr(Series::Create(ref, LabelPairs(), ref + 6)); }

TEST_CASE("head series: one sample needs no open-chunk block and reads back", "[storage][head]") {
  SeriesPtr owner = NewSeries(1);
  Series& s = *owner;
  std::lock_guard lock(s.mu());
  CHECK(s.Memory().bytes == AllocSize(sizeof(Series)));
  CHECK(s.Memory().chunks == 0);

  const int64_t t0 = 1'795'817'242'500;
  s.AppendInOrder(t0, 12.5, 120);
  CHECK(s.Memory().bytes == AllocSize(sizeof(Series)));  // no block yet
  CHECK(s.Memory().chunks == 1);
  CHECK(ReadSeries(s) == Samples{{t0}, {std::bit_cast<uint64_t>(12.5)}});
  CHECK(s.min_time() == t0);
  CHECK(s.max_time() == t0);
  CHECK(s.Check(t0, 12.5, kHour) == Verdict::kDuplicate);
  CHECK(s.Check(t0, 13.0, kHour) == Verdict::kConflict);
  CHECK(s.Check(t0 - 1, 13.0, kHour) == Verdict::kOutOfOrder);
  CHECK(s.Check(t0 - 1, 13.0, 0) == Verdict::kTooOld);

  // The second sample brings the block: the same bytes as one appender writing both samples.
  s.AppendInOrder(t0 + 15'000, 13.0, 120);
  CHECK(s.Memory().bytes > AllocSize(sizeof(Series)));
  CHECK(ReadSeries(s) == Samples{{t0, t0 + 15'000},
                                 {std::bit_cast<uint64_t>(12.5), std::bit_cast<uint64_t>(13.0)}});
  std::string want;
  compression::CompactXorAppender app;
  app.Start(&want);
  app.Append(&want, t0, 12.5, 0, 0);
  app.Append(&want, t0 + 15'000, 13.0, t0, std::bit_cast<uint64_t>(12.5));
  app.Finish(&want);
  CHECK(OpenBytes(s) == want);
  CHECK(s.Check(t0, 12.5, kHour) == Verdict::kDuplicate);
  CHECK(s.Check(t0, 1.0, kHour) == Verdict::kConflict);
}

TEST_CASE("head series: the open-chunk block grows for samples of any size", "[storage][head]") {
  // Full 64-bit values and timestamp jumps that take the escaped delta-of-delta: the largest
  // samples the appender writes, so that appends spill past the block's capacity.
  std::mt19937_64 rng(11);
  const int64_t range = int64_t{1} << 50;  // one block for the whole test: no cut by time
  SeriesPtr owner = NewSeries(1);
  Series& s = *owner;
  std::lock_guard lock(s.mu());
  Samples want;
  std::string want_bytes;
  compression::CompactXorAppender app;
  app.Start(&want_bytes);
  int64_t t = 1'000'000;
  for (uint32_t i = 0; i + 1 < kMaxChunkSamples; ++i) {
    t += (i % 3 == 0) ? 1 : static_cast<int64_t>(rng() % (int64_t{1} << 40)) + 1;
    const uint64_t bits = (i % 5 == 4) ? want.bits.back() : rng();
    const double v = std::bit_cast<double>(bits);
    s.AppendInOrder(t, v, kMaxChunkSamples, /*adaptive=*/true, range);
    app.Append(&want_bytes, t, v, want.ts.empty() ? 0 : want.ts.back(),
               want.bits.empty() ? 0 : want.bits.back());
    want.ts.push_back(t);
    want.bits.push_back(bits);
    std::string finished = want_bytes;
    compression::CompactXorAppender copy = app;
    copy.Finish(&finished);
    REQUIRE(OpenBytes(s) == finished);
    REQUIRE(ReadSeries(s) == want);
  }
  // The last sample reaches the chunk target: the chunk is cut, re-encoded, and reads the same.
  t += 10;
  s.AppendInOrder(t, 1.0, kMaxChunkSamples, true, range);
  want.ts.push_back(t);
  want.bits.push_back(std::bit_cast<uint64_t>(1.0));
  size_t closed = 0;
  CHECK(ReadSeries(s, &closed) == want);
  CHECK(closed == 1);
  CHECK(OpenBytes(s).empty());
  CHECK(s.Memory().chunks == 1);
}

TEST_CASE("head series: one-sample chunks cut at block ends and at a target of one",
          "[storage][head]") {
  for (const bool adaptive : {true, false}) {
    CAPTURE(adaptive);
    SeriesPtr owner = NewSeries(1);
    Series& s = *owner;
    std::lock_guard lock(s.mu());
    Samples want;
    // One sample per 2 h block: each append crosses the previous sample's block end.
    for (int k = 0; k < 6; ++k) {
      const int64_t t = k * 2 * kHour + 5;
      s.AppendInOrder(t, k * 1.5, 120, adaptive);
      want.ts.push_back(t);
      want.bits.push_back(std::bit_cast<uint64_t>(k * 1.5));
    }
    size_t closed = 0;
    CHECK(ReadSeries(s, &closed) == want);
    CHECK(closed == 5);
    CHECK(s.Memory().chunks == 6);
    // Samples still go to the one-sample open chunk's block within its block.
    s.AppendInOrder(10 * kHour + 6, 99, 120, adaptive);
    want.ts.push_back(10 * kHour + 6);
    want.bits.push_back(std::bit_cast<uint64_t>(99.0));
    CHECK(ReadSeries(s, &closed) == want);
    CHECK(closed == 5);
  }
  SeriesPtr one_owner = NewSeries(2);
  Series& one = *one_owner;
  std::lock_guard lock(one.mu());
  one.AppendInOrder(100, 1, /*chunk_target=*/1);
  one.AppendInOrder(200, 2, 1);
  size_t closed = 0;
  CHECK(ReadSeries(one, &closed) ==
        Samples{{100, 200}, {std::bit_cast<uint64_t>(1.0), std::bit_cast<uint64_t>(2.0)}});
  CHECK(closed == 2);
  CHECK(OpenBytes(one).empty());
}

TEST_CASE("head series: truncating inside the open chunk keeps its block end", "[storage][head]") {
  SeriesPtr owner = NewSeries(1);
  Series& s = *owner;
  std::lock_guard lock(s.mu());
  // Samples every minute from 0:00 to 0:59 of the 0:00–2:00 block.
  for (int i = 0; i < 60; ++i) s.AppendInOrder(i * 60'000, i, 240);
  s.TruncateBefore(30 * 60'000, true);
  CHECK(s.min_time() == 30 * 60'000);
  Samples want;
  for (int i = 30; i < 60; ++i) {
    want.ts.push_back(i * 60'000);
    want.bits.push_back(std::bit_cast<uint64_t>(static_cast<double>(i)));
  }
  CHECK(ReadSeries(s) == want);
  // Still the same chunk until the block's end; the sample after it starts a new chunk.
  s.AppendInOrder(2 * kHour - 1, 1000, 240);
  s.AppendInOrder(2 * kHour, 1001, 240);
  want.ts.insert(want.ts.end(), {2 * kHour - 1, 2 * kHour});
  want.bits.insert(want.bits.end(),
                   {std::bit_cast<uint64_t>(1000.0), std::bit_cast<uint64_t>(1001.0)});
  size_t closed = 0;
  CHECK(ReadSeries(s, &closed) == want);
  CHECK(closed == 1);

  // Truncating all but the newest sample leaves a one-sample open chunk.
  SeriesPtr t_owner = NewSeries(2);
  Series& t = *t_owner;
  std::lock_guard lock2(t.mu());
  for (int i = 0; i < 10; ++i) t.AppendInOrder(i * 1000, i, 240);
  t.TruncateBefore(9000, true);
  CHECK(ReadSeries(t) == Samples{{9000}, {std::bit_cast<uint64_t>(9.0)}});
  CHECK(t.Memory().bytes == AllocSize(sizeof(Series)));
  t.AppendInOrder(10'000, 10, 240);
  CHECK(ReadSeries(t) == Samples{{9000, 10'000},
                                 {std::bit_cast<uint64_t>(9.0), std::bit_cast<uint64_t>(10.0)}});
  t.TruncateBefore(20'000, true);
  CHECK(t.Empty());
}

}  // namespace
}  // namespace vigil::storage::head
