#include "query/eval/parallel.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

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

  // Keeps the pool's threads off `cpu`, the CPU of a thread about to hand them work and then work
  // itself. Without it, Linux tends to wake a helper that has been idle for a while on the waking
  // thread's CPU (wake-affine placement), where the two then take turns while the other CPUs stay
  // idle until the load balancer moves one, several milliseconds later: on a 2-core machine a query
  // after a pause of 0.2 s or more ran at serial speed. One sched_setaffinity call per helper, only
  // when the CPU to avoid changes; nothing when the process may use a single CPU.
  void AvoidCpu(int cpu) {
    if (allowed_count_ < 2 || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed_)) return;
    if (avoided_.load(std::memory_order_relaxed) == cpu) return;
    std::lock_guard<std::mutex> lock(affinity_mu_);
    if (avoided_.load(std::memory_order_relaxed) == cpu) return;
    cpu_set_t mask = allowed_;
    CPU_CLR(cpu, &mask);
    for (pid_t tid : tids_) sched_setaffinity(tid, sizeof(mask), &mask);  // best effort
    avoided_.store(cpu, std::memory_order_relaxed);
  }

 private:
  explicit Pool(size_t threads) : threads_(threads) {
    CPU_ZERO(&allowed_);
    if (sched_getaffinity(0, sizeof(allowed_), &allowed_) == 0) allowed_count_ = CPU_COUNT(&allowed_);
    for (size_t i = 0; i < threads; ++i) {
      std::thread([this] {
        storage::PrepareThreadHeap();
        {
          std::lock_guard<std::mutex> lock(mu_);
          tids_.push_back(static_cast<pid_t>(syscall(SYS_gettid)));
        }
        started_.notify_all();
        Work();
      }).detach();
    }
    // AvoidCpu() needs every thread's id.
    std::unique_lock<std::mutex> lock(mu_);
    started_.wait(lock, [&] { return tids_.size() == threads_; });
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
  std::condition_variable started_;
  std::deque<std::function<void()>> tasks_;
  std::vector<pid_t> tids_;  // written under mu_ until the constructor returns, then fixed
  cpu_set_t allowed_;
  int allowed_count_ = 0;
  std::mutex affinity_mu_;
  std::atomic<int> avoided_{-1};
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
  if (helpers > 0) Pool::Get().AvoidCpu(sched_getcpu());
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
