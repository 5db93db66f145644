#include "server/http/worker_pool.h"

#include <algorithm>
#include <utility>

#include "storage/base/thread_heap.h"

namespace vigil::server {

WorkerPool::WorkerPool(int threads) : slots_(static_cast<size_t>(std::max(1, threads))) {
  threads_.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    threads_.emplace_back([this, i] {
      storage::PrepareThreadHeap();
      Run(i);
    });
  }
}

WorkerPool::~WorkerPool() { Join(); }

void WorkerPool::Post(std::function<void()> task) {
  std::unique_lock<std::mutex> lock(mu_);
  tasks_.push_back(std::move(task));
  if (!idle_.empty()) {
    Idle* w = idle_.back();
    idle_.pop_back();
    w->woken = true;
    lock.unlock();
    w->cv.notify_one();
  }
}

void WorkerPool::Join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (Idle* w : idle_) {
      w->woken = true;
      w->cv.notify_one();
    }
    idle_.clear();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  threads_.clear();
}

void WorkerPool::Run(size_t index) {
  Idle& me = slots_[index];
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // destroy captures outside the lock
      lock.lock();
      continue;
    }
    if (stopping_) return;
    me.woken = false;
    idle_.push_back(&me);
    me.cv.wait(lock, [&] { return me.woken; });
  }
}

}  // namespace vigil::server
