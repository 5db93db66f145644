#include "storage/block/piece_cache.h"

#include <list>
#include <unordered_map>

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

namespace {
constexpr size_t kShards = 8;
thread_local int bypass_depth = 0;

size_t PieceBytes(const std::string& s) { return s.capacity() + 64; }

struct KeyHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& k) const {
    return std::hash<uint64_t>()(k.first * 0x9E3779B97F4A7C15ull ^ k.second);
  }
};
}  // namespace

struct SharedPieceCache::Shard {
  using Key = std::pair<uint64_t, uint64_t>;
  using Entry = std::pair<Key, std::shared_ptr<const std::string>>;
  mutable std::mutex mu;
  std::list<Entry> lru;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;
  size_t bytes = 0;
  uint64_t hits = 0, misses = 0;

  void TrimLocked(size_t limit) {
    while (bytes > limit && !lru.empty()) {
      bytes -= PieceBytes(*lru.back().second);
      index.erase(lru.back().first);
      lru.pop_back();
    }
  }
};

SharedPieceCache::SharedPieceCache() : shards_(new Shard[kShards]) {}

SharedPieceCache& SharedPieceCache::Instance() {
  static SharedPieceCache* cache = new SharedPieceCache();  // never destroyed: readers may outlive main
  return *cache;
}

uint64_t SharedPieceCache::NewOwner() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

SharedPieceCache::Shard& SharedPieceCache::ShardOf(uint64_t owner, uint64_t key) {
  return shards_[KeyHash()({owner, key}) % kShards];
}

void SharedPieceCache::SetCapacity(size_t bytes) {
  capacity_.store(bytes);
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    shards_[i].TrimLocked(bytes / kShards);
  }
}

std::shared_ptr<const std::string> SharedPieceCache::Get(uint64_t owner, uint64_t key) {
  if (capacity_.load(std::memory_order_relaxed) == 0) return nullptr;
  Shard& sh = ShardOf(owner, key);
  std::lock_guard<std::mutex> lock(sh.mu);
  auto it = sh.index.find({owner, key});
  if (it == sh.index.end()) {
    ++sh.misses;
    return nullptr;
  }
  ++sh.hits;
  sh.lru.splice(sh.lru.begin(), sh.lru, it->second);
  return it->second->second;
}

void SharedPieceCache::Put(uint64_t owner, uint64_t key, std::shared_ptr<const std::string> piece) {
  const size_t limit = capacity_.load(std::memory_order_relaxed) / kShards;
  if (piece == nullptr || PieceBytes(*piece) > limit) return;
  Shard& sh = ShardOf(owner, key);
  std::lock_guard<std::mutex> lock(sh.mu);
  auto it = sh.index.find({owner, key});
  if (it != sh.index.end()) {
    sh.bytes -= PieceBytes(*it->second->second);
    sh.lru.erase(it->second);
    sh.index.erase(it);
  }
  sh.bytes += PieceBytes(*piece);
  sh.lru.emplace_front(Shard::Key{owner, key}, std::move(piece));
  sh.index.emplace(sh.lru.front().first, sh.lru.begin());
  sh.TrimLocked(limit);
}

SharedPieceCache::Stats SharedPieceCache::stats() const {
  Stats s;
  s.capacity = capacity_.load();
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    s.hits += shards_[i].hits;
    s.misses += shards_[i].misses;
    s.bytes += shards_[i].bytes;
    s.entries += shards_[i].lru.size();
  }
  return s;
}

PieceCacheBypass::PieceCacheBypass() { ++bypass_depth; }
PieceCacheBypass::~PieceCacheBypass() { --bypass_depth; }
bool PieceCacheBypass::Active() { return bypass_depth > 0; }

std::shared_ptr<std::string> NewPieceBuffer() {
  return std::shared_ptr<std::string>(Pool().Take().release(), [](std::string* s) { Pool().Give(s); });
}

}  // namespace vigil::storage::block
