#include "storage/base/clock.h"

#include <time.h>

#include <cassert>

namespace vigil {
namespace {

class RealClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
  int64_t NowNanos() const override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
};

}  // namespace

Clock* SystemClock() {
  static RealClock* clock = new RealClock();  // never destroyed: loggers may run at exit
  return clock;
}

void ManualClock::AdvanceMillis(int64_t delta_millis) {
  assert(delta_millis >= 0);
  millis_.fetch_add(delta_millis, std::memory_order_acq_rel);
  nanos_.fetch_add(delta_millis * 1000000, std::memory_order_acq_rel);
}

void ManualClock::AdvanceNanos(int64_t delta_nanos) {
  assert(delta_nanos >= 0);
  // Wall time moves by the number of millisecond boundaries crossed, so that many small steps add
  // up to the same wall time as one big step.
  int64_t before = nanos_.fetch_add(delta_nanos, std::memory_order_acq_rel);
  int64_t after = before + delta_nanos;
  auto floor_ms = [](int64_t ns) { return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000); };
  millis_.fetch_add(floor_ms(after) - floor_ms(before), std::memory_order_acq_rel);
}

}  // namespace vigil
