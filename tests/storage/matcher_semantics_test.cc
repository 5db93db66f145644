// One table of matcher semantics, run against every place that evaluates matchers: a block's index
// (IndexReader::PostingsForMatchers), the block querier (NewBlockQuerier) and the head querier.
// Every row states the expected series by hand, from Prometheus' documented behaviour
// (https://prometheus.io/docs/prometheus/latest/querying/basics/#time-series-selectors):
//   * a label that a series lacks has the value "": `{a=""}` selects series without `a`;
//   * regexes are RE2, fully anchored (`re` means `^(?:re)$`), `.` also matches a newline;
//   * `=~".*"` matches every series, `=~".+"` only those that carry the label.
// Each row is also checked against brute-force evaluation (Matcher::Matches on every series), and
// rows marked kNoRegexEngine must be answered without running RE2 (literal sets, prefixes, `.*`,
// `.+`: postings look-ups and range scans), which RegexEngineMatchesOnThisThread() tells.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "storage/base/mem_file_system.h"
#include "storage/block/block_querier.h"
#include "storage/block/block_reader.h"
#include "storage/block/block_writer.h"
#include "storage/head/head.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using MT = MatchType;

// The series of the table; row expectations name them by their 1-based position here (also their
// `id` label, which no row matches on).
std::vector<Labels> Corpus() {
  const std::vector<std::vector<std::pair<std::string, std::string>>> raw = {
      {{"__name__", "up"}, {"job", "api"}, {"instance", "a:9100"}, {"env", "prod"}},     // 1
      {{"__name__", "up"}, {"job", "API"}, {"instance", "b:9100"}},                      // 2
      {{"__name__", "up"}, {"job", "Api"}, {"instance", "c:9100"}, {"env", "dev"}},      // 3
      {{"__name__", "up"}, {"job", "api-v2"}, {"instance", "a:9100"}},                   // 4
      {{"__name__", "up"}, {"job", "apiserver"}, {"instance", "d:9100"}, {"env", ""}},   // 5
      {{"__name__", "up"}, {"job", "web"}, {"instance", "x.y"}},                         // 6
      {{"__name__", "up"}, {"job", "web-1"}, {"instance", "xay"}, {"env", "prod|dev"}},  // 7
      {{"__name__", "down"}, {"instance", "line\nbreak"}},                               // 8
      {{"__name__", "down"}, {"job", "café"}, {"region", "日本"}},                       // 9
      {{"__name__", "down"}, {"job", "cafe"}, {"region", "中国"}},                       // 10
      {{"__name__", "node_cpu_seconds_total"}, {"mode", "idle"}, {"cpu", "0"}},          // 11
      {{"__name__", "node_cpu_seconds_total"}, {"mode", "user"}, {"cpu", "1"}},          // 12
      {{"__name__", "node_memory_bytes"}, {"path", "/a/b.c"}},                           // 13
      {{"job", "orphan"}},                                                               // 14 no name
  };
  std::vector<Labels> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    LabelsBuilder b;
    for (const auto& [n, v] : raw[i]) b.Set(n, v);  // an empty value means "no label"
    b.Set("id", std::to_string(i + 1));
    out.push_back(b.Build().value());
  }
  return out;
}

enum Engine : bool { kRegexEngineAllowed = false, kNoRegexEngine = true };

struct Row {
  std::vector<std::tuple<MT, std::string, std::string>> matchers;
  std::set<int> want;  // 1-based series numbers
  Engine engine = kRegexEngineAllowed;
};

const std::set<int> kAll = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};

