// Out-of-order samples, the window, and duplicate timestamps.

#include <algorithm>
#include <numeric>
#include <random>

#include "storage/head/head.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Bits;
using testing::Eq;
using testing::L;
using testing::ReadAll;

const Labels kSeries = Labels::FromPairs({{"__name__", "req_total"}, {"job", "api"}});

TEST_CASE("head: out-of-order samples inside the window are merged in order at read",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 10'000;
  opts.chunk_target_samples = 8;  // so out-of-order data is compacted into chunks too
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  // In order: 0, 100, ..., 9900. Then, newest first, the odd 50s inside the window.
  for (int64_t t = 0; t < 10'000; t += 100) REQUIRE(app->Append(kSeries, t, double(t)).ok());
  REQUIRE(app->Commit().ok());
  std::vector<int64_t> late;
  for (int64_t t = 50; t < 10'000; t += 100) late.push_back(t);
  std::mt19937 rng(7);
  std::shuffle(late.begin(), late.end(), rng);
  for (size_t i = 0; i < late.size(); ++i) {
    REQUIRE(app->Append(kSeries, late[i], double(late[i])).ok());
    if (i % 17 == 0) REQUIRE(app->Commit().ok());
  }
  REQUIRE(app->Commit().ok());

  auto got = ReadAll(head, {Eq("job", "api")});
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].ts.size() == 200);
  for (size_t i = 0; i < 200; ++i) {
    CHECK(got[0].ts[i] == int64_t(i) * 50);
    CHECK(got[0].bits[i] == Bits(double(i * 50)));
  }
  const HeadStats st = head.Stats();
  CHECK(st.out_of_order_samples == 99);  // 9950 is newer than 9900: in order
  CHECK(st.samples_appended == 200);
  CHECK(st.rejected_samples == 0);
  CHECK(st.min_time == 0);

  SECTION("time range and Seek apply to merged data") {
    auto q = head.NewQuerier(1000, 2000);
    auto set = q->Select(std::vector<Matcher>{Eq("job", "api")});
    REQUIRE(set->Next());
    auto it = set->Samples();
    it->Seek(1490);
    int64_t ts[4];
    double vs[4];
    REQUIRE(it->Next(ts, vs) == 4);
    CHECK(ts[0] == 1500);
    CHECK(ts[3] == 1650);
    it->Seek(1990);
    REQUIRE(it->Next(ts, vs) == 1);
    CHECK(ts[0] == 2000);
    CHECK(it->Next(ts, vs) == 0);
  }
}

TEST_CASE("head: samples older than the window are rejected naming series and timestamps",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 1000;
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(kSeries, 5000, 1).ok());
  REQUIRE(app->Commit().ok());
  CHECK(app->Append(kSeries, 4000, 1).ok());  // exactly at the edge: accepted
  auto r = app->Append(kSeries, 3999, 1);
  REQUIRE(!r.ok());
  CHECK(r.status().IsOutOfRange());
  CHECK_THAT(r.status().message(), Catch::Contains(kSeries.ToString()));
  CHECK_THAT(r.status().message(), Catch::Contains("3999"));
  CHECK_THAT(r.status().message(), Catch::Contains("5000"));
  CHECK_THAT(r.status().message(), Catch::Contains("1000 ms"));
  // The rest of the batch stays valid.
  CHECK(app->pending() == 1);
  REQUIRE(app->Commit().ok());
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{4000, 5000});
}

TEST_CASE("head: window 0 disables out-of-order samples", "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 0;
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(kSeries, 5000, 1).ok());
  REQUIRE(app->Commit().ok());
  auto r = app->Append(kSeries, 4999, 1);
  CHECK(r.status().IsOutOfRange());
  CHECK_THAT(r.status().message(), Catch::Contains("disabled"));
  CHECK_THAT(r.status().message(), Catch::Contains("4999"));
  // Duplicates at the newest timestamp keep their rules.
  CHECK(app->Append(kSeries, 5000, 1).ok());
  CHECK(app->pending() == 0);
  CHECK(app->Append(kSeries, 5000, 2).status().code() == StatusCode::kAlreadyExists);
}

