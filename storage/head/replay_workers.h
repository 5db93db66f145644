#pragma once

// ReplayWorkers: applies WAL sample records to the head on several threads.
//
// The opening thread reads and decodes the WAL; each samples record is handed, whole and
// read-only, to every worker, and worker i applies the samples of shard i
// (Head::ReplaySamplesShard). A series always belongs to one shard, so its samples are applied
// by one thread in WAL order, exactly as a single-threaded replay would; series records are
// applied by the opening thread before any later record is handed out, and a tombstone record
// first waits until every record before it is applied (Drain). The head ends in the same state
// as after a serial replay.
//
// At most kMaxQueued records wait per worker; Submit blocks beyond that, which bounds the memory
// of decoded records.
//
// Thread safety: Submit, Drain and the destructor are called by one thread (the opening one).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/wal/records.h"

namespace vigil::storage {

class Head;

class ReplayWorkers {
 public:
  // threads >= 2.
  ReplayWorkers(Head* head, unsigned threads);
  ~ReplayWorkers();  // drains and joins
  ReplayWorkers(const ReplayWorkers&) = delete;
  ReplayWorkers& operator=(const ReplayWorkers&) = delete;

  // Hands a decoded samples record to the workers.
  void Submit(std::shared_ptr<const std::vector<wal::RefSample>> samples);
  // Returns once every submitted record is applied.
  void Drain();

  // How many threads replay uses for `requested` (DbOptions::wal_replay_threads): 0 means one per
  // core, at most 8.
  static unsigned ThreadsFor(int requested);

  static constexpr size_t kMaxQueued = 16;

 private:
  struct Job {
    std::shared_ptr<const std::vector<wal::RefSample>> samples;
    bool by_series = false;
  };
  void Run(unsigned shard);

  Head* const head_;
  const unsigned threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for jobs
  std::condition_variable space_cv_;  // Submit and Drain wait for the workers
  std::vector<std::deque<Job>> queues_;  // one per worker
  std::vector<size_t> busy_;             // 1 while worker i applies a job it took
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vigil::storage
