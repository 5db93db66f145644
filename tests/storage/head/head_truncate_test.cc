// Head truncation after a flush: min valid time, dropping flushed samples, garbage collection of
// empty series, appenders holding removed series, readers holding the flushed range.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "storage/head/head.h"
#include "storage/matcher.h"

namespace vigil::storage {
namespace {

Labels N(const std::string& name) { return Labels::FromPairs({{"__name__", name}}); }

std::vector<int64_t> Times(Head& head, const std::string& name) {
  auto q = head.NewQuerier(INT64_MIN, INT64_MAX);
  std::vector<Matcher> ms;
  ms.push_back(Matcher::Make(MatchType::kEqual, "__name__", name).value());
  auto set = q->Select(ms);
  std::vector<int64_t> out;
  while (set->Next()) {
    auto it = set->Samples();
    int64_t ts[16];
    double vs[16];
    while (size_t n = it->Next(ts, vs)) out.insert(out.end(), ts, ts + n);
  }
  return out;
}

HeadOptions Options() {
  HeadOptions o;
  o.chunk_range_ms = 1000;
  o.chunk_target_samples = 4;
  o.out_of_order_window_ms = 5000;
  return o;
}

TEST_CASE("truncation drops flushed samples and garbage-collects empty series", "[storage][head][truncate]") {
  Head head(Options());
  auto app = head.NewAppender(nullptr);
  for (int64_t t = 0; t < 2500; t += 100) REQUIRE(app->Append(N("a"), t, double(t)).ok());
  for (int64_t t = 0; t < 600; t += 100) REQUIRE(app->Append(N("b"), t, double(t)).ok());
  REQUIRE(app->Commit().ok());
  REQUIRE(app->Append(N("a"), 50, 1).ok());  // out of order, flushed too
  REQUIRE(app->Commit().ok());

  // A batch holding "b" that commits after the truncation removed it.
  auto late = head.NewAppender(nullptr);
  REQUIRE(late->Append(N("b"), 1500, 15).ok());

  head.SetMinValidTime(1000);
  CHECK(head.MinValidTime() == 1000);
  CHECK(app->Append(N("a"), 999, 1).status().IsOutOfRange());
  CHECK(head.Truncate(1000) == 1);
  CHECK(head.Stats().series == 1);
  CHECK(head.Stats().series_removed == 1);
  CHECK(head.MinTime() >= 1000);
  std::vector<int64_t> want;
  for (int64_t t = 1000; t < 2500; t += 100) want.push_back(t);
  CHECK(Times(head, "a") == want);
  CHECK(Times(head, "b").empty());

  REQUIRE(late->Commit().ok());  // re-resolved by labels: a new series
  CHECK(Times(head, "b") == std::vector<int64_t>{1500});
  CHECK(head.Stats().series == 2);
  head.FreeRetired();
}

TEST_CASE("a truncation waits for readers created before the flushed blocks", "[storage][head][truncate]") {
  Head head(Options());
  auto app = head.NewAppender(nullptr);
  REQUIRE(app->Append(N("a"), 10, 1).ok());
  REQUIRE(app->Commit().ok());
  auto reader = head.NewQuerier(INT64_MIN, INT64_MAX);
  const uint64_t epoch = head.ReaderEpoch();
  CHECK_FALSE(head.ReadersDone(epoch));
  reader.reset();
  CHECK(head.ReadersDone(epoch));
  auto later = head.NewQuerier(INT64_MIN, INT64_MAX);  // created after: not waited for
  CHECK(head.ReadersDone(epoch));
}

TEST_CASE("head deletes rewrite the series and later appends see the remaining newest sample", "[storage][head][truncate]") {
  Head head(Options());
  auto app = head.NewAppender(nullptr);
  for (int64_t t = 0; t < 1000; t += 100) REQUIRE(app->Append(N("a"), t, double(t)).ok());
  REQUIRE(app->Commit().ok());
  std::vector<Matcher> ms;
  ms.push_back(Matcher::Make(MatchType::kEqual, "__name__", "a").value());
  std::vector<SeriesRef> seen;
  REQUIRE(head.DeleteSeries(ms, 250, 2000, [&](std::span<const SeriesRef> refs) {
                seen.assign(refs.begin(), refs.end());
                return Status::OK();
              }).ok());
  CHECK(seen.size() == 1);
  CHECK(Times(head, "a") == std::vector<int64_t>{0, 100, 200});
  REQUIRE(app->Append(N("a"), 300, 3).ok());  // the deleted range can be written again
  REQUIRE(app->Commit().ok());
  CHECK(Times(head, "a") == std::vector<int64_t>{0, 100, 200, 300});
  // A failing callback deletes nothing.
  CHECK_FALSE(head.DeleteSeries(ms, 0, 5000, [](std::span<const SeriesRef>) {
                    return Status::IOError("no");
                  }).ok());
  CHECK(Times(head, "a").size() == 4);
}

}  // namespace
}  // namespace vigil::storage
