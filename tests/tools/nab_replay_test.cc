#include "tools/nab/replay.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tools/nab/scorer.h"

namespace vigil::nab {
namespace {

SeriesCsv Series(int n, double bump_from = 1e18) {
  SeriesCsv s;
  for (int i = 0; i < n; ++i) {
    s.timestamps.push_back(1'400'000'000 + 300 * i);
    s.timestamp_text.push_back(std::to_string(s.timestamps.back()));
    s.values.push_back(10 + std::sin(i / 5.0) + (i >= bump_from ? 50 : 0));
  }
  return s;
}

// Each output row may use only that row and earlier ones: changing the future changes nothing
// before it.
TEST_CASE("replays are causal", "[tools][nab]") {
  const SeriesCsv a = Series(800);
  const SeriesCsv b = Series(800, 600);
  const std::vector<double> sa = ReplayAnomalyScores(a, {});
  const std::vector<double> sb = ReplayAnomalyScores(b, {});
  for (size_t i = 0; i < 600; ++i) REQUIRE(sa[i] == sb[i]);
  CHECK(sb[600] > 0.99);

  query::models::ForecastOptions o;
  o.horizon = 12;
  const auto fa = ReplayForecast(a, o);
  const auto fb = ReplayForecast(b, o);
  for (size_t i = 0; i < 600 + 12; ++i) {
    if (std::isnan(fa[i].value)) {
      REQUIRE(std::isnan(fb[i].value));
      continue;
    }
    REQUIRE(fa[i].value == fb[i].value);
  }
  CHECK(std::isnan(fa[11].value));
  CHECK_FALSE(std::isnan(fa[12].value));
  CHECK(fa[612].value != fb[612].value);  // made after the bump was seen
}

TEST_CASE("forecast accuracy figures", "[tools][nab]") {
  const SeriesCsv s = Series(1000);
  query::models::ForecastOptions o;
  o.horizon = 12;
  const ForecastAccuracy acc = EvaluateForecast(s, ReplayForecast(s, o), 12, 288);
  CHECK(acc.rows == 1000 - 288);
  CHECK(acc.mase_model > 0);
  CHECK(acc.mase_naive > 0);
  CHECK(acc.covered <= acc.rows);
}

// The target: on ../shared/datasets/nab-dev the streaming detector (default options, the
// same model continuous queries use) scores at least what Numenta HTM scores there (72.30 / 69.12
// / 75.98, the dataset's README), with the threshold optimised as NAB does, and also at the
// threshold fixed in advance (0.999, the model's alert level). Measured: query/docs/models.md.
TEST_CASE("streaming detector on nab-dev scores at least Numenta HTM",
          "[.][conformance][tools][nab]") {
  Result<std::vector<CorpusFile>> corpus =
      LoadCorpus(DefaultFileSystem(), std::string(VIGIL_DATASETS_DIR) + "/nab-dev");
  REQUIRE(corpus.ok());
  std::vector<ScoredFile> files;
  for (const CorpusFile& f : *corpus) {
    files.push_back({f.key, ReplayAnomalyScores(f.series, {}), f.windows});
  }
  REQUIRE(CountWindows(files) == 36);
  const double htm[] = {72.30, 69.12, 75.98};
  for (size_t i = 0; i < 3; ++i) {
    const Profile& p = Profiles()[i];
    INFO(p.name);
    CHECK(OptimiseThreshold(files, p).score >= htm[i]);
    CHECK(NormalisedScore(RawScore(files, p, 0.999), 36, p) >= htm[i]);
  }
}

}  // namespace
}  // namespace vigil::nab
