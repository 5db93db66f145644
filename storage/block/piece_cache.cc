#include "storage/block/piece_cache.h"

namespace vigil::storage::block {
namespace {

// At most this many spare buffers (about 2 MiB of 64 KiB pieces), each at most kMaxCapacity.
constexpr size_t kMaxSpare = 32;
constexpr size_t kMaxCapacity = size_t{256} << 10;

class BufferPool {
 public:
  std::unique_ptr<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.empty()) return std::make_unique<std::string>();
    std::unique_ptr<std::string> s = std::move(spare_.back());
    spare_.pop_back();
    return s;
  }

  void Give(std::string* s) {
    std::unique_ptr<std::string> owned(s);
    if (owned->capacity() > kMaxCapacity) return;
    owned->clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(owned));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<std::string>> spare_;
};

BufferPool& Pool() {
  static BufferPool* pool = new BufferPool();  // never destroyed: buffers may return at exit
  return *pool;
}

}  // namespace

std::shared_ptr<std::string> NewPieceBuffer() {
  return std::shared_ptr<std::string>(Pool().Take().release(), [](std::string* s) { Pool().Give(s); });
}

}  // namespace vigil::storage::block