std::vector<Row> Table() {
  return {
      // Equality and inequality, with the empty-value rule.
      {{{MT::kEqual, "job", "api"}}, {1}, kNoRegexEngine},
      {{{MT::kEqual, "job", "API"}}, {2}, kNoRegexEngine},  // case-sensitive
      {{{MT::kEqual, "job", "nope"}}, {}, kNoRegexEngine},
      {{{MT::kEqual, "job", ""}}, {8, 11, 12, 13}, kNoRegexEngine},  // no job label
      {{{MT::kEqual, "env", ""}}, {2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kNotEqual, "env", ""}}, {1, 3, 7}, kNoRegexEngine},
      {{{MT::kNotEqual, "job", "api"}}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kNotEqual, "env", "prod"}}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kEqual, "env", "prod|dev"}}, {7}, kNoRegexEngine},  // `=` takes the value literally
      {{{MT::kEqual, "missing", ""}}, kAll, kNoRegexEngine},
      {{{MT::kNotEqual, "missing", ""}}, {}, kNoRegexEngine},
      {{{MT::kNotEqual, "missing", "x"}}, kAll, kNoRegexEngine},
      {{{MT::kEqual, "__name__", "up"}, {MT::kEqual, "env", ""}}, {2, 4, 5, 6}, kNoRegexEngine},
      {{{MT::kEqual, "job", "api"}, {MT::kEqual, "job", "web"}}, {}, kNoRegexEngine},
      {{}, kAll, kNoRegexEngine},  // no matcher: every series

      // Regexes that match the empty string: series without the label qualify.
      {{{MT::kRegexMatch, "env", ""}}, {2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexNoMatch, "env", ""}}, {1, 3, 7}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", ".*"}}, kAll, kNoRegexEngine},
      {{{MT::kRegexMatch, "missing", ".*"}}, kAll, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", ".+"}}, {1, 2, 3, 4, 5, 6, 7, 9, 10, 14}, kNoRegexEngine},
      {{{MT::kRegexMatch, "missing", ".+"}}, {}, kNoRegexEngine},
      {{{MT::kRegexNoMatch, "job", ".*"}}, {}, kNoRegexEngine},
      {{{MT::kRegexNoMatch, "job", ".+"}}, {8, 11, 12, 13}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "prod|"}}, {1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "|prod"}}, {1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "prod||dev"}}, {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexNoMatch, "env", "prod|"}}, {3, 7}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "(prod)?"}}, {1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}},
      {{{MT::kRegexMatch, "job", "a?"}}, {8, 11, 12, 13}},
      {{{MT::kRegexMatch, "job", ".*"}, {MT::kEqual, "env", ""}}, {2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14},
       kNoRegexEngine},

      // Anchoring: a regex must match the whole value.
      {{{MT::kRegexMatch, "job", "api"}}, {1}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "ap"}}, {}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "pi"}}, {}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "^api$"}}, {1}},
      {{{MT::kRegexMatch, "job", "a.i"}}, {1}},
      {{{MT::kRegexMatch, "job", "pi.*"}}, {}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", ".*pi"}}, {1, 3}},  // api, Api
      {{{MT::kRegexMatch, "job", ".*pi.*"}}, {1, 3, 4, 5}},
      {{{MT::kRegexMatch, "job", "(api)"}}, {1}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "(?:api)"}}, {1}, kNoRegexEngine},

      // Alternations of literals: look-ups, in any order, duplicates allowed.
      {{{MT::kRegexMatch, "job", "api|web"}}, {1, 6}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "web|api|api|nope"}}, {1, 6}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "(?:api|web)"}}, {1, 6}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "(api|web)"}}, {1, 6}, kNoRegexEngine},
      {{{MT::kRegexNoMatch, "job", "api|web"}}, {2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "prod|dev"}}, {1, 3}, kNoRegexEngine},
      {{{MT::kRegexMatch, "env", "prod\\|dev"}}, {7}, kNoRegexEngine},  // escaped pipe: one literal
      {{{MT::kRegexMatch, "job", "api|web.*"}}, {1, 6, 7}},               // a prefix branch: general
      {{{MT::kRegexMatch, "job", "(api|web)-.*"}}, {4, 7}},

      // Prefixes.
      {{{MT::kRegexMatch, "job", "api.*"}}, {1, 4, 5}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "api-.*"}}, {4}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "api.+"}}, {4, 5}},
      {{{MT::kRegexNoMatch, "job", "api.*"}}, {2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14}, kNoRegexEngine},
      {{{MT::kRegexMatch, "__name__", "node_.*"}}, {11, 12, 13}, kNoRegexEngine},
      {{{MT::kRegexMatch, "__name__", "node_cpu.*"}, {MT::kRegexMatch, "mode", "user|system"}}, {12},
       kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "api.*"}, {MT::kRegexNoMatch, "job", "api-.*"}}, {1, 5}, kNoRegexEngine},
      {{{MT::kRegexMatch, "path", "/a/.*"}}, {13}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "zzz.*"}}, {}, kNoRegexEngine},

      // `.*` and `.+` elsewhere than at the end.
      {{{MT::kRegexMatch, "job", "a.*2"}}, {4}},
      {{{MT::kRegexMatch, "job", "a.*r"}}, {5}},
      {{{MT::kRegexMatch, "job", ".*-.*"}}, {4, 7}},
      {{{MT::kRegexMatch, "instance", ".+:9100"}}, {1, 2, 3, 4, 5}},

      // Case-insensitive.
      {{{MT::kRegexMatch, "job", "(?i)api"}}, {1, 2, 3}},
      {{{MT::kRegexMatch, "job", "(?i:API)"}}, {1, 2, 3}},
      {{{MT::kRegexMatch, "job", "(?i)api.*"}}, {1, 2, 3, 4, 5}},
      {{{MT::kRegexNoMatch, "job", "(?i)api"}}, {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
      {{{MT::kRegexMatch, "job", "(?i)CAFÉ"}}, {9}},

      // Dots: escaped, unescaped, and `.` matching a newline.
      {{{MT::kRegexMatch, "instance", "x\\.y"}}, {6}, kNoRegexEngine},
      {{{MT::kRegexMatch, "instance", "x.y"}}, {6, 7}},
      {{{MT::kRegexMatch, "instance", "x[.]y"}}, {6}},
      {{{MT::kRegexMatch, "instance", "line.break"}}, {8}},
      {{{MT::kRegexMatch, "instance", "line.*"}}, {8}, kNoRegexEngine},
      {{{MT::kRegexMatch, "path", "/a/b\\.c"}}, {13}, kNoRegexEngine},

      // UTF-8: `.` is one code point, literals compare bytes.
      {{{MT::kRegexMatch, "job", "caf."}}, {9, 10}},
      {{{MT::kRegexMatch, "job", "caf.."}}, {}},
      {{{MT::kRegexMatch, "job", "café"}}, {9}, kNoRegexEngine},
      {{{MT::kRegexMatch, "job", "café|cafe"}}, {9, 10}, kNoRegexEngine},
      {{{MT::kRegexMatch, "region", "日本|中国"}}, {9, 10}, kNoRegexEngine},
      {{{MT::kRegexMatch, "region", "日.*"}}, {9}, kNoRegexEngine},
      {{{MT::kRegexMatch, "region", "\\p{Han}+"}}, {9, 10}},
      {{{MT::kRegexMatch, "region", ".."}}, {9, 10}},
      {{{MT::kRegexMatch, "region", "."}}, {}},
      {{{MT::kEqual, "region", "日本"}}, {9}, kNoRegexEngine},

      // Classes and other general regexes.
      {{{MT::kRegexMatch, "cpu", "[0-9]"}}, {11, 12}},
      {{{MT::kRegexMatch, "cpu", "\\d+"}}, {11, 12}},
      {{{MT::kRegexMatch, "job", "web-?\\d*"}}, {6, 7}},
      {{{MT::kRegexNoMatch, "cpu", "[1-9]"}}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14}},

      // Combinations.
      {{{MT::kEqual, "__name__", "up"}, {MT::kNotEqual, "job", "api"}, {MT::kRegexNoMatch, "instance", "a.*"}},
       {2, 3, 5, 6, 7}},
      {{{MT::kRegexMatch, "__name__", "up|down"}, {MT::kRegexMatch, "env", "prod|dev"}}, {1, 3}, kNoRegexEngine},
      {{{MT::kEqual, "__name__", ""}, {MT::kEqual, "job", "orphan"}}, {14}, kNoRegexEngine},
      {{{MT::kEqual, "__name__", "down"}, {MT::kRegexNoMatch, "region", ".+"}}, {8}, kNoRegexEngine},
  };
}

