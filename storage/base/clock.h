#pragma once

// Time comes from an injected Clock (STYLE.md §10), so retention, head cutting and WAL sync
// intervals can be tested without sleeping.

#include <atomic>
#include <cstdint>

namespace vigil {

// Thread safety: implementations are safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: milliseconds since the Unix epoch (the unit of sample timestamps). May jump.
  virtual int64_t NowMillis() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin; never decreases. For durations only.
  virtual int64_t NowNanos() const = 0;
};

// The real clock (CLOCK_REALTIME / CLOCK_MONOTONIC). Process-wide, never destroyed.
Clock* SystemClock();

// A clock that moves only when told to. Wall time and monotonic time are separate: Set() moves
// wall time anywhere (including backwards, like an NTP step), Advance*() moves both forward.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis = 0, int64_t start_nanos = 0)
      : millis_(start_millis), nanos_(start_nanos) {}

  int64_t NowMillis() const override { return millis_.load(std::memory_order_acquire); }
  int64_t NowNanos() const override { return nanos_.load(std::memory_order_acquire); }

  // Sets wall time; monotonic time is untouched.
  void SetMillis(int64_t millis) { millis_.store(millis, std::memory_order_release); }

  // REQUIRES: delta >= 0. Advances wall time by `delta_millis` and monotonic time by the same span.
  void AdvanceMillis(int64_t delta_millis);
  // REQUIRES: delta >= 0. Advances monotonic time by `delta_nanos` and wall time by the whole
  // milliseconds that the monotonic clock crossed.
  void AdvanceNanos(int64_t delta_nanos);

 private:
  std::atomic<int64_t> millis_;
  std::atomic<int64_t> nanos_;
};

}  // namespace vigil
