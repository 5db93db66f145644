// Matcher semantics, ordering, label names/values and time ranges of the head querier.

#include <algorithm>

#include "storage/head/head.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Eq;
using testing::L;
using testing::M;
using testing::ReadAll;

// Five series; `instance` names each. Series "e" has samples only at t=100, the others at
// t=1000..2000.
void Fill(Head& head) {
  auto app = head.NewAppender(nullptr);
  const Labels series[] = {
      L({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}),
      L({{"__name__", "up"}, {"job", "api"}, {"instance", "b"}, {"env", "prod"}}),
      L({{"__name__", "up"}, {"job", "web"}, {"instance", "c"}}),
      L({{"__name__", "down"}, {"job", "web"}, {"instance", "d"}, {"env", "dev"}}),
  };
  for (const Labels& ls : series) {
    for (int64_t t = 1000; t <= 2000; t += 100) REQUIRE(app->Append(ls, t, double(t)).ok());
  }
  REQUIRE(app->Append(L({{"__name__", "errors_total"}, {"instance", "e"}}), 100, 1).ok());
  REQUIRE(app->Commit().ok());
}

std::string Instances(Head& head, std::vector<Matcher> ms, bool sorted = true) {
  std::vector<std::string> out;
  for (const auto& s : ReadAll(head, ms)) {
    out.push_back(std::string(ParseLabels(s.labels).value().Get("instance")));
  }
  if (sorted) std::sort(out.begin(), out.end());
  std::string joined;
  for (const auto& s : out) joined += s;
  return joined;
}

TEST_CASE("head: Select applies =, !=, =~, !~ with Prometheus' empty-label rule",
          "[storage][head]") {
  Head head(HeadOptions{});
  Fill(head);
  using MT = MatchType;
  CHECK(Instances(head, {}) == "abcde");
  CHECK(Instances(head, {Eq("job", "api")}) == "ab");
  CHECK(Instances(head, {M(MT::kNotEqual, "job", "api")}) == "cde");  // e lacks job
  CHECK(Instances(head, {Eq("job", "")}) == "e");
  CHECK(Instances(head, {M(MT::kNotEqual, "job", "")}) == "abcd");
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", "api|web")}) == "abcd");
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", "a.*")}) == "ab");     // prefix shape
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", ".*")}) == "abcde");   // matches ""
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", ".+")}) == "abcd");
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", "w.b")}) == "cd");     // general regex
  CHECK(Instances(head, {M(MT::kRegexNoMatch, "job", "api|web")}) == "e");
  CHECK(Instances(head, {M(MT::kRegexNoMatch, "job", "w.b")}) == "abe");
  CHECK(Instances(head, {M(MT::kRegexNoMatch, "job", ".+")}) == "e");
  CHECK(Instances(head, {M(MT::kRegexMatch, "env", "prod|")}) == "abce");  // "" in the set
  CHECK(Instances(head, {M(MT::kRegexNoMatch, "env", "dev")}) == "abce");
  CHECK(Instances(head, {Eq("__name__", "up"), Eq("env", "")}) == "ac");
  CHECK(Instances(head, {Eq("job", "api"), M(MT::kNotEqual, "instance", "a")}) == "b");
  CHECK(Instances(head, {M(MT::kRegexMatch, "instance", "a|b|zzz")}) == "ab");
  CHECK(Instances(head, {Eq("nope", "x")}).empty());
  CHECK(Instances(head, {Eq("job", "nope")}).empty());
  CHECK(Instances(head, {M(MT::kNotEqual, "nope", "x")}) == "abcde");
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", "api"), M(MT::kRegexMatch, "job", "web")})
            .empty());
  // Matcher names and values are case-sensitive; regexes are fully anchored.
  CHECK(Instances(head, {M(MT::kRegexMatch, "job", "ap")}).empty());
  CHECK(Instances(head, {Eq("JOB", "api")}).empty());
}

TEST_CASE("head: Select orders series by labels", "[storage][head]") {
  Head head(HeadOptions{});
  Fill(head);
  // down{d} < errors_total{e} < up{env="prod",...b} < up{instance="a"} < up{instance="c"}
  CHECK(Instances(head, {}, /*sorted=*/false) == "debac");
}

TEST_CASE("head: label names and values, with matchers and time range", "[storage][head]") {
  Head head(HeadOptions{});
  Fill(head);
  using V = std::vector<std::string>;
  auto all = head.NewQuerier(INT64_MIN, INT64_MAX);
  CHECK(all->LabelNames({}).value() == V{"__name__", "env", "instance", "job"});
  CHECK(all->LabelValues("job", {}).value() == V{"api", "web"});
  CHECK(all->LabelValues("__name__", {}).value() == V{"down", "errors_total", "up"});
  CHECK(all->LabelValues("nope", {}).value().empty());
  const std::vector<Matcher> api{Eq("job", "api")};
  CHECK(all->LabelValues("env", api).value() == V{"prod"});
  CHECK(all->LabelValues("instance", api).value() == V{"a", "b"});
  const std::vector<Matcher> errors{Eq("__name__", "errors_total")};
  CHECK(all->LabelNames(errors).value() == V{"__name__", "instance"});

  auto late = head.NewQuerier(500, 3000);
  CHECK(late->LabelValues("__name__", {}).value() == V{"down", "up"});
  CHECK(late->LabelValues("instance", {}).value() == V{"a", "b", "c", "d"});
  CHECK(late->LabelNames(errors).value().empty());
  auto early = head.NewQuerier(0, 200);
  CHECK(early->LabelNames({}).value() == V{"__name__", "instance"});
  CHECK(ReadAll(head, {}, 0, 200).size() == 1);
  auto none = head.NewQuerier(2001, 3000);
  CHECK(none->LabelNames({}).value().empty());
  CHECK(ReadAll(head, {}, 2001, 3000).empty());
}

