// The HTTP server's handler threads (server/http/worker_pool.h): every task runs, the thread
// that became idle last takes the next task, and Join() runs what was posted before stopping.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "server/http/worker_pool.h"

namespace vigil::server {
namespace {

using namespace std::chrono_literals;

TEST_CASE("worker pool: every task runs, on at most its threads", "[server][http]") {
  std::atomic<int> done{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  {
    WorkerPool pool(3);
    for (int i = 0; i < 500; ++i) {
      pool.Post([&] {
        {
          std::lock_guard<std::mutex> lock(mu);
          ids.insert(std::this_thread::get_id());
        }
        ++done;
      });
    }
    pool.Join();
    CHECK(done.load() == 500);
  }
  CHECK(ids.size() >= 1);
  CHECK(ids.size() <= 3);
  CHECK(ids.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("worker pool: tasks posted one at a time run on the same thread", "[server][http]") {
  WorkerPool pool(4);
  std::this_thread::sleep_for(50ms);  // all four idle
  std::set<std::thread::id> ids;
  for (int i = 0; i < 20; ++i) {
    std::atomic<bool> ran{false};
    std::thread::id id;
    pool.Post([&] {
      id = std::this_thread::get_id();
      ran = true;
    });
    while (!ran.load()) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(2ms);  // the worker is idle again
    ids.insert(id);
  }
  CHECK(ids.size() == 1);
}

TEST_CASE("worker pool: concurrent tasks use several threads; Join runs what was posted",
          "[server][http]") {
  WorkerPool pool(2);
  std::atomic<int> running{0}, most{0}, done{0};
  for (int i = 0; i < 6; ++i) {
    pool.Post([&] {
      int now = ++running;
      int m = most.load();
      while (now > m && !most.compare_exchange_weak(m, now)) {
      }
      std::this_thread::sleep_for(20ms);
      --running;
      ++done;
    });
  }
  pool.Join();
  CHECK(done.load() == 6);
  CHECK(most.load() == 2);
  pool.Join();  // twice is harmless
}

}  // namespace
}  // namespace vigil::server
