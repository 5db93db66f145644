#include "storage/base/clock.h"

#include <time.h>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

namespace vigil {
namespace {

TEST_CASE("system clock reads wall time in milliseconds", "[storage][base][clock]") {
  int64_t before = static_cast<int64_t>(::time(nullptr)) * 1000;
  int64_t now = SystemClock()->NowMillis();
  int64_t after = static_cast<int64_t>(::time(nullptr)) * 1000 + 1000;
  CHECK(now >= before);
  CHECK(now <= after);
  CHECK(SystemClock() == SystemClock());
}

TEST_CASE("system monotonic clock never goes back and measures sleeps", "[storage][base][clock]") {
  Clock* clock = SystemClock();
  int64_t prev = clock->NowNanos();
  for (int i = 0; i < 10000; ++i) {
    int64_t cur = clock->NowNanos();
    REQUIRE(cur >= prev);
    prev = cur;
  }
  int64_t start = clock->NowNanos();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(clock->NowNanos() - start >= 5'000'000);
}

TEST_CASE("manual clock moves only when told", "[storage][base][clock]") {
  ManualClock clock(1'700'000'000'000, 42);
  CHECK(clock.NowMillis() == 1'700'000'000'000);
  CHECK(clock.NowNanos() == 42);
  clock.AdvanceMillis(1500);
  CHECK(clock.NowMillis() == 1'700'000'001'500);
  CHECK(clock.NowNanos() == 42 + 1'500'000'000);

  // An NTP-like step back moves wall time only.
  clock.SetMillis(1'000);
  CHECK(clock.NowMillis() == 1'000);
  CHECK(clock.NowNanos() == 42 + 1'500'000'000);
}

TEST_CASE("manual clock: nanosecond steps add up to whole milliseconds",
          "[storage][base][clock]") {
  ManualClock clock(0, 0);
  for (int i = 0; i < 10; ++i) clock.AdvanceNanos(300'000);  // 3 ms in 0.3 ms steps
  CHECK(clock.NowNanos() == 3'000'000);
  CHECK(clock.NowMillis() == 3);
  clock.AdvanceNanos(999'999);
  CHECK(clock.NowMillis() == 3);
  clock.AdvanceNanos(1);
  CHECK(clock.NowMillis() == 4);
}

TEST_CASE("manual clock is safe to advance from several threads", "[storage][base][clock]") {
  ManualClock clock(0, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        clock.AdvanceMillis(1);
        clock.AdvanceNanos(250'000);
        (void)clock.NowMillis();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(clock.NowNanos() == int64_t{4} * 10000 * (1'000'000 + 250'000));
  CHECK(clock.NowMillis() == 4 * 10000 + 4 * 10000 / 4);
}

}  // namespace
}  // namespace vigil