std::string Describe(const std::vector<Matcher>& ms) {
  std::string s = "{";
  for (const Matcher& m : ms) s += (s.size() > 1 ? ", " : "") + m.ToString();
  return s + "}";
}

std::vector<Matcher> MakeMatchers(const Row& row) {
  std::vector<Matcher> ms;
  for (const auto& [type, name, value] : row.matchers) {
    auto m = Matcher::Make(type, name, value);
    REQUIRE(m.ok());
    ms.push_back(std::move(m).value());
  }
  return ms;
}

std::set<int> Ids(const std::vector<std::string>& label_strings) {
  std::set<int> out;
  for (const std::string& s : label_strings) {
    auto ls = ParseLabels(s);
    REQUIRE(ls.ok());
    out.insert(std::stoi(std::string(ls->Get("id"))));
  }
  return out;
}

std::set<int> SelectIds(Querier& q, const std::vector<Matcher>& ms) {
  std::vector<std::string> labels;
  auto set = q.Select(ms);
  std::string prev;
  while (set->Next()) {
    const std::string s = set->labels().ToString();
    CHECK(set->labels().ToString() > prev);  // sorted by labels, no duplicates
    prev = s;
    labels.push_back(s);
  }
  REQUIRE(set->status().ok());
  return Ids(labels);
}

