#pragma once

// The HTTP server's handler threads. A task goes to the thread that became idle last (a stack of
// idle threads, not a queue): when requests come one at a time, as a dashboard's do, the same
// thread runs them, with its caches, its thread-local scratch buffers and its allocator arena
// already warm. A first-in-first-out pool would hand each request to the thread idle longest and
// so, after a restart, pay every thread's first-use costs once per thread (about 0.2-0.3 ms per
// query on the 2-vCPU development machine).
//
// Thread safety: Post() from any thread; Join() once, from a thread that is not a worker.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::server {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();  // joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs task on a worker. Tasks posted after Join() began are still run before it returns.
  void Post(std::function<void()> task);
  // Runs the tasks already posted, then stops the threads.
  void Join();

 private:
  struct Idle {
    std::condition_variable cv;
    bool woken = false;
  };
  void Run(size_t index);

  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  std::vector<Idle*> idle_;  // a stack: the most recently idle thread last
  std::vector<Idle> slots_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil::server
