#pragma once

// Immutable, reference-counted chunk bytes. A closed chunk is written once when the head cuts it
// and never changes; queriers take a reference under the series lock and decode it afterwards
// without any lock, so a future head truncation can drop a series' chunks while queries still read
// them. One allocation per chunk: an 8-byte header followed by the bytes.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace vigil::storage::head {

class ChunkData {
 public:
  // A new chunk holding a copy of `bytes`, with one reference (the caller's).
  static ChunkData* Make(std::string_view bytes);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();

  std::string_view bytes() const { return {reinterpret_cast<const char*>(this + 1), size_}; }
  // Heap bytes of this allocation (header included).
  size_t AllocatedBytes() const { return sizeof(ChunkData) + size_; }

 private:
  explicit ChunkData(uint32_t size) : size_(size) {}

  std::atomic<uint32_t> refs_{1};
  uint32_t size_;
};

// A chunk's time range and bytes, as a series keeps it (the series owns one reference).
struct ChunkMeta {
  int64_t min_t;
  int64_t max_t;
  ChunkData* data;
};

// A reader's reference to a closed chunk: Ref() on copy-in, Unref() on destruction.
class ChunkHandle {
 public:
  ChunkHandle() = default;
  explicit ChunkHandle(const ChunkMeta& m) : min_t_(m.min_t), max_t_(m.max_t), data_(m.data) {
    data_->Ref();
  }
  ChunkHandle(ChunkHandle&& o) noexcept
      : min_t_(o.min_t_), max_t_(o.max_t_), data_(std::exchange(o.data_, nullptr)) {}
  ChunkHandle& operator=(ChunkHandle&& o) noexcept {
    if (this != &o) {
      if (data_ != nullptr) data_->Unref();
      min_t_ = o.min_t_;
      max_t_ = o.max_t_;
      data_ = std::exchange(o.data_, nullptr);
    }
    return *this;
  }
  ChunkHandle(const ChunkHandle&) = delete;
  ChunkHandle& operator=(const ChunkHandle&) = delete;
  ~ChunkHandle() {
    if (data_ != nullptr) data_->Unref();
  }

  int64_t min_t() const { return min_t_; }
  int64_t max_t() const { return max_t_; }
  std::string_view bytes() const { return data_->bytes(); }

 private:
  int64_t min_t_ = 0;
  int64_t max_t_ = 0;
  ChunkData* data_ = nullptr;
};

}  // namespace vigil::storage::head
