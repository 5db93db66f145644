// Append/commit/query round trips through the head, single-threaded, without a WAL.

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <random>

#include "storage/head/head.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Bits;
using testing::Eq;
using testing::L;
using testing::ReadAll;

TEST_CASE("head: many series in random order round-trip across batch boundaries",
          "[storage][head]") {
  HeadOptions opts;
  opts.chunk_target_samples = 120;
  Head head(opts);
  constexpr int kSeries = 200;
  constexpr int kSamples = 500;  // > 4 chunks per series
  std::mt19937_64 rng(42);
  std::vector<Labels> labels;
  for (int i = 0; i < kSeries; ++i) {
    labels.push_back(L({{"__name__", "metric_" + std::to_string(i % 7)},
                        {"instance", "host-" + std::to_string(i)},
                        {"job", i % 2 ? "api" : "web"}}));
  }
  std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>> want;
  auto app = head.NewAppender(nullptr);
  std::vector<SeriesRef> refs(kSeries, kNoSeriesRef);
  std::vector<int> order(kSeries);
  for (int i = 0; i < kSeries; ++i) order[i] = i;
  size_t in_batch = 0;
  const size_t batch_size = 333;  // not a divisor of anything above
  for (int s = 0; s < kSamples; ++s) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) {
      const int64_t t = 1'700'000'000'000 + int64_t{s} * 15'000 + (i % 3);
      const double v = (i % 4 == 0) ? double(s) : std::bit_cast<double>(rng() >> 2);
      if (refs[i] == kNoSeriesRef || s % 5 == 0) {
        auto r = app->Append(labels[i], t, v);
        REQUIRE(r.ok());
        if (refs[i] != kNoSeriesRef) CHECK(*r == refs[i]);
        refs[i] = *r;
      } else {
        REQUIRE(app->AppendByRef(refs[i], t, v).ok());
      }
      want[labels[i].ToString()].push_back({t, Bits(v)});
      if (++in_batch == batch_size) {
        REQUIRE(app->Commit().ok());
        in_batch = 0;
      }
    }
  }
  REQUIRE(app->Commit().ok());

  auto got = ReadAll(head, {});
  REQUIRE(got.size() == kSeries);
  CHECK(std::is_sorted(got.begin(), got.end(), [&](const auto& a, const auto& b) {
    return ParseLabels(a.labels).value() < ParseLabels(b.labels).value();
  }));
  for (const auto& s : got) {
    const auto& w = want.at(s.labels);
    REQUIRE(s.ts.size() == w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      REQUIRE(s.ts[i] == w[i].first);
      REQUIRE(s.bits[i] == w[i].second);
    }
  }
  const HeadStats st = head.Stats();
  CHECK(st.series == kSeries);
  CHECK(st.samples_appended == uint64_t{kSeries} * kSamples);
  CHECK(st.min_time == 1'700'000'000'000);
  CHECK(st.max_time == 1'700'000'000'000 + int64_t{kSamples - 1} * 15'000 + 2);
  CHECK(st.chunks >= uint64_t{kSeries} * (kSamples / 120));
}

TEST_CASE("head: values round-trip bit-exactly (stale NaN, -0.0, infinities, NaN payloads)",
          "[storage][head]") {
  Head head(HeadOptions{});
  const uint64_t patterns[] = {kStaleNaNBits,           0x8000000000000000ull,  // -0.0
                               0x7ff0000000000000ull,   0xfff0000000000000ull,  // +-inf
                               0x7ff8000000000001ull,   0xfff8dead0000beefull,  // NaN payloads
                               0x0000000000000001ull,   0x3ff0000000000000ull,  // subnormal, 1
                               0x0000000000000000ull,   kStaleNaNBits};
  auto app = head.NewAppender(nullptr);
  const Labels ls = L({{"__name__", "bits"}});
  for (int rep = 0; rep < 30; ++rep) {  // 300 samples: crosses closed, re-encoded chunks
    for (size_t i = 0; i < std::size(patterns); ++i) {
      REQUIRE(app->Append(ls, rep * 100 + int64_t(i), std::bit_cast<double>(patterns[i])).ok());
    }
  }
  REQUIRE(app->Commit().ok());
  auto got = ReadAll(head, {Eq("__name__", "bits")});
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].bits.size() == 300);
  for (size_t i = 0; i < 300; ++i) CHECK(got[0].bits[i] == patterns[i % std::size(patterns)]);
}

