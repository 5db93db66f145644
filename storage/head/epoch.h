#pragma once

// Epoch-based reclamation for the head (storage/head/README.md, "Truncation and garbage
// collection"). Users that hold raw pointers into the head (an appender's batch, a querier) pin the
// current epoch; the single reclaimer (the head flush, serialised by the Db) retires objects tagged
// with the epoch in which they became unreachable and frees them once no pin of that epoch or an
// earlier one is left. Two counters suffice: the epoch advances from e to e+1 only when nobody is
// pinned in e-1 (same counter as e+1), so an object retired in e is free once the epoch is e+2.
//
// Thread safety: Pin/Unpin from any thread (lock-free); TryAdvance from one thread at a time.

#include <atomic>
#include <cstdint>

namespace vigil::storage::head {

class EpochManager {
 public:
  // Returns the pinned epoch, to pass to Unpin.
  uint64_t Pin() {
    for (;;) {
      const uint64_t e = epoch_.load(std::memory_order_seq_cst);
      active_[e & 1].fetch_add(1, std::memory_order_seq_cst);
      if (epoch_.load(std::memory_order_seq_cst) == e) return e;
      active_[e & 1].fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  void Unpin(uint64_t e) { active_[e & 1].fetch_sub(1, std::memory_order_seq_cst); }

  uint64_t current() const { return epoch_.load(std::memory_order_seq_cst); }

  // Moves to the next epoch if nobody is pinned in the previous one; returns the current epoch.
  uint64_t TryAdvance() {
    const uint64_t e = epoch_.load(std::memory_order_seq_cst);
    if (active_[(e + 1) & 1].load(std::memory_order_seq_cst) == 0) {
      epoch_.store(e + 1, std::memory_order_seq_cst);
      return e + 1;
    }
    return e;
  }

  // Whether every pin taken in epoch `e` or earlier is gone (advancing as far as possible).
  bool Quiescent(uint64_t e) {
    for (int i = 0; i < 2 && current() < e + 2; ++i) TryAdvance();
    return current() >= e + 2;
  }

 private:
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int64_t> active_[2] = {0, 0};
};

// RAII pin.
class EpochPin {
 public:
  EpochPin() = default;
  explicit EpochPin(EpochManager* m) : m_(m), e_(m->Pin()) {}
  EpochPin(EpochPin&& o) noexcept : m_(o.m_), e_(o.e_) { o.m_ = nullptr; }
  EpochPin& operator=(EpochPin&& o) noexcept {
    if (this != &o) {
      Reset();
      m_ = o.m_;
      e_ = o.e_;
      o.m_ = nullptr;
    }
    return *this;
  }
  EpochPin(const EpochPin&) = delete;
  EpochPin& operator=(const EpochPin&) = delete;
  ~EpochPin() { Reset(); }

  bool active() const { return m_ != nullptr; }
  void Reset() {
    if (m_ != nullptr) m_->Unpin(e_);
    m_ = nullptr;
  }

 private:
  EpochManager* m_ = nullptr;
  uint64_t e_ = 0;
};

}  // namespace vigil::storage::head
