// Matcher semantics over a block index, against Prometheus' documented behaviour
// (https://prometheus.io/docs/prometheus/latest/querying/basics/): a missing label equals "",
// regexes are fully anchored RE2 with `.` matching newlines.

#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "storage/base/mem_file_system.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using testing::M;
using MT = MatchType;

// Series 1..8 of the table below; index i holds series i+1.
std::vector<Labels> TableSeries() {
  return {
      Labels::FromPairs({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}),
      Labels::FromPairs({{"__name__", "up"}, {"job", "api"}, {"instance", "b"}, {"env", "prod"}}),
      Labels::FromPairs({{"__name__", "up"}, {"job", "web"}, {"instance", "a"}, {"env", "dev"}}),
      Labels::FromPairs({{"__name__", "up"}, {"job", "web"}, {"instance", "c"}}),
      Labels::FromPairs({{"__name__", "down"}, {"job", "db"}, {"instance", "a\nb"}, {"env", "prod"}}),
      Labels::FromPairs({{"__name__", "down"}, {"instance", "x.y"}}),
      Labels::FromPairs({{"__name__", "foo"}, {"job", "api-v2"}, {"path", "/a/b"}}),
      Labels::FromPairs({{"__name__", "foo"}, {"job", "API"}, {"env", "prod|dev"}}),
  };
}

