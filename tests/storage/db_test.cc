#include "storage/db.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/mem_file_system.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::storage {
namespace {

struct Sample {
  int64_t t;
  double v;
};

std::vector<Sample> ReadSeries(Db& db, const Labels& ls, int64_t min_t = INT64_MIN,
                               int64_t max_t = INT64_MAX) {
  auto q = db.NewQuerier(min_t, max_t);
  REQUIRE(q.ok());
  std::vector<Matcher> ms;
  for (const Label& l : ls) ms.push_back(Matcher::Make(MatchType::kEqual, l.name, l.value).value());
  auto set = (*q)->Select(ms);
  std::vector<Sample> out;
  while (set->Next()) {
    if (set->labels() != ls) continue;
    auto it = set->Samples();
    int64_t ts[7];
    double vs[7];
    while (size_t n = it->Next(ts, vs)) {
      for (size_t i = 0; i < n; ++i) out.push_back({ts[i], vs[i]});
    }
    REQUIRE(it->status().ok());
  }
  REQUIRE(set->status().ok());
  return out;
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

DbOptions MemOptions(FileSystem* fs, Clock* clock) {
  DbOptions o;
  o.fs = fs;
  o.clock = clock;
  o.wal_sync = WalSyncPolicy::kAlways;
  return o;
}

TEST_CASE("Db reopens with every committed sample, bit-exact", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(1'000'000);
  const Labels a = Labels::FromPairs({{"__name__", "up"}, {"job", "node"}});
  const Labels b = Labels::FromPairs({{"__name__", "up"}, {"job", "prom"}});
  double stale;
  const uint64_t stale_bits = 0x7ff0000000000002ULL;
  std::memcpy(&stale, &stale_bits, sizeof stale);
  {
    auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");
    REQUIRE(db.ok());
    auto app = (*db)->NewAppender();
    auto ref = app->Append(a, 1000, 1.5);
    REQUIRE(ref.ok());
    REQUIRE(app->Append(b, 1000, -0.0).ok());
    REQUIRE(app->Commit().ok());
    REQUIRE(app->AppendByRef(*ref, 2000, stale).ok());
    REQUIRE(app->Commit().ok());
    REQUIRE(app->AppendByRef(*ref, 3000, 99).ok());
    app->Rollback();  // never committed: must not come back
    REQUIRE((*db)->Close().ok());
  }
  auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE(db.ok());
  auto sa = ReadSeries(**db, a);
  REQUIRE(sa.size() == 2);
  CHECK(sa[0].t == 1000);
  CHECK(sa[0].v == 1.5);
  CHECK(sa[1].t == 2000);
  CHECK(Bits(sa[1].v) == stale_bits);
  auto sb = ReadSeries(**db, b);
  REQUIRE(sb.size() == 1);
  CHECK(Bits(sb[0].v) == Bits(-0.0));
  CHECK((*db)->Stats().wal_replayed_samples == 3);
  CHECK((*db)->Stats().head_series == 2);
}

TEST_CASE("Db stats count WAL fsyncs in a latency histogram", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(1'000'000);
  auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");  // WAL sync kAlways
  REQUIRE(db.ok());
  const DbStats before = (*db)->Stats();
  REQUIRE(before.wal_fsync_buckets.size() == before.wal_fsync_bucket_bounds.size() + 1);
  CHECK(std::is_sorted(before.wal_fsync_bucket_bounds.begin(),
                       before.wal_fsync_bucket_bounds.end()));
  auto app = (*db)->NewAppender();
  const Labels a = Labels::FromPairs({{"__name__", "up"}});
  for (int i = 0; i < 3; ++i) {
    REQUIRE(app->Append(a, 1000 * (i + 1), i).ok());
    REQUIRE(app->Commit().ok());
  }
  const DbStats s = (*db)->Stats();
  CHECK(s.wal_fsyncs >= before.wal_fsyncs + 3);
  uint64_t in_buckets = 0;
  for (uint64_t n : s.wal_fsync_buckets) in_buckets += n;
  CHECK(in_buckets == s.wal_fsyncs);
  CHECK(s.wal_fsync_seconds >= 0);
}

TEST_CASE("Db refuses a second open of the same directory", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(0);
  auto first = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE(first.ok());
  auto second = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(second.status().message(), Catch::Contains("/data"));
  REQUIRE((*first)->Close().ok());
  CHECK(Db::Open(MemOptions(fs.get(), &clock), "/data").ok());
}

TEST_CASE("Db rejects bad options with a clear error", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(0);
  DbOptions o = MemOptions(fs.get(), &clock);
  o.chunk_target_samples = 0;
  auto db = Db::Open(o, "/data");
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().IsInvalidArgument());
  CHECK_THAT(db.status().message(), Catch::Contains("chunk_target_samples"));
  o = MemOptions(fs.get(), &clock);
  o.out_of_order_window_ms = -1;
  CHECK(Db::Open(o, "/data").status().IsInvalidArgument());
}

TEST_CASE("Db querier range must not be empty", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(0);
  auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE(db.ok());
  CHECK((*db)->NewQuerier(10, 5).status().IsInvalidArgument());
  CHECK((*db)->NewQuerier(5, 5).ok());
}

TEST_CASE("Db opens after mid-log WAL corruption with what came before", "[storage][db]") {
  auto fs = NewMemFileSystem();
  ManualClock clock(0);
  const Labels a = Labels::FromPairs({{"__name__", "m"}});
  {
    auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");
    REQUIRE(db.ok());
    auto app = (*db)->NewAppender();
    for (int i = 0; i < 50; ++i) {
      REQUIRE(app->Append(a, i * 1000, i).ok());
      REQUIRE(app->Commit().ok());
    }
    REQUIRE((*db)->Close().ok());
  }
  // Flip one byte in the middle of the first segment.
  auto names = fs->ListDir("/data/wal");
  REQUIRE(names.ok());
  REQUIRE_FALSE(names->empty());
  const std::string seg = "/data/wal/" + names->front();
  auto content = ReadFileToString(fs.get(), seg);
  REQUIRE(content.ok());
  std::string damaged = *content;
  damaged[damaged.size() / 2] ^= 0x5a;
  {
    auto w = fs->NewWritableFile(seg);
    REQUIRE(w.ok());
    REQUIRE((*w)->Append(damaged).ok());
    REQUIRE((*w)->Sync().ok());
    REQUIRE((*w)->Close().ok());
  }
  auto db = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE(db.ok());  // reported and cut, not fatal
  auto got = ReadSeries(**db, a);
  CHECK(got.size() < 50);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].t == int64_t(i) * 1000);  // a prefix, in order, nothing invented
    CHECK(got[i].v == double(i));
  }
  // New writes after the repair survive the next reopen.
  auto app = (*db)->NewAppender();
  REQUIRE(app->Append(a, 1'000'000, 7).ok());
  REQUIRE(app->Commit().ok());
  REQUIRE((*db)->Close().ok());
  auto again = Db::Open(MemOptions(fs.get(), &clock), "/data");
  REQUIRE(again.ok());
  auto after = ReadSeries(**again, a);
  REQUIRE_FALSE(after.empty());
  CHECK(after.back().t == 1'000'000);
  CHECK(after.size() == got.size() + 1);
}

}  // namespace
}  // namespace vigil::storage

