#include "storage/head/replay_workers.h"

#include <algorithm>

#include "storage/head/head.h"

namespace vigil::storage {

ReplayWorkers::ReplayWorkers(Head* head, unsigned threads)
    : head_(head), threads_(threads), queues_(threads), busy_(threads, 0) {
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this, i] { Run(i); });
}

ReplayWorkers::~ReplayWorkers() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

unsigned ReplayWorkers::ThreadsFor(int requested) {
  if (requested > 0) return static_cast<unsigned>(requested);
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp(cores, 1u, 8u);
}

void ReplayWorkers::Submit(std::shared_ptr<const std::vector<wal::RefSample>> samples) {
  // Read after the series records before this one were applied (by this thread).
  Job job{std::move(samples), head_->ReplayHasAliases()};
  {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [this] {
      return std::all_of(queues_.begin(), queues_.end(),
                         [](const std::deque<Job>& q) { return q.size() < kMaxQueued; });
    });
    for (std::deque<Job>& q : queues_) q.push_back(job);
  }
  work_cv_.notify_all();
}

void ReplayWorkers::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [this] {
    for (unsigned i = 0; i < threads_; ++i) {
      if (!queues_[i].empty() || busy_[i] != 0) return false;
    }
    return true;
  });
}

void ReplayWorkers::Run(unsigned shard) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queues_[shard].empty(); });
    if (queues_[shard].empty()) return;  // stop_ and nothing left
    Job job = std::move(queues_[shard].front());
    queues_[shard].pop_front();
    busy_[shard] = 1;
    lock.unlock();
    head_->ReplaySamplesShard(*job.samples, shard, threads_, job.by_series);
    job.samples.reset();  // the last worker done with a record frees it here, unlocked
    lock.lock();
    busy_[shard] = 0;
    space_cv_.notify_all();
  }
}

}  // namespace vigil::storage
