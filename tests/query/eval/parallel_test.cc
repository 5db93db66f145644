#include "query/eval/parallel.h"

#include <catch2/catch.hpp>

#include <atomic>
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

}  // namespace
}  // namespace vigil::query::eval
