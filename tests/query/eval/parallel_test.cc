#include "query/eval/parallel.h"

#include <catch2/catch.hpp>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace vigil::query::eval {
namespace {

TEST_CASE("ParallelJob runs every index once, also while the caller does other work", "[query][parallel]") {
  for (size_t parts : {1, 2, 4, 8}) {
    for (size_t n : {0, 1, 2, 3, 31, 256, 1000}) {
      INFO("parts " << parts << ", n " << n);
      std::vector<std::atomic<int>> hits(n);
      std::atomic<size_t> other_threads{0};
      const std::thread::id caller = std::this_thread::get_id();
      {
        ParallelJob job(n, parts, [&](size_t i) {
          hits[i].fetch_add(1);
          if (std::this_thread::get_id() != caller) other_threads.fetch_add(1);
        });
        // The caller's own work overlaps the job's.
        volatile size_t sink = 0;
        for (size_t k = 0; k < 10000; ++k) sink = sink + k;
        job.Join();
        for (size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
        job.Join();  // a second Join() does nothing
      }
      for (size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
      if (parts == 1) CHECK(other_threads.load() == 0);
    }
  }
}

TEST_CASE("ParallelJob joins in its destructor", "[query][parallel]") {
  std::vector<int> out(500, 0);
  { ParallelJob job(out.size(), 4, [&](size_t i) { out[i] = static_cast<int>(i) + 1; }); }
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == static_cast<int>(i) + 1);
}

TEST_CASE("ParallelFor covers [0, n) in contiguous ranges", "[query][parallel]") {
  for (size_t n : {0, 1, 17, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    ParallelFor(n, 4, 16, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    for (size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
  }
}

TEST_CASE("ParallelJob's pool threads run off the CPU of the thread that started the job", "[query][parallel]") {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  REQUIRE(sched_getaffinity(0, sizeof(allowed), &allowed) == 0);
  if (CPU_COUNT(&allowed) < 2) {
    WARN("only one CPU allowed: the pool has nowhere else to run, nothing to check");
    return;
  }
  // The pool's threads inherit the CPUs of the thread that starts them: start them unpinned.
  { ParallelJob warm(8, 2, [](size_t) {}); }
  // Pinned to one CPU so that "the caller's CPU" is one fixed CPU for the whole job.
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    INFO("caller pinned to CPU " << cpu);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
    // Linux tends to wake a thread that has been idle for a while on the waker's CPU: the case
    // that matters (a query after a pause).
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> helper_indices{0}, helper_on_caller_cpu{0};
    ParallelJob job(400, 2, [&](size_t) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }
      if (std::this_thread::get_id() == caller) return;
      helper_indices.fetch_add(1);
      if (sched_getcpu() == cpu) helper_on_caller_cpu.fetch_add(1);
    });
    job.Join();
    CHECK(helper_indices.load() > 0);
    CHECK(helper_on_caller_cpu.load() == 0);
    if (cpu >= 3) break;  // a few CPUs are enough
  }
  REQUIRE(sched_setaffinity(0, sizeof(allowed), &allowed) == 0);
}

}  // namespace
}  // namespace vigil::query::eval