class MatcherFixture {
 public:
  explicit MatcherFixture(std::vector<Labels> series) : series_(std::move(series)) {
    REQUIRE(fs_->CreateDirs("/d").ok());
    std::vector<Labels> sorted = series_;
    std::sort(sorted.begin(), sorted.end());
    auto w = BlockWriter::Create(fs_.get(), "/d", testing::FixedOptions()).value();
    std::vector<std::string> storage;
    auto chunks = testing::MakeChunks({{1, 1.0}}, 1, &storage);
    for (const Labels& ls : sorted) REQUIRE(w->AddSeries(ls, chunks).ok());
    REQUIRE(w->Finish().ok());
    reader_ = BlockReader::Open(fs_.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ").value();
  }

  // Labels (as strings) of the series the index selects.
  std::set<std::string> Select(const std::vector<Matcher>& ms) const {
    auto ids = reader_->index().PostingsForMatchers(ms);
    REQUIRE(ids.ok());
    REQUIRE(std::is_sorted(ids->begin(), ids->end()));
    std::set<std::string> out;
    Labels ls;
    std::vector<ChunkMeta> chunks;
    for (BlockSeriesId id : *ids) {
      REQUIRE(reader_->index().Series(id, &ls, &chunks).ok());
      out.insert(ls.ToString());
    }
    return out;
  }

  // The same by definition: every matcher Matches() the series' value ("" when missing).
  std::set<std::string> BruteForce(const std::vector<Matcher>& ms) const {
    std::set<std::string> out;
    for (const Labels& ls : series_) {
      bool all = true;
      for (const Matcher& m : ms) all = all && m.Matches(ls);
      if (all) out.insert(ls.ToString());
    }
    return out;
  }

  const std::vector<Labels>& series() const { return series_; }

 private:
  std::unique_ptr<MemFileSystem> fs_ = NewMemFileSystem();
  std::vector<Labels> series_;
  std::shared_ptr<BlockReader> reader_;
};

struct Row {
  std::vector<std::tuple<MT, const char*, const char*>> matchers;
  std::vector<int> want;  // 1-based series numbers
};

TEST_CASE("postings for matchers follow Prometheus semantics", "[storage][block]") {
  MatcherFixture f(TableSeries());
  const std::vector<Row> table = {
      {{{MT::kEqual, "job", "api"}}, {1, 2}},
      {{{MT::kEqual, "job", ""}}, {6}},                      // missing label equals ""
      {{{MT::kNotEqual, "job", ""}}, {1, 2, 3, 4, 5, 7, 8}},  // label present
      {{{MT::kNotEqual, "job", "api"}}, {3, 4, 5, 6, 7, 8}},  // includes series without job
      {{{MT::kRegexMatch, "job", "api|web"}}, {1, 2, 3, 4}},
      {{{MT::kRegexMatch, "job", "(?:api|web)"}}, {1, 2, 3, 4}},
      {{{MT::kRegexMatch, "job", "api.*"}}, {1, 2, 7}},       // prefix
      {{{MT::kRegexMatch, "job", ".*"}}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {{{MT::kRegexMatch, "job", ".+"}}, {1, 2, 3, 4, 5, 7, 8}},
      {{{MT::kRegexNoMatch, "job", ".+"}}, {6}},
      {{{MT::kRegexNoMatch, "job", ".*"}}, {}},
      {{{MT::kRegexMatch, "job", ""}}, {6}},
      {{{MT::kRegexMatch, "job", "api|"}}, {1, 2, 6}},        // alternation with the empty string
      {{{MT::kRegexNoMatch, "job", "api|web"}}, {5, 6, 7, 8}},
      {{{MT::kRegexNoMatch, "job", "api.*"}}, {3, 4, 5, 6, 8}},
      {{{MT::kRegexMatch, "job", "a.i"}}, {1, 2}},             // general regex (RE2)
      {{{MT::kRegexMatch, "job", "ap"}}, {}},                  // anchored at both ends
      {{{MT::kRegexMatch, "job", "pi"}}, {}},
      {{{MT::kRegexMatch, "job", "api"}}, {1, 2}},             // case-sensitive
      {{{MT::kRegexMatch, "job", "(?i)api"}}, {1, 2, 8}},
      {{{MT::kRegexMatch, "instance", "a.b"}}, {5}},           // `.` matches a newline
      {{{MT::kRegexMatch, "instance", "x\\.y"}}, {6}},
      {{{MT::kRegexMatch, "instance", "x.y"}}, {6}},
      {{{MT::kEqual, "env", "prod|dev"}}, {8}},                // `=` is literal
      {{{MT::kRegexMatch, "env", "prod|dev"}}, {2, 3, 5}},
      {{{MT::kRegexMatch, "env", "prod\\|dev"}}, {8}},
      {{{MT::kNotEqual, "env", "prod"}}, {1, 3, 4, 6, 7, 8}},
      {{{MT::kEqual, "__name__", "up"}, {MT::kEqual, "env", ""}}, {1, 4}},
      {{{MT::kEqual, "nonexistent", ""}}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {{{MT::kNotEqual, "nonexistent", ""}}, {}},
      {{{MT::kEqual, "nonexistent", "x"}}, {}},
      {{{MT::kNotEqual, "nonexistent", "x"}}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {{{MT::kRegexMatch, "nonexistent", ".*"}}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {{{MT::kRegexMatch, "nonexistent", ".+"}}, {}},
      {{{MT::kEqual, "job", "nope"}}, {}},
      {{{MT::kEqual, "__name__", "up"}, {MT::kNotEqual, "job", "api"}}, {3, 4}},
      {{{MT::kRegexMatch, "__name__", "up|down"}, {MT::kRegexMatch, "env", "prod|dev"}}, {2, 3, 5}},
      {{{MT::kEqual, "__name__", "up"}, {MT::kRegexMatch, "job", "web"}, {MT::kRegexNoMatch, "instance", "a"}}, {4}},
      {{{MT::kRegexMatch, "job", "api.*"}, {MT::kRegexNoMatch, "job", "api-.*"}}, {1, 2}},
      {{{MT::kRegexMatch, "path", "/a/.*"}}, {7}},
      {{{MT::kEqual, "job", "api"}, {MT::kEqual, "job", "web"}}, {}},
      {{}, {1, 2, 3, 4, 5, 6, 7, 8}},                          // no matcher: everything
      {{{MT::kRegexMatch, "job", ".*"}, {MT::kEqual, "env", ""}}, {1, 4, 6, 7}},
  };
  const auto series = f.series();
  for (const Row& row : table) {
    std::vector<Matcher> ms;
    std::string desc;
    for (const auto& [type, name, value] : row.matchers) {
      ms.push_back(M(type, name, value));
      desc += ms.back().ToString() + " ";
    }
    std::set<std::string> want;
    for (int i : row.want) want.insert(series[i - 1].ToString());
    INFO("{" << desc << "}");
    CHECK(f.Select(ms) == want);
    CHECK(f.BruteForce(ms) == want);
  }
}

TEST_CASE("postings for random matchers agree with matching each series", "[storage][block]") {
  std::mt19937 rng(3);
  const std::vector<std::string> values = {"a", "ab", "abc", "b", "ba", "c", "x.y", "a|b", "long-value-1", "long-value-2"};
  std::vector<Labels> series;
  std::set<std::string> seen;
  for (int i = 0; i < 400; ++i) {
    LabelsBuilder b;
    for (const char* name : {"n1", "n2", "n3", "n4"}) {
      if (rng() % 4 != 0) b.Set(name, values[rng() % values.size()]);
    }
    b.Set("uid", std::to_string(i));
    series.push_back(b.Build().value());
  }
  MatcherFixture f(series);
  const std::vector<std::string> patterns = {"a", "a|b", "ab.*", ".*", ".+", "", "a|", "a.*c", "(a|b)c?", "x\\.y",
                                             "long-.*", "[ab]+", "b.*|c", "a\\|b", "nope"};
  for (int iter = 0; iter < 1500; ++iter) {
    std::vector<Matcher> ms;
    const int k = static_cast<int>(rng() % 4);
    for (int j = 0; j < k; ++j) {
      const auto type = static_cast<MT>(rng() % 4);
      const std::string name = "n" + std::to_string(1 + rng() % 5);  // n5 is never present
      const bool regex = type == MT::kRegexMatch || type == MT::kRegexNoMatch;
      const std::string value = regex ? patterns[rng() % patterns.size()] : (rng() % 5 == 0 ? "" : values[rng() % values.size()]);
      ms.push_back(M(type, name, value));
    }
    std::string desc;
    for (const Matcher& m : ms) desc += m.ToString() + " ";
    INFO("{" << desc << "}");
    REQUIRE(f.Select(ms) == f.BruteForce(ms));
  }
}

}  // namespace
}  // namespace vigil::storage
