#include "query/models/holt_winters.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tests/query/models/model_test_util.h"

namespace vigil::query::models {
namespace {

using testutil::Noise;

constexpr int64_t kStep = 60'000;

TEST_CASE("season detection finds a period and nothing in noise", "[query][models][holt_winters]") {
  Noise noise(7);
  std::vector<double> seasonal, white;
  for (int i = 0; i < 600; ++i) {
    seasonal.push_back(3 * std::sin(2 * M_PI * i / 48.0) + 0.5 * noise.Normal());
    white.push_back(noise.Normal());
  }
  CHECK(DetectSeasonPoints(seasonal) == 48);
  CHECK(DetectSeasonPoints(white) == 0);
  CHECK(DetectSeasonPoints(std::vector<double>(600, 1.0)) == 0);
}

TEST_CASE("Holt-Winters with an automatic season forecasts a seasonal series",
          "[query][models][holt_winters]") {
  ForecastOptions o;
  o.step_ms = kStep;
  o.horizon = 12;
  o.detect_points = 200;
  HoltWinters hw(o);
  Noise noise(8);
  auto truth = [](int i) { return 100 + 10 * std::sin(2 * M_PI * i / 48.0); };
  int i = 0;
  for (; i < 1000; ++i) hw.Update(i * kStep, truth(i) + 0.3 * noise.Normal());
  CHECK(hw.season_points() == 48);
  for (uint32_t h : {1u, 6u, 12u, 30u}) {
    const ForecastPoint f = hw.Forecast(h);
    CHECK(std::abs(f.value - truth(i - 1 + static_cast<int>(h))) < 1.0);
    CHECK(f.lower < f.value);
    CHECK(f.upper > f.value);
  }
}

TEST_CASE("Holt's linear method follows a trend", "[query][models][holt_winters]") {
  ForecastOptions o;
  o.season_ms = 0;
  o.phi = 1.0;
  o.beta = 0.1;
  HoltWinters hw(o);
  for (int i = 0; i < 500; ++i) hw.Update(i * kStep, 2.0 * i);
  CHECK(hw.season_points() == 0);
  CHECK(std::abs(hw.Forecast(10).value - 2.0 * 509) < 0.5);
}

TEST_CASE("Holt-Winters intervals cover about their nominal share",
          "[query][models][holt_winters]") {
  ForecastOptions o;
  o.season_ms = 0;
  o.horizon = 5;
  HoltWinters hw(o);
  Noise noise(9);
  std::vector<ForecastPoint> made;
  int covered = 0, total = 0;
  for (int i = 0; i < 5000; ++i) {
    const double v = 20 + noise.Normal();
    if (i >= 505) {
      const ForecastPoint& f = made[static_cast<size_t>(i - 5)];
      covered += v >= f.lower && v <= f.upper;
      ++total;
    }
    hw.Update(i * kStep, v);
    made.push_back(hw.Forecast(5));
  }
  const double share = static_cast<double>(covered) / total;
  CHECK(share > 0.92);
  CHECK(share < 0.98);
}

TEST_CASE("Holt-Winters state round-trips, also mid-detection",
          "[query][models][holt_winters][format]") {
  for (int cut : {1, 100, 700}) {
    ForecastOptions o;
    o.detect_points = 300;
    HoltWinters a(o);
    Noise noise(10);
    std::vector<double> v;
    for (int i = 0; i < 1200; ++i) v.push_back(5 * std::sin(2 * M_PI * i / 60.0) + noise.Normal());
    for (int i = 0; i < cut; ++i) a.Update(i * kStep, v[static_cast<size_t>(i)]);
    const std::string frame = a.Serialize();
    Result<HoltWinters> b = HoltWinters::Deserialize(frame);
    REQUIRE(b.ok());
    CHECK(b->Serialize() == frame);
    for (int i = cut; i < 1200; ++i) {
      a.Update(i * kStep, v[static_cast<size_t>(i)]);
      b->Update(i * kStep, v[static_cast<size_t>(i)]);
      REQUIRE(a.Forecast(7).value == b->Forecast(7).value);
      REQUIRE(a.Forecast(7).upper == b->Forecast(7).upper);
    }
    CHECK(a.season_points() == 60);
  }
}

TEST_CASE("corrupt Holt-Winters state is rejected", "[query][models][holt_winters][format]") {
  HoltWinters a;
  for (int i = 0; i < 50; ++i) a.Update(i * kStep, i);
  const std::string frame = a.Serialize();
  std::string bad = frame;
  bad[bad.size() / 2] ^= 1;
  CHECK(HoltWinters::Deserialize(bad).status().IsCorruption());
  CHECK_FALSE(HoltWinters::Deserialize(frame.substr(0, frame.size() - 1)).ok());
  std::string other_version = frame;
  other_version[4] = 9;
  CHECK(HoltWinters::Deserialize(other_version).status().code() == StatusCode::kNotSupported);
}

std::string GoldenPath() { return std::string(VIGIL_GOLDEN_DIR) + "/models/holt_winters_v1.bin"; }

HoltWinters GoldenModel() {
  ForecastOptions o;
  o.step_ms = kStep;
  o.season_ms = 24 * kStep;
  o.horizon = 4;
  HoltWinters hw(o);
  for (int i = 0; i < 100; ++i) hw.Update(i * kStep, (i % 24) * 0.5 + i * 0.01);
  return hw;
}

TEST_CASE("Holt-Winters v1 golden state is byte-exact and loads",
          "[query][models][holt_winters][golden]") {
  const std::string golden = testutil::ReadFile(GoldenPath());
  CHECK(GoldenModel().Serialize() == golden);
  Result<HoltWinters> b = HoltWinters::Deserialize(golden);
  REQUIRE(b.ok());
  CHECK(b->season_points() == 24);
  CHECK(b->Forecast(3).value == GoldenModel().Forecast(3).value);
}

TEST_CASE("Holt-Winters regenerate golden state", "[.][regen-models]") {
  testutil::WriteFile(GoldenPath(), GoldenModel().Serialize());
}

}  // namespace
}  // namespace vigil::query::models