TEST_CASE("head: chunks are cut at the target, at 240 at most, and at 2 h boundaries",
          "[storage][head]") {
  SECTION("target") {
    HeadOptions opts;
    opts.chunk_target_samples = 50;
    Head head(opts);
    auto app = head.NewAppender(nullptr);
    for (int i = 0; i < 175; ++i) REQUIRE(app->Append(L({{"a", "b"}}), i, i).ok());
    REQUIRE(app->Commit().ok());
    CHECK(head.Stats().chunks == 4);  // 3 closed + 1 open
  }
  SECTION("hard cap") {
    HeadOptions opts;
    opts.chunk_target_samples = 100000;
    Head head(opts);
    auto app = head.NewAppender(nullptr);
    for (int i = 0; i < 481; ++i) REQUIRE(app->Append(L({{"a", "b"}}), i, i).ok());
    REQUIRE(app->Commit().ok());
    CHECK(head.Stats().chunks == 3);
  }
  SECTION("2 h boundary, negative timestamps included") {
    Head head(HeadOptions{});
    auto app = head.NewAppender(nullptr);
    const int64_t two_h = 7'200'000;
    for (int64_t t : {-two_h - 1, -two_h, int64_t{-1}, int64_t{0}, two_h - 1, two_h}) {
      REQUIRE(app->Append(L({{"a", "b"}}), t, 1.0).ok());
    }
    REQUIRE(app->Commit().ok());
    CHECK(head.Stats().chunks == 4);
    auto got = ReadAll(head, {Eq("a", "b")});
    REQUIRE(got.size() == 1);
    CHECK(got[0].ts == std::vector<int64_t>{-two_h - 1, -two_h, -1, 0, two_h - 1, two_h});
  }
}

TEST_CASE("head: uncommitted samples are invisible; Rollback discards", "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(L({{"__name__", "up"}}), 1000, 1).ok());
  CHECK(app->pending() == 1);
  CHECK(ReadAll(head, {}).empty());
  auto q = head.NewQuerier(INT64_MIN, INT64_MAX);
  CHECK(q->LabelNames({}).value().empty());
  CHECK(q->LabelValues("__name__", {}).value().empty());
  app->Rollback();
  CHECK(app->pending() == 0);
  REQUIRE(app->Commit().ok());
  CHECK(ReadAll(head, {}).empty());
  CHECK(head.Stats().samples_appended == 0);

  REQUIRE(app->Append(L({{"__name__", "up"}}), 2000, 2).ok());
  REQUIRE(app->Commit().ok());
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{2000});
  CHECK(app->pending() == 0);
}

TEST_CASE("head: destroying an appender with a pending batch discards it", "[storage][head]") {
  Head head(HeadOptions{});
  {
    auto app = head.NewAppender(nullptr);
    REQUIRE(app->Append(L({{"__name__", "up"}}), 1000, 1).ok());
  }
  CHECK(ReadAll(head, {}).empty());
}

TEST_CASE("head: invalid labels and unknown refs are rejected", "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  auto bad = app->Append(L({{"__name__", "up"}, {"0bad", "x"}}), 1, 1);
  REQUIRE(!bad.ok());
  CHECK(bad.status().IsInvalidArgument());
  CHECK_THAT(bad.status().message(), Catch::Contains("0bad"));
  auto empty = app->Append(Labels(), 1, 1);
  CHECK(empty.status().IsInvalidArgument());
  Status st = app->AppendByRef(12345, 1, 1);
  CHECK(st.IsNotFound());
  CHECK_THAT(st.message(), Catch::Contains("12345"));
  CHECK(app->pending() == 0);
  CHECK(head.Stats().series == 0);
}

TEST_CASE("head: refs are dense, start at 1 and are stable", "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  for (int i = 0; i < 10; ++i) {
    auto r = app->Append(L({{"i", std::to_string(i)}}), 1, 1);
    REQUIRE(r.ok());
    CHECK(*r == SeriesRef(i + 1));
  }
  CHECK(*app->Append(L({{"i", "3"}}), 2, 1) == 4);
  REQUIRE(app->Commit().ok());
  CHECK(head.SeriesRefs() == std::vector<SeriesRef>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  Labels ls;
  REQUIRE(head.SeriesLabels(4, &ls));
  CHECK(ls.ToString() == R"({i="3"})");
  CHECK(!head.SeriesLabels(11, &ls));
}

}  // namespace
}  // namespace vigil::storage
