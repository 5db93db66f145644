#pragma once

// A one-byte lock for series. Critical sections are short (append one sample, copy an open chunk
// of at most a few hundred bytes, or cut a chunk), so waiters spin briefly and then yield; a
// std::mutex would cost 40 bytes in every series (storage/head/README.md, memory budget).

#include <atomic>
#include <thread>

namespace vigil::storage::head {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class SpinLock {
 public:
  void lock() {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          CpuRelax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() {
    return !flag_.load(std::memory_order_relaxed) &&
           !flag_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace vigil::storage::head
