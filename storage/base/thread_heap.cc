#include "storage/base/thread_heap.h"

#include <cstdlib>
#include <vector>

namespace vigil::storage {

void PrepareThreadHeap(size_t bytes) {
  // Below glibc's default mmap threshold (128 KiB), so the blocks come from the thread's arena.
  constexpr size_t kBlock = size_t{120} << 10;
  std::vector<void*> blocks;
  blocks.reserve(bytes / kBlock + 1);
  for (size_t done = 0; done < bytes; done += kBlock) {
    void* p = std::malloc(kBlock);
    if (p == nullptr) break;
    static_cast<volatile char*>(p)[0] = 0;  // a use, so the pair is not optimised away
    blocks.push_back(p);
  }
  for (void* p : blocks) std::free(p);
}

}  // namespace vigil::storage
