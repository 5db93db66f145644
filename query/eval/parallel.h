#pragma once

// Data parallelism inside one query: a pool of worker threads shared by every query of the
// process, and ParallelFor over index ranges. Used where a query works on many series
// independently (decoding them, sliding range-function windows over them); results are written
// per index, so the output is the same as a serial run's, in the same order.

#include <cstddef>
#include <functional>
#include <memory>

namespace vigil::query::eval {

// Worker threads the pool would use for `requested` (0: one per core, at most 8): the number of
// ranges ParallelFor splits into, 1 meaning serial.
size_t ParallelismFor(int requested);

// Starts the pool's threads now instead of at the first parallel query (idempotent). A query
// engine calls it when it is built, so that the first query after a start does not pay for the
// thread's creation and its first allocations.
void StartParallelPool();

// Calls fn(begin, end) on contiguous ranges covering [0, n), at most `parts` of them, each at
// least `min_per_part` long, taken by the calling thread and pool threads (a ParallelJob).
// Returns when every range is done. fn must not call ParallelFor. With parts <= 1 or n small
// it is simply fn(0, n) on the calling thread.
void ParallelFor(size_t n, size_t parts, size_t min_per_part, const std::function<void(size_t, size_t)>& fn);

// fn(i) for every i in [0, n), started at construction: up to `parts - 1` pool threads take
// indices one at a time while the calling thread goes on with other work; Join() makes it take
// the indices left, then waits for those the pool threads took. fn (and what it refers to) must
// live until Join() returns; the destructor joins. fn must not use ParallelFor or ParallelJob.
class ParallelJob {
 public:
  ParallelJob(size_t n, size_t parts, std::function<void(size_t)> fn);
  ~ParallelJob() { Join(); }
  ParallelJob(const ParallelJob&) = delete;
  ParallelJob& operator=(const ParallelJob&) = delete;

  void Join();

  struct State;

 private:
  std::shared_ptr<State> st_;
};

}  // namespace vigil::query::eval