TEST_CASE("head: sample iterators honour the range, Seek and small batches", "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  for (int64_t t = 0; t < 10'000; t += 10) REQUIRE(app->Append(L({{"a", "b"}}), t, double(t)).ok());
  REQUIRE(app->Commit().ok());

  auto q = head.NewQuerier(2005, 5000);
  auto set = q->Select(std::vector<Matcher>{Eq("a", "b")});
  REQUIRE(set->Next());
  auto it = set->Samples();
  int64_t ts[7];
  double vs[7];
  // Next() may return fewer than asked where a batch straddles the range's start.
  size_t n0 = it->Next(ts, vs);
  REQUIRE(n0 >= 1);
  CHECK(ts[0] == 2010);
  CHECK(vs[0] == 2010.0);
  it->Seek(3001);
  std::vector<int64_t> rest;
  for (size_t n; (n = it->Next(ts, vs)) != 0;) rest.insert(rest.end(), ts, ts + n);
  REQUIRE(!rest.empty());
  CHECK(rest.front() == 3010);
  CHECK(rest.back() == 5000);
  CHECK(rest.size() == 200);
  CHECK(it->status().ok());
  CHECK(!set->Next());

  // An iterator may outlive the set's position and see a consistent snapshot.
  auto q2 = head.NewQuerier(INT64_MIN, INT64_MAX);
  auto set2 = q2->Select(std::vector<Matcher>{Eq("a", "b")});
  REQUIRE(set2->Next());
  auto it2 = set2->Samples();
  REQUIRE(app->Append(L({{"a", "b"}}), 20'000, 1).ok());
  REQUIRE(app->Commit().ok());
  size_t total = 0;
  for (size_t n; (n = it2->Next(ts, vs)) != 0;) total += n;
  CHECK(total == 1000);
}


// Every sample an iterator gives, after an optional Seek.
std::vector<std::pair<int64_t, double>> Drain(SampleIterator& it, int64_t seek = INT64_MIN) {
  if (seek != INT64_MIN) it.Seek(seek);
  std::vector<std::pair<int64_t, double>> out;
  int64_t ts[16];
  double vs[16];
  while (size_t n = it.Next(ts, vs)) {
    for (size_t i = 0; i < n; ++i) out.push_back({ts[i], vs[i]});
  }
  REQUIRE(it.status().ok());
  return out;
}

TEST_CASE("head: SelectNewest hands over a series' newest sample alone when it is at or before `at`",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 100'000;
  opts.chunk_target_samples = 8;
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  const Labels a = L({{"__name__", "up"}, {"job", "a"}});
  const Labels b = L({{"__name__", "up"}, {"job", "b"}});
  for (int64_t t = 1000; t <= 50'000; t += 1000) {
    REQUIRE(app->Append(a, t, double(t)).ok());
    REQUIRE(app->Append(b, t + 500, double(-t)).ok());
  }
  REQUIRE(app->Commit().ok());
  REQUIRE(app->Append(a, 20'500, 7.0).ok());  // out of order: older than a's newest
  REQUIRE(app->Commit().ok());

  auto q = head.NewQuerier(0, 60'000);
  const std::vector<Matcher> up{Eq("__name__", "up")};

  SECTION("newest sample at or before `at`: that sample alone, with its bounds") {
    auto set = q->SelectNewest(up, 60'000);
    REQUIRE(set->Next());
    auto it = set->Samples();
    int64_t lo = 0, hi = 0;
    REQUIRE(it->TimeBounds(&lo, &hi));
    CHECK(lo == 50'000);
    CHECK(hi == 50'000);
    CHECK(Drain(*it) == std::vector<std::pair<int64_t, double>>{{50'000, 50'000.0}});
    REQUIRE(set->Next());
    CHECK(Drain(*set->Samples()) == std::vector<std::pair<int64_t, double>>{{50'500, -50'000.0}});
    CHECK_FALSE(set->Next());
  }
  SECTION("a Seek past the newest sample leaves nothing") {
    auto set = q->SelectNewest(up, 60'000);
    REQUIRE(set->Next());
    CHECK(Drain(*set->Samples(), 50'001).empty());
  }
  SECTION("newer samples than `at`: the full iterator, as Select gives") {
    auto set = q->SelectNewest(up, 30'000);
    auto all = q->Select(up);
    REQUIRE(set->Next());
    REQUIRE(all->Next());
    const auto got = Drain(*set->Samples());
    CHECK(got.size() == 51);  // 1000 .. 50000 and the out-of-order 20500
    CHECK(got == Drain(*all->Samples()));
  }
  SECTION("a querier range that ends before the newest sample: the full iterator, clipped") {
    auto early = head.NewQuerier(0, 10'000);
    auto set = early->SelectNewest(up, 60'000);
    REQUIRE(set->Next());
    CHECK(Drain(*set->Samples()).size() == 10);
  }
  SECTION("a newest sample before the querier range: nothing") {
    auto late = head.NewQuerier(50'200, 60'000);
    auto set = late->SelectNewest(up, 60'000);
    REQUIRE(set->Next());  // b has a sample at 50500
    CHECK(set->labels() == b);
    CHECK(Drain(*set->Samples()) == std::vector<std::pair<int64_t, double>>{{50'500, -50'000.0}});
    CHECK_FALSE(set->Next());
  }
}

}  // namespace
}  // namespace vigil::storage
