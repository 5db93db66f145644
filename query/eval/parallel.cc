#include "query/eval/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/base/thread_heap.h"

namespace vigil::query::eval {
namespace {

constexpr size_t kMaxThreads = 8;

size_t Cores() {
  const size_t hw = std::thread::hardware_concurrency();
  return std::clamp<size_t>(hw, 1, kMaxThreads);
}

// Threads started on first use and kept for the life of the process (detached: they only ever
// wait for work, so nothing needs them joined at exit).
class Pool {
 public:
  static Pool& Get() {
    static Pool* pool = new Pool(Cores() - 1);
    return *pool;
  }

  void Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  size_t threads() const { return threads_; }

 private:
  explicit Pool(size_t threads) : threads_(threads) {
    for (size_t i = 0; i < threads; ++i) {
      std::thread([this] {
        storage::PrepareThreadHeap();
        Work();
      }).detach();
    }
  }

  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  const size_t threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

}  // namespace

void StartParallelPool() { Pool::Get(); }

size_t ParallelismFor(int requested) {
  if (requested == 1) return 1;
  const size_t cores = Cores();
  return requested <= 0 ? cores : std::min<size_t>(static_cast<size_t>(requested), cores);
}

void ParallelFor(size_t n, size_t parts, size_t min_per_part, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  parts = std::min(parts, n / std::max<size_t>(min_per_part, 1));
  if (parts > 1) parts = std::min(parts, Pool::Get().threads() + 1);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  // Contiguous ranges, the first `extra` one longer; the calling thread and the pool take them.
  const size_t per = n / parts, extra = n % parts;
  ParallelJob job(parts, parts, [&](size_t p) {
    const size_t begin = p * per + std::min(p, extra);
    fn(begin, begin + per + (p < extra ? 1 : 0));
  });
  job.Join();
}

struct ParallelJob::State {
  size_t n = 0;
  std::function<void(size_t)> fn;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t running = 0;   // pool tasks inside their loop
  bool closed = false;  // joined: tasks that start now leave at once, without touching fn
  bool joined = false;

  void Drain() {
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(i);
    }
  }
};

ParallelJob::ParallelJob(size_t n, size_t parts, std::function<void(size_t)> fn)
    : st_(std::make_shared<State>()) {
  st_->n = n;
  st_->fn = std::move(fn);
  if (n < 2 || parts <= 1) return;
  const size_t helpers = std::min({parts - 1, Pool::Get().threads(), n - 1});
  for (size_t k = 0; k < helpers; ++k) {
    Pool::Get().Submit([st = st_] {
      {
        std::lock_guard<std::mutex> lock(st->mu);
        if (st->closed) return;
        ++st->running;
      }
      st->Drain();
      std::lock_guard<std::mutex> lock(st->mu);
      if (--st->running == 0) st->cv.notify_all();
    });
  }
}

void ParallelJob::Join() {
  if (st_->joined) return;
  st_->joined = true;
  st_->Drain();
  std::unique_lock<std::mutex> lock(st_->mu);
  st_->closed = true;
  st_->cv.wait(lock, [&] { return st_->running == 0; });
}

}  // namespace vigil::query::eval
