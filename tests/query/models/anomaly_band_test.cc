#include "query/models/anomaly_band.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/query/models/model_test_util.h"

namespace vigil::query::models {
namespace {

using testutil::Noise;

constexpr int64_t kStep = 300'000;  // 5 minutes
constexpr int64_t kT0 = 1'700'000'000'000 - 1'700'000'000'000 % 86'400'000;

// 10 + daily sine of amplitude 5 + N(0, 0.5), `days` days of 5-minute points.
std::vector<double> DailySeries(int days, uint64_t seed) {
  Noise noise(seed);
  std::vector<double> v;
  for (int i = 0; i < days * 288; ++i) {
    v.push_back(10 + 5 * std::sin(2 * M_PI * i / 288.0) + 0.5 * noise.Normal());
  }
  return v;
}

TEST_CASE("anomaly band learns a daily profile and scores a spike", "[query][models][band]") {
  AnomalyBand band;
  std::vector<double> v = DailySeries(5, 1);
  const size_t spike = v.size() - 100;
  v[spike] += 8;  // 16 noise standard deviations
  double max_other = 0;
  double spike_score = 0;
  double abs_error = 0;
  int compared = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const BandPoint p = band.Update(kT0 + static_cast<int64_t>(i) * kStep, v[i]);
    if (i == spike) {
      spike_score = p.score;
    } else if (i > 3 * 288) {
      max_other = std::max(max_other, p.score);
      // The band follows the daily swing (±5) instead of a flat level.
      abs_error +=
          std::abs(p.expected - (10 + 5 * std::sin(2 * M_PI * static_cast<double>(i) / 288.0)));
      ++compared;
    }
  }
  CHECK(abs_error / compared < 0.5);
  CHECK(spike_score > 0.999);
  CHECK(spike_score > max_other);
}

TEST_CASE("an anomaly does not drag the band after it", "[query][models][band]") {
  AnomalyBand band;
  Noise noise(2);
  int64_t t = kT0;
  for (int i = 0; i < 1000; ++i, t += kStep) (void)band.Update(t, 50 + noise.Normal());
  const double before = band.Predict(t).expected;
  // An incident: 8 points 40 standard deviations up (shorter than a level shift run).
  for (int i = 0; i < 8; ++i, t += kStep) (void)band.Update(t, 90);
  const BandPoint after = band.Predict(t);
  CHECK(std::abs(after.expected - before) < 4);  // under a tenth of the incident's size
  CHECK(after.upper - after.lower < 12);         // the spread grows by a bounded step only
}

TEST_CASE("a sustained level shift re-levels the band", "[query][models][band]") {
  AnomalyBand band;
  Noise noise(3);
  int64_t t = kT0;
  for (int i = 0; i < 1000; ++i, t += kStep) (void)band.Update(t, 50 + noise.Normal());
  for (int i = 0; i < 100; ++i, t += kStep) (void)band.Update(t, 80 + noise.Normal());
  CHECK(std::abs(band.Predict(t).expected - 80) < 2);
}

TEST_CASE("anomaly band scores are in [0, 1] and skip non-finite values", "[query][models][band]") {
  AnomalyBand band;
  Noise noise(4);
  int64_t t = kT0;
  uint64_t finite = 0;
  for (int i = 0; i < 2000; ++i, t += kStep) {
    double v = 5 + noise.Normal();
    if (i % 301 == 0) v = 1e12;
    if (i % 97 == 0) v = NAN;
    finite += std::isfinite(v) ? 1 : 0;
    const BandPoint p = band.Update(t, v);
    REQUIRE(p.score >= 0);
    REQUIRE(p.score <= 1);
    if (std::isnan(v)) CHECK(p.score == 0);
  }
  CHECK(band.points() == finite);
}

TEST_CASE("a flat series never scores, a change on it scores high", "[query][models][band]") {
  AnomalyBand band;
  int64_t t = kT0;
  for (int i = 0; i < 1500; ++i, t += kStep)
    REQUIRE(band.Update(t, 7).score < 1e-4);  // float histogram rounding only
  CHECK(band.Update(t, 8).score > 0.99);
}

TEST_CASE("a burst well beyond every earlier one scores, a burst like earlier ones does not",
          "[query][models][band]") {
  // A mostly idle series (disk writes): zero with tiny noise, and bursts of 100 every 97 points.
  // The spread of the idle baseline makes every burst's z enormous, so only the record score (in
  // the series' own units) tells a burst of 250 from the usual ones.
  AnomalyBand band;
  Noise noise(7);
  int64_t t = kT0;
  double usual_max = 0;
  for (int i = 0; i < 3000; ++i, t += kStep) {
    const double v = (i % 97 == 0 ? 100 + noise.Normal() : 0) + 1e-3 * std::abs(noise.Normal());
    const BandPoint p = band.Update(t, v);
    if (i > 1500 && i % 97 == 0) usual_max = std::max(usual_max, p.score);
  }
  const double record = band.Update(t, 250).score;
  CHECK(usual_max < 0.999);
  CHECK(record > 0.9999);
}

TEST_CASE("a shift of two noise deviations scores within a few points, mostly inside the band",
          "[query][models][band]") {
  // Daily sine with N(0, 0.5) noise for 8 days, then 1.0 higher for 60 points: the band (±3σ)
  // sees one point in twenty outside it, the drift and frequency scores see the run. Four noise
  // seeds; a quiet day before, and an alert within ten points for at least three of them.
  int detected = 0;
  for (uint64_t seed = 8; seed < 12; ++seed) {
    AnomalyBand band;
    Noise noise(seed);
    double quiet_day = 0;
    int outside = 0;
    int first = -1;
    for (int i = 0; i < 8 * 288 + 60; ++i) {
      const double shift = i >= 8 * 288 ? 1.0 : 0.0;
      const double v = 10 + 5 * std::sin(2 * M_PI * i / 288.0) + shift + 0.5 * noise.Normal();
      const BandPoint p = band.Update(kT0 + static_cast<int64_t>(i) * kStep, v);
      if (i >= 7 * 288 && i < 8 * 288) quiet_day = std::max(quiet_day, p.score);
      if (i < 8 * 288) continue;
      outside += v > p.upper ? 1 : 0;
      if (first < 0 && p.score >= 0.999) first = i - 8 * 288;
    }
    INFO("seed " << seed << " first alert " << first << " outside " << outside);
    CHECK(quiet_day < 0.999);
    CHECK(outside <= 5);
    if (first >= 0 && first < 10) ++detected;
  }
  CHECK(detected >= 3);
}

// Version 1 let the ten-point mean of −ln p become +inf (a tail that underflowed to 0) and then NaN
// for good after such a value; the state now stays finite, and a loaded state must be.
TEST_CASE("a value astronomically beyond a flat series keeps the state valid",
          "[query][models][band]") {
  AnomalyBand band;
  int64_t t = kT0;
  for (int i = 0; i < 400; ++i, t += kStep) (void)band.Update(t, 0);
  CHECK(band.Update(t, 1e300).score == 1);
  t += kStep;
  for (int i = 0; i < 5; ++i, t += kStep) {
    const BandPoint p = band.Update(t, 0);
    REQUIRE(p.score >= 0);
    REQUIRE(p.score <= 1);
  }
  Result<AnomalyBand> again = AnomalyBand::Deserialize(band.Serialize());
  REQUIRE(again.ok());
  CHECK(again->Serialize() == band.Serialize());
}

TEST_CASE("anomaly band state round-trips and continues identically",
          "[query][models][band][format]") {
  std::vector<double> v = DailySeries(3, 5);
  AnomalyBand a;
  for (size_t i = 0; i < 500; ++i) (void)a.Update(kT0 + static_cast<int64_t>(i) * kStep, v[i]);
  const std::string frame = a.Serialize();
  Result<AnomalyBand> b = AnomalyBand::Deserialize(frame);
  REQUIRE(b.ok());
  CHECK(b->Serialize() == frame);
  for (size_t i = 500; i < v.size(); ++i) {
    const int64_t t = kT0 + static_cast<int64_t>(i) * kStep;
    const BandPoint pa = a.Update(t, v[i]);
    const BandPoint pb = b->Update(t, v[i]);
    REQUIRE(pa.expected == pb.expected);
    REQUIRE(pa.upper == pb.upper);
    REQUIRE(pa.score == pb.score);
  }
}

TEST_CASE("corrupt anomaly band state is rejected with a reason", "[query][models][band][format]") {
  AnomalyBand a;
  for (int i = 0; i < 400; ++i) (void)a.Update(kT0 + i * kStep, i % 7);
  const std::string frame = a.Serialize();
  for (size_t at : {size_t{0}, size_t{5}, frame.size() / 2, frame.size() - 1}) {
    std::string bad = frame;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    Result<AnomalyBand> r = AnomalyBand::Deserialize(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.status().message().empty());
  }
  for (size_t len : {size_t{0}, size_t{10}, frame.size() - 5}) {
    CHECK_FALSE(AnomalyBand::Deserialize(frame.substr(0, len)).ok());
  }
}

std::string GoldenPath(int version) {
  return std::string(VIGIL_GOLDEN_DIR) + "/models/anomaly_band_v" + std::to_string(version) +
         ".bin";
}

// The state after a fixed input: 2 days of a daily pattern with noise from a portable generator.
AnomalyBand GoldenBand() {
  AnomalyBand band;
  std::vector<double> v = DailySeries(2, 42);
  for (size_t i = 0; i < v.size(); ++i)
    (void)band.Update(kT0 + static_cast<int64_t>(i) * kStep, v[i]);
  return band;
}

TEST_CASE("anomaly band v2 golden state is byte-exact and loads", "[query][models][band][golden]") {
  const std::string golden = testutil::ReadFile(GoldenPath(2));
  REQUIRE(golden.size() > 100);
  CHECK(golden[4] == 2);  // payload version, little-endian u16
  CHECK(GoldenBand().Serialize() == golden);
  Result<AnomalyBand> b = AnomalyBand::Deserialize(golden);
  REQUIRE(b.ok());
  CHECK(b->points() == 2 * 288);
}

// anomaly_band_v1.bin was written by the first version (no record or drift fields) from the same
// input. It still loads: the band and its histories are kept, the drift history starts empty and
// the records start from the largest deviation of the point histogram.
TEST_CASE("anomaly band v1 golden state loads and continues", "[query][models][band][golden]") {
  const std::string golden = testutil::ReadFile(GoldenPath(1));
  REQUIRE(golden.size() > 100);
  CHECK(golden[4] == 1);
  Result<AnomalyBand> old = AnomalyBand::Deserialize(golden);
  REQUIRE(old.ok());
  CHECK(old->points() == 2 * 288);
  AnomalyBand fresh = GoldenBand();
  // Same predictors: the band it draws next is the one the current version draws.
  const int64_t t = kT0 + 2 * 288 * kStep;
  CHECK(old->Predict(t).expected == fresh.Predict(t).expected);
  CHECK(old->Predict(t).upper == fresh.Predict(t).upper);
  // Saved again, it is a version-2 state.
  const std::string again = old->Serialize();
  CHECK(again[4] == 2);
  REQUIRE(AnomalyBand::Deserialize(again).ok());
  // A normal next day scores like it does on the current version's own state: no burst of
  // "records" or drift alerts after the upgrade.
  std::vector<double> v = DailySeries(3, 42);
  for (size_t i = 2 * 288; i < v.size(); ++i) {
    const BandPoint p = old->Update(kT0 + static_cast<int64_t>(i) * kStep, v[i]);
    CHECK(p.score < 0.999);
  }
}

// Rewrites tests/golden/models/anomaly_band_v2.bin. Run by hand only when the format changes:
//   query_test "[regen-models]"
TEST_CASE("anomaly band regenerate golden state", "[.][regen-models]") {
  testutil::WriteFile(GoldenPath(2), GoldenBand().Serialize());
}

}  // namespace
}  // namespace vigil::query::models