class Fixture {
 public:
  explicit Fixture(std::vector<Labels> series = Corpus()) : series_(std::move(series)), head_(HeadOptions{}) {
    std::vector<Labels> sorted = series_;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(fs_->CreateDirs("/d").ok());
    auto w = BlockWriter::Create(fs_.get(), "/d", testing::FixedOptions());
    REQUIRE(w.ok());
    std::vector<std::string> storage;
    auto chunks = testing::MakeChunks({{1000, 1.0}, {2000, 2.0}}, 120, &storage);
    for (const Labels& ls : sorted) REQUIRE((*w)->AddSeries(ls, chunks).ok());
    REQUIRE((*w)->Finish().ok());
    auto r = BlockReader::Open(fs_.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ");
    REQUIRE(r.ok());
    reader_ = *r;

    auto app = head_.NewAppender(nullptr);
    for (const Labels& ls : series_) {
      REQUIRE(app->Append(ls, 1000, 1.0).ok());
      REQUIRE(app->Append(ls, 2000, 2.0).ok());
    }
    REQUIRE(app->Commit().ok());
  }

  // Labels::ToString() of the selected series (for corpora without an `id` label).
  std::set<std::string> IndexStrings(const std::vector<Matcher>& ms) const {
    auto ids = reader_->index().PostingsForMatchers(ms);
    REQUIRE(ids.ok());
    std::set<std::string> out;
    Labels ls;
    std::vector<ChunkMeta> chunks;
    for (BlockSeriesId id : *ids) {
      REQUIRE(reader_->index().Series(id, &ls, &chunks).ok());
      out.insert(ls.ToString());
    }
    return out;
  }
  std::set<std::string> HeadStrings(const std::vector<Matcher>& ms) {
    auto q = head_.NewQuerier(INT64_MIN, INT64_MAX);
    auto set = q->Select(ms);
    std::set<std::string> out;
    while (set->Next()) out.insert(set->labels().ToString());
    REQUIRE(set->status().ok());
    return out;
  }
  std::set<std::string> BruteForceStrings(const std::vector<Matcher>& ms) const {
    std::set<std::string> out;
    for (const Labels& ls : series_) {
      if (std::all_of(ms.begin(), ms.end(), [&](const Matcher& m) { return m.Matches(ls); })) out.insert(ls.ToString());
    }
    return out;
  }

  std::set<int> Index(const std::vector<Matcher>& ms) const {
    auto ids = reader_->index().PostingsForMatchers(ms);
    REQUIRE(ids.ok());
    REQUIRE(std::is_sorted(ids->begin(), ids->end()));
    REQUIRE(std::adjacent_find(ids->begin(), ids->end()) == ids->end());
    std::vector<std::string> labels;
    Labels ls;
    std::vector<ChunkMeta> chunks;
    for (BlockSeriesId id : *ids) {
      REQUIRE(reader_->index().Series(id, &ls, &chunks).ok());
      labels.push_back(ls.ToString());
    }
    return Ids(labels);
  }

  std::set<int> BlockQuerier(const std::vector<Matcher>& ms) const {
    auto q = NewBlockQuerier(reader_, INT64_MIN, INT64_MAX);
    return SelectIds(*q, ms);
  }

  std::set<int> HeadQuerier(const std::vector<Matcher>& ms) {
    auto q = head_.NewQuerier(INT64_MIN, INT64_MAX);
    return SelectIds(*q, ms);
  }

  std::set<int> BruteForce(const std::vector<Matcher>& ms) const {
    std::set<int> out;
    for (size_t i = 0; i < series_.size(); ++i) {
      if (std::all_of(ms.begin(), ms.end(), [&](const Matcher& m) { return m.Matches(series_[i]); })) {
        out.insert(static_cast<int>(i + 1));
      }
    }
    return out;
  }

 private:
  std::unique_ptr<MemFileSystem> fs_ = NewMemFileSystem();
  std::vector<Labels> series_;
  std::shared_ptr<BlockReader> reader_;
  Head head_;
};

TEST_CASE("matcher semantics agree with Prometheus in the block index and the block and head queriers",
          "[storage][matcher][block][head]") {
  Fixture f;
  for (const Row& row : Table()) {
    const std::vector<Matcher> ms = MakeMatchers(row);
    INFO(Describe(ms));
    CHECK(f.BruteForce(ms) == row.want);

    const uint64_t before = RegexEngineMatchesOnThisThread();
    CHECK(f.Index(ms) == row.want);
    const uint64_t index_regex_runs = RegexEngineMatchesOnThisThread() - before;
    CHECK(f.BlockQuerier(ms) == row.want);
    const uint64_t head_before = RegexEngineMatchesOnThisThread();
    CHECK(f.HeadQuerier(ms) == row.want);
    const uint64_t head_regex_runs = RegexEngineMatchesOnThisThread() - head_before;
    if (row.engine == kNoRegexEngine) {
      CHECK(index_regex_runs == 0);
      CHECK(head_regex_runs == 0);
    }
  }
}

TEST_CASE("random matchers select the same series in the block index and the head as by brute force",
          "[storage][matcher][block][head]") {
  // Values and patterns chosen to meet at the edges: prefixes of each other, case variants,
  // multi-byte UTF-8, regex metacharacters inside values, and patterns of every shape.
  const std::vector<std::string> values = {"a", "ab", "abc", "A", "AB", "b", "ba", "x.y", "xay", "a|b",
                                           "é", "éa", "日本", "日", "a\nb", "-", "a-b", "long-value-1"};
  const std::vector<std::string> patterns = {
      "a", "a|b", "ab.*", ".*", ".+", "", "a|", "|b", "a.*c", "(a|b)c?", "x\\.y", "x.y", "long-.*", "[ab]+",
      "b.*|c", "a\\|b", "nope", "(?i)ab", "(?i)a.*", "é.*", ".", "..", "日.*|é", "(?:a|ab|abc)", "a-.*",
      ".*b", ".*a.*", "a?", "(a)", "\\p{Han}"};
  std::mt19937 rng(11);
  std::vector<Labels> series;
  for (int i = 0; i < 300; ++i) {
    LabelsBuilder b;
    for (const char* name : {"n1", "n2", "n3"}) {
      if (rng() % 3 != 0) b.Set(name, values[rng() % values.size()]);
    }
    b.Set("uid", std::to_string(i));
    series.push_back(b.Build().value());
  }
  Fixture f(series);
  for (int iter = 0; iter < 1000; ++iter) {
    std::vector<Matcher> ms;
    const int k = static_cast<int>(rng() % 4);
    for (int j = 0; j < k; ++j) {
      const auto type = static_cast<MT>(rng() % 4);
      const std::string name = "n" + std::to_string(1 + rng() % 4);  // n4 is never present
      const bool regex = type == MT::kRegexMatch || type == MT::kRegexNoMatch;
      const std::string value =
          regex ? patterns[rng() % patterns.size()] : (rng() % 5 == 0 ? "" : values[rng() % values.size()]);
      auto m = Matcher::Make(type, name, value);
      REQUIRE(m.ok());
      ms.push_back(std::move(m).value());
    }
    INFO(Describe(ms));
    const std::set<std::string> want = f.BruteForceStrings(ms);
    REQUIRE(f.IndexStrings(ms) == want);
    REQUIRE(f.HeadStrings(ms) == want);
  }
}

TEST_CASE("literal sets and prefixes are recognised without the regex engine",
          "[storage][matcher]") {
  // Matcher::Make classifies; these shapes are what the index turns into look-ups and range scans.
  struct ShapeRow {
    const char* re;
    RegexShape shape;
  };
  const ShapeRow rows[] = {
      {"api", RegexShape::kLiteralSet},       {"api|web", RegexShape::kLiteralSet},
      {"(?:api|web)", RegexShape::kLiteralSet}, {"(api|web)", RegexShape::kLiteralSet},
      {"api|", RegexShape::kLiteralSet},      {"x\\.y", RegexShape::kLiteralSet},
      {"日本|中国", RegexShape::kLiteralSet},  {"api.*", RegexShape::kPrefix},
      {"(api.*)", RegexShape::kPrefix},       {"x\\..*", RegexShape::kPrefix},
      {".*", RegexShape::kAny},               {".+", RegexShape::kNonEmpty},
      {"(?i)api", RegexShape::kGeneral},      {"a.*b", RegexShape::kGeneral},
      {"api.+", RegexShape::kGeneral},        {"api|web.*", RegexShape::kGeneral},
      {"x\\.*", RegexShape::kGeneral},        {"ab*", RegexShape::kGeneral},
      {".*?", RegexShape::kGeneral},          {"[a]", RegexShape::kGeneral},
  };
  for (const ShapeRow& r : rows) {
    INFO(r.re);
    auto m = Matcher::Make(MT::kRegexMatch, "job", r.re);
    REQUIRE(m.ok());
    CHECK(m->shape() == r.shape);
  }
}

}  // namespace
}  // namespace vigil::storage