TEST_CASE("head: a repeated timestamp with the same value is a no-op, another value an error",
          "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  const double stale = std::bit_cast<double>(kStaleNaNBits);
  for (int64_t t = 0; t < 3000; t += 10) {  // 300 samples: closed chunks and an open one
    REQUIRE(app->Append(kSeries, t, t == 100 ? stale : 1.5).ok());
  }
  REQUIRE(app->Commit().ok());

  SECTION("newest sample") {
    CHECK(app->Append(kSeries, 2990, 1.5).ok());
    CHECK(app->pending() == 0);
    auto r = app->Append(kSeries, 2990, 2.5);
    CHECK(r.status().code() == StatusCode::kAlreadyExists);
    CHECK_THAT(r.status().message(), Catch::Contains(kSeries.ToString()));
    CHECK_THAT(r.status().message(), Catch::Contains("2990"));
    // -0.0 and 0.0 differ in bits.
    REQUIRE(app->Append(kSeries, 3000, 0.0).ok());
    REQUIRE(app->Commit().ok());
    CHECK(app->Append(kSeries, 3000, -0.0).status().code() == StatusCode::kAlreadyExists);
  }
  SECTION("older sample in a closed or open chunk") {
    CHECK(app->Append(kSeries, 10, 1.5).ok());      // first closed chunk
    CHECK(app->Append(kSeries, 100, stale).ok());   // the stale NaN compares by bits
    CHECK(app->Append(kSeries, 2500, 1.5).ok());    // open chunk
    CHECK(app->pending() == 0);
    CHECK(app->Append(kSeries, 10, 1.25).status().code() == StatusCode::kAlreadyExists);
    CHECK(app->Append(kSeries, 2500, 1.25).status().code() == StatusCode::kAlreadyExists);
    CHECK(app->Append(kSeries, 100, std::nan("")).status().code() == StatusCode::kAlreadyExists);
  }
  SECTION("older sample in the out-of-order buffer") {
    REQUIRE(app->Append(kSeries, 15, 7).ok());
    REQUIRE(app->Commit().ok());
    CHECK(app->Append(kSeries, 15, 7).ok());
    CHECK(app->pending() == 0);
    CHECK(app->Append(kSeries, 15, 8).status().code() == StatusCode::kAlreadyExists);
  }
  REQUIRE(app->Commit().ok());
  const HeadStats st = head.Stats();
  CHECK(st.rejected_samples == 0);
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  const auto at100 = std::find(got[0].ts.begin(), got[0].ts.end(), 100) - got[0].ts.begin();
  CHECK(got[0].bits[at100] == kStaleNaNBits);
}

TEST_CASE("head: conflicts inside one batch are settled at commit and counted as rejected",
          "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(kSeries, 100, 1).ok());
  REQUIRE(app->Append(kSeries, 100, 1).ok());  // same batch: same value, a no-op at commit
  REQUIRE(app->Append(kSeries, 100, 2).ok());  // same batch: other value, rejected at commit
  REQUIRE(app->Commit().ok());
  // The commit says what it did not keep, as Append would have.
  const Appender::CommitRejections& late = app->last_commit_rejections();
  CHECK(late.count == 1);
  CHECK(late.first.code() == StatusCode::kAlreadyExists);
  CHECK_THAT(late.first.message(), Catch::Contains("already has a sample at timestamp 100"));
  const HeadStats st = head.Stats();
  CHECK(st.samples_appended == 1);
  CHECK(st.rejected_samples == 1);
  // The next commit starts clean.
  REQUIRE(app->Append(kSeries, 200, 1).ok());
  REQUIRE(app->Commit().ok());
  CHECK(app->last_commit_rejections().count == 0);
  CHECK(app->last_commit_rejections().first.ok());
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{100, 200});
  CHECK(got[0].bits == std::vector<uint64_t>{Bits(1), Bits(1)});
}

TEST_CASE("head: samples another appender pushed out of the window are rejected at commit",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 100;
  Head head(opts);
  auto a = head.NewAppender(nullptr);
  auto b = head.NewAppender(nullptr);
  REQUIRE(a->Append(kSeries, 1000, 1).ok());
  REQUIRE(b->Append(kSeries, 5000, 5).ok());
  REQUIRE(b->Commit().ok());
  CHECK(b->last_commit_rejections().count == 0);
  REQUIRE(a->Commit().ok());
  CHECK(a->last_commit_rejections().count == 1);
  CHECK(a->last_commit_rejections().first.IsOutOfRange());
  CHECK_THAT(a->last_commit_rejections().first.message(),
             Catch::Contains("timestamp 1000 is older than the series' newest sample at 5000"));
  const HeadStats st = head.Stats();
  CHECK(st.samples_appended == 1);
  CHECK(st.rejected_samples == 1);
}

TEST_CASE("head: a later sample of the same batch can leave an earlier one beyond the window",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 100;
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(kSeries, 5000, 5).ok());
  REQUIRE(app->Append(kSeries, 1000, 1).ok());  // valid now: nothing committed yet
  REQUIRE(app->Commit().ok());
  CHECK(app->last_commit_rejections().count == 1);
  CHECK(app->last_commit_rejections().first.IsOutOfRange());
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{5000});
}

TEST_CASE("head: samples a flush made too old are rejected at commit", "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(kSeries, 1000, 1).ok());
  REQUIRE(app->Append(kSeries, 9000, 9).ok());
  head.SetMinValidTime(5000);  // a flush to blocks raced with this batch
  REQUIRE(app->Commit().ok());
  CHECK(app->last_commit_rejections().count == 1);
  CHECK(app->last_commit_rejections().first.IsOutOfRange());
  CHECK(head.Stats().rejected_samples == 1);
}

}  // namespace
}  // namespace vigil::storage