namespace vigil::storage {
namespace {

TEST_CASE("Db late-write generation moves for old samples, deletes and retention only",
          "[storage][db]") {
  auto fs = NewMemFileSystem();
  const int64_t now = 10 * 3'600'000;
  ManualClock clock(now);
  DbOptions o = MemOptions(fs.get(), &clock);
  o.late_write_ms = 5 * 60 * 1000;
  auto db = Db::Open(o, "/data");
  REQUIRE(db.ok());
  const Labels ls = Labels::FromPairs({{"__name__", "up"}, {"job", "a"}});
  const auto commit = [&](int64_t t) {
    auto app = (*db)->NewAppender();
    REQUIRE(app->Append(ls, t, 1).ok());
    REQUIRE(app->Commit().ok());
  };
  const uint64_t g0 = (*db)->LateWriteGeneration();
  commit(now - 60'000);  // a minute old: on time
  commit(now);
  CHECK((*db)->LateWriteGeneration() == g0);
  commit(now - 30 * 60'000);  // half an hour old (out of order, inside the window)
  const uint64_t g1 = (*db)->LateWriteGeneration();
  CHECK(g1 != g0);
  // A new series backfilled an hour back is late too, though in order for itself.
  {
    auto app = (*db)->NewAppender();
    REQUIRE(app->Append(Labels::FromPairs({{"__name__", "up"}, {"job", "b"}}), now - 3'600'000, 1).ok());
    REQUIRE(app->Commit().ok());
  }
  const uint64_t g2 = (*db)->LateWriteGeneration();
  CHECK(g2 != g1);
  const Matcher m = Matcher::Make(MatchType::kEqual, "job", "a").value();
  REQUIRE((*db)->DeleteSeries(std::span<const Matcher>(&m, 1), 0, now - 3'600'000).ok());
  CHECK((*db)->LateWriteGeneration() != g2);
}

}  // namespace
}  // namespace vigil::storage
