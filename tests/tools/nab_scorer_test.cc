#include "tools/nab/scorer.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tools/nab/corpus.h"

namespace vigil::nab {
namespace {

const Profile& Standard() { return Profiles()[0]; }

TEST_CASE("scaled sigmoid matches SCORING.md", "[tools][nab]") {
  CHECK(ScaledSigmoid(-1) == Approx(0.98661).margin(1e-5));
  CHECK(ScaledSigmoid(-0.5) == Approx(0.84828).margin(1e-5));
  CHECK(ScaledSigmoid(0) == Approx(0).margin(1e-12));
  CHECK(ScaledSigmoid(0.5) == Approx(-0.84828).margin(1e-5));
  CHECK(ScaledSigmoid(1) == Approx(-0.98661).margin(1e-5));
  CHECK(ScaledSigmoid(3.0001) == -1);
}

TEST_CASE("probationary period", "[tools][nab]") {
  CHECK(ProbationaryRows(4032) == 604);
  CHECK(ProbationaryRows(1243) == 186);
  CHECK(ProbationaryRows(10000) == 750);
}

// 1000 rows: P = 150; one window at rows 400..499 (w = 100).
ScoredFile OneWindowFile() {
  ScoredFile f;
  f.name = "f.csv";
  f.scores.assign(1000, 0.0);
  f.windows = {{400, 499}};
  return f;
}

TEST_CASE("raw score: window credit by position, FP cost before and after", "[tools][nab]") {
  ScoredFile f = OneWindowFile();
  std::vector<ScoredFile> c{f};
  CHECK(RawScore(c, Standard(), 0.5) == Approx(-1.0));  // missed window

  c[0].scores[400] = 1;  // first row of the window: exactly A_TP
  CHECK(RawScore(c, Standard(), 0.5) == Approx(1.0));
  c[0].scores[450] = 1;  // a later detection in the same window changes nothing
  CHECK(RawScore(c, Standard(), 0.5) == Approx(1.0));

  c = {f};
  c[0].scores[499] = 1;  // last row: y = -1/100
  CHECK(RawScore(c, Standard(), 0.5) == Approx(ScaledSigmoid(-0.01) / ScaledSigmoid(-1)));

  c = {f};
  c[0].scores[300] = 1;  // before the first window: full A_FP
  CHECK(RawScore(c, Standard(), 0.5) == Approx(-1.0 - 0.11));
  c[0].scores[100] = 1;  // inside the probationary period: ignored
  CHECK(RawScore(c, Standard(), 0.5) == Approx(-1.0 - 0.11));

  c = {f};
  c[0].scores[500] = 1;  // one row after the window: y = 1 / (w - 1)
  CHECK(RawScore(c, Standard(), 0.5) == Approx(-1.0 + 0.11 * ScaledSigmoid(1.0 / 99)));
}

TEST_CASE("threshold optimisation is exhaustive and normalises", "[tools][nab]") {
  ScoredFile f = OneWindowFile();
  f.scores[300] = 0.9;  // an FP scoring higher than the TP
  f.scores[420] = 0.8;
  f.scores[700] = 0.7;
  std::vector<ScoredFile> c{f};
  const Optimum o = OptimiseThreshold(c, Standard());
  CHECK(o.threshold == 0.8);
  const double tp = ScaledSigmoid(-80.0 / 100) / ScaledSigmoid(-1);  // y = -(499 - 420 + 1) / 100
  CHECK(o.raw == Approx(tp - 0.11));
  CHECK(o.score == Approx(100 * (tp - 0.11 + 1) / 2));
  CHECK(o.raw == Approx(RawScore(c, Standard(), o.threshold)));

  // The null detector: detecting nothing is best, score 0.
  ScoredFile null_file = OneWindowFile();
  null_file.scores.assign(1000, 0.5);
  std::vector<ScoredFile> n{null_file};
  const Optimum on = OptimiseThreshold(n, Standard());
  CHECK(on.score == Approx(0).margin(1e-9));
  CHECK(std::isinf(on.threshold));
}

TEST_CASE("timestamps and windows files parse", "[tools][nab]") {
  CHECK(*ParseTimestamp("1970-01-01 00:00:00") == 0);
  CHECK(*ParseTimestamp("2014-04-10 07:15:00.000000") == 1397114100);
  CHECK(*ParseTimestamp("1397114100") == 1397114100);
  CHECK_FALSE(ParseTimestamp("2014-13-10 07:15:00").ok());
  CHECK_FALSE(ParseTimestamp("yesterday").ok());
  Result<WindowsFile> w = ParseWindowsJson(
      R"({"a/x.csv": [], "b/y.csv": [["2014-01-01 00:00:00", "2014-01-01 00:10:00"]]})");
  REQUIRE(w.ok());
  REQUIRE(w->size() == 2);
  CHECK((*w)[1].second.at(0).second == "2014-01-01 00:10:00");
  CHECK_FALSE(ParseWindowsJson(R"({"a": [[)").ok());
  Result<SeriesCsv> s =
      ParseSeriesCsv("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,x\n", "t.csv");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("t.csv:3") != std::string::npos);
}

// The reference detectors published by NAB, scored with this scorer, give the figures in
// ../shared/datasets/nab-dev/README.md.
TEST_CASE("reference detector scores on nab-dev match NAB's", "[.][conformance][tools][nab]") {
  const std::string dir = std::string(VIGIL_DATASETS_DIR) + "/nab-dev";
  Result<std::vector<CorpusFile>> corpus = LoadCorpus(DefaultFileSystem(), dir);
  REQUIRE(corpus.ok());
  struct Expected {
    const char* detector;
    double standard, low_fp, low_fn;
  };
  const Expected expected[] = {
      {"numenta", 72.30, 69.12, 75.98},         {"ARTime", 69.81, 59.97, 75.24},
      {"randomCutForest", 53.71, 44.87, 60.09}, {"twitterADVec", 41.18, 23.48, 49.68},
      {"windowedGaussian", 26.52, 2.24, 37.12},
  };
  for (const Expected& e : expected) {
    Result<std::string> text = ReadMaybeGzip(
        DefaultFileSystem(), dir + "/reference_scores/" + e.detector + "_anomaly_scores.csv.gz");
    REQUIRE(text.ok());
    auto scores = ParseReferenceScores(*text);
    REQUIRE(scores.ok());
    std::vector<ScoredFile> files;
    for (const CorpusFile& f : *corpus) {
      REQUIRE((*scores)[f.key].size() == f.series.values.size());
      files.push_back({f.key, (*scores)[f.key], f.windows});
    }
    CHECK(CountWindows(files) == 36);
    INFO(e.detector);
    CHECK(OptimiseThreshold(files, Profiles()[0]).score == Approx(e.standard).margin(0.005));
    CHECK(OptimiseThreshold(files, Profiles()[1]).score == Approx(e.low_fp).margin(0.005));
    CHECK(OptimiseThreshold(files, Profiles()[2]).score == Approx(e.low_fn).margin(0.005));
  }
}

}  // namespace
}  // namespace vigil::nab
