#include "storage/symbol_table.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "storage/labels/encoding.h"

namespace vigil::storage {

namespace {

constexpr uint32_t kShardBits = 4;
constexpr uint32_t kShards = 1u << kShardBits;
constexpr size_t kMinBlock = 4096;
constexpr size_t kMaxBlock = 64 * 1024;
// A hash slot: local index + 1 in the low kLocalBits, a tag of the hash in the bits above. Locals
// are below 2^28 anyway (ids are local << kShardBits | shard in 32 bits).
constexpr uint32_t kLocalBits = 32 - kShardBits;
constexpr uint32_t kLocalMask = (1u << kLocalBits) - 1;

inline uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 60) << kLocalBits; }

// Where a symbol's bytes are, in 4 bytes (a pointer would take 8): an arena block number and the
// offset in it (blocks are at most kMaxBlock = 2^16 bytes), or, with the top bit set, the number of
// a string too large for the blocks, which has an allocation of its own.
constexpr uint32_t kLargeBit = 1u << 31;
constexpr uint32_t kMaxBlocks = 1u << 15;  // block numbers below kLargeBit >> 16
static_assert(kMaxBlock <= (1u << 16));

// An append-only array whose entries are read without a lock: segment k holds
// (1 << kFirstBits) << k entries and never moves once published (release store). Writers append
// in index order under the shard's lock. A reader must have obtained the index from a writer's
// result (any ordinary hand-off between threads), which orders the entry's store before its load.
template <typename T, uint32_t kFirstBits, uint32_t kSegs>
class SegmentedArray {
 public:
  SegmentedArray() = default;
  SegmentedArray(const SegmentedArray&) = delete;
  SegmentedArray& operator=(const SegmentedArray&) = delete;
  ~SegmentedArray() {
    for (auto& s : segs_) delete[] s.load(std::memory_order_relaxed);
  }

  // Entries addressable at all: (2^kSegs - 1) << kFirstBits.
  static constexpr uint64_t kCapacity = ((uint64_t{1} << kSegs) - 1) << kFirstBits;

  T Get(uint32_t i) const {
    uint32_t seg, off;
    Locate(i, &seg, &off);
    return segs_[seg].load(std::memory_order_acquire)[off];
  }
  // REQUIRES: the writer's lock; i < kCapacity.
  void Set(uint32_t i, T v) {
    uint32_t seg, off;
    Locate(i, &seg, &off);
    T* segment = segs_[seg].load(std::memory_order_relaxed);
    if (segment == nullptr) {
      segment = new T[size_t{1} << (seg + kFirstBits)];
      segs_[seg].store(segment, std::memory_order_release);
    }
    segment[off] = v;
  }
  size_t AllocatedBytes() const {
    size_t n = 0;
    for (uint32_t k = 0; k < kSegs; ++k) {
      if (segs_[k].load(std::memory_order_relaxed) != nullptr) {
        n += (size_t{1} << (k + kFirstBits)) * sizeof(T);
      }
    }
    return n;
  }

 private:
  static void Locate(uint32_t i, uint32_t* seg, uint32_t* off) {
    const uint32_t x = (i >> kFirstBits) + 1;
    *seg = static_cast<uint32_t>(std::bit_width(x)) - 1;
    *off = i - (((1u << *seg) - 1) << kFirstBits);
  }

  std::atomic<T*> segs_[kSegs] = {};
};

inline std::string_view Decode(const char* p) {
  uint32_t len;
  p = detail::GetUvarint32Unchecked(p, &len);
  return {p, len};
}

}  // namespace

// One shard: an arena of length-prefixed strings, a directory from local index to where its
// string is (4 bytes each) and an open-addressing hash set of local indexes. Readers of the
// directory and of the block tables take no lock (SegmentedArray).
struct alignas(64) SymbolTable::Shard {
  mutable std::shared_mutex mu;
  // Slot: the top kTagBits bits of the hash above local + 1 (kLocalBits); 0 is empty. A probe
  // compares the string only when the tag matches (1 in 16 other symbols).
  std::vector<uint32_t> slots;
  uint32_t count = 0;
  // local -> location (see kLargeBit); 21 segments of 256 << k cover all 2^28 locals.
  SegmentedArray<uint32_t, 8, 21> dir;
  SegmentedArray<char*, 4, 12> block_ptrs;  // block number -> block
  SegmentedArray<char*, 4, 28> large_ptrs;  // large string number -> its allocation
  uint32_t num_blocks = 0;
  uint32_t num_large = 0;
  std::vector<std::unique_ptr<char[]>> blocks;  // owns both kinds
  char* cur = nullptr;
  size_t left = 0;
  size_t next_block = kMinBlock;
  size_t arena_bytes = 0;

  static_assert(decltype(dir)::kCapacity >= kLocalMask);
  static_assert(decltype(block_ptrs)::kCapacity >= kMaxBlocks);
  static_assert(decltype(large_ptrs)::kCapacity >= kLargeBit);

  const char* Resolve(uint32_t loc) const {
    if ((loc & kLargeBit) != 0) return large_ptrs.Get(loc & ~kLargeBit);
    return block_ptrs.Get(loc >> 16) + (loc & 0xffff);
  }
  const char* Entry(uint32_t local) const { return Resolve(dir.Get(local)); }

  // REQUIRES: mu held (shared or exclusive). Returns the local index or -1.
  int64_t Probe(std::string_view s, uint64_t hash) const {
    if (slots.empty()) return -1;
    const size_t mask = slots.size() - 1;
    const uint32_t tag = Tag(hash);
    for (size_t i = (hash >> kShardBits) & mask;; i = (i + 1) & mask) {
      const uint32_t slot = slots[i];
      if (slot == 0) return -1;
      if ((slot & ~kLocalMask) == tag) {
        const uint32_t local = (slot & kLocalMask) - 1;
        if (Decode(Entry(local)) == s) return local;
      }
    }
  }

  void InsertSlot(uint64_t hash, uint32_t local) {
    const size_t mask = slots.size() - 1;
    size_t i = (hash >> kShardBits) & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = Tag(hash) | (local + 1);
  }

  void Grow() {
    std::vector<uint32_t> old;
    old.swap(slots);
    slots.assign(old.empty() ? 64 : old.size() * 2, 0);
    for (uint32_t slot : old) {
      if (slot == 0) continue;
      const uint32_t local = (slot & kLocalMask) - 1;
      const std::string_view s = Decode(Entry(local));
      InsertSlot(XXH3_64bits(s.data(), s.size()), local);
    }
  }

  // 2^28 - 1 symbols, 2^15 blocks (2 GiB of short strings) or 2^31 large strings in one shard.
  [[noreturn]] static void Full() {
    assert(false && "SymbolTable: shard full");
    std::abort();
  }

  // Copies s (length-prefixed) into the arena; returns its location.
  uint32_t Store(std::string_view s) {
    const size_t need = detail::UvarintSize(static_cast<uint32_t>(s.size())) + s.size();
    if (need > kMaxBlock / 4) {
      // Large strings get an allocation of their own so the current block's tail is not wasted.
      if (num_large >= kLargeBit) Full();
      blocks.push_back(std::make_unique<char[]>(need));
      arena_bytes += need;
      char* p = blocks.back().get();
      char* data = detail::PutUvarint32(p, static_cast<uint32_t>(s.size()));
      std::memcpy(data, s.data(), s.size());
      large_ptrs.Set(num_large, p);
      return kLargeBit | num_large++;
    }
    if (need > left) {
      if (num_blocks >= kMaxBlocks) Full();
      const size_t size = std::max(next_block, need);
      blocks.push_back(std::make_unique<char[]>(size));
      arena_bytes += size;
      cur = blocks.back().get();
      left = size;
      next_block = std::min(next_block * 2, kMaxBlock);
      block_ptrs.Set(num_blocks++, cur);
    }
    char* p = cur;
    char* data = detail::PutUvarint32(p, static_cast<uint32_t>(s.size()));
    std::memcpy(data, s.data(), s.size());
    const auto pos = static_cast<uint32_t>(p - block_ptrs.Get(num_blocks - 1));
    cur += need;
    left -= need;
    return (num_blocks - 1) << 16 | pos;
  }

  // REQUIRES: mu held exclusively and s absent.
  uint32_t Insert(std::string_view s, uint64_t hash) {
    const uint32_t local = count;
    if (local >= kLocalMask) Full();  // local + 1 must fit in the slot's kLocalBits
    dir.Set(local, Store(s));
    ++count;
    if (uint64_t{count} * 4 > slots.size() * 3) Grow();
    InsertSlot(hash, local);
    return local;
  }

  size_t MemoryUsage() const {
    return arena_bytes + dir.AllocatedBytes() + block_ptrs.AllocatedBytes() +
           large_ptrs.AllocatedBytes() + slots.capacity() * sizeof(uint32_t) +
           blocks.capacity() * sizeof(std::unique_ptr<char[]>);
  }
};

SymbolTable::SymbolTable() : shards_(new Shard[kShards]) {}
SymbolTable::~SymbolTable() = default;

uint32_t SymbolTable::Intern(std::string_view s) {
  const uint64_t hash = XXH3_64bits(s.data(), s.size());
  const uint32_t shard_index = static_cast<uint32_t>(hash) & (kShards - 1);
  Shard& shard = shards_[shard_index];
  {
    std::shared_lock lock(shard.mu);
    if (int64_t local = shard.Probe(s, hash); local >= 0) {
      return static_cast<uint32_t>(local) << kShardBits | shard_index;
    }
  }
  std::unique_lock lock(shard.mu);
  int64_t local = shard.Probe(s, hash);
  if (local < 0) local = shard.Insert(s, hash);
  return static_cast<uint32_t>(local) << kShardBits | shard_index;
}

std::optional<uint32_t> SymbolTable::Find(std::string_view s) const {
  const uint64_t hash = XXH3_64bits(s.data(), s.size());
  const uint32_t shard_index = static_cast<uint32_t>(hash) & (kShards - 1);
  const Shard& shard = shards_[shard_index];
  std::shared_lock lock(shard.mu);
  const int64_t local = shard.Probe(s, hash);
  if (local < 0) return std::nullopt;
  return static_cast<uint32_t>(local) << kShardBits | shard_index;
}

std::string_view SymbolTable::Lookup(uint32_t id) const {
  return Decode(shards_[id & (kShards - 1)].Entry(id >> kShardBits));
}

size_t SymbolTable::size() const {
  size_t n = 0;
  for (uint32_t i = 0; i < kShards; ++i) {
    std::shared_lock lock(shards_[i].mu);
    n += shards_[i].count;
  }
  return n;
}

size_t SymbolTable::MemoryUsage() const {
  size_t n = sizeof(Shard) * kShards;
  for (uint32_t i = 0; i < kShards; ++i) {
    std::shared_lock lock(shards_[i].mu);
    n += shards_[i].MemoryUsage();
  }
  return n;
}

// InternedLabels.

InternedLabels::InternedLabels(size_t n) {
  if (n == 0) return;
  data_ = new uint32_t[1 + 2 * n];
  data_[0] = static_cast<uint32_t>(n);
}

InternedLabels::InternedLabels(const InternedLabels& other) : InternedLabels(other.size()) {
  if (data_ != nullptr) std::memcpy(data_, other.data_, MemoryUsage());
}

InternedLabels& InternedLabels::operator=(const InternedLabels& other) {
  if (this != &other) *this = InternedLabels(other);
  return *this;
}

InternedLabels& InternedLabels::operator=(InternedLabels&& other) noexcept {
  if (this != &other) {
    delete[] data_;
    data_ = other.data_;
    other.data_ = nullptr;
  }
  return *this;
}

std::span<const SymbolPair> InternedLabels::pairs() const {
  if (data_ == nullptr) return {};
  // SymbolPair is two uint32 with no padding, so the block's tail is an array of them.
  static_assert(sizeof(SymbolPair) == 2 * sizeof(uint32_t) && alignof(SymbolPair) == alignof(uint32_t));
  return {reinterpret_cast<const SymbolPair*>(data_ + 1), size()};
}

InternedLabels InternedLabels::Intern(const Labels& ls, SymbolTable* table) {
  InternedLabels out(ls.size());
  uint32_t* p = out.data_ == nullptr ? nullptr : out.data_ + 1;
  for (const Label& l : ls) {
    *p++ = table->Intern(l.name);
    *p++ = table->Intern(l.value);
  }
  return out;
}

InternedLabels InternedLabels::FromPairs(std::span<const SymbolPair> pairs) {
  InternedLabels out(pairs.size());
  if (!pairs.empty()) std::memcpy(out.data_ + 1, pairs.data(), pairs.size_bytes());
  return out;
}

// LabelPairs.

Labels LabelPairs::ToLabels(const SymbolTable& table) const {
  Label stack_buf[32];
  std::vector<Label> heap_buf;
  Label* buf = stack_buf;
  if (size() > std::size(stack_buf)) {
    heap_buf.resize(size());
    buf = heap_buf.data();
  }
  size_t i = 0;
  for (const SymbolPair& p : pairs()) buf[i++] = {table.Lookup(p.name), table.Lookup(p.value)};
  return Labels::FromSorted({buf, i});
}

std::string_view LabelPairs::Get(std::string_view name, const SymbolTable& table) const {
  for (const SymbolPair& p : pairs()) {
    if (table.Lookup(p.name) == name) return table.Lookup(p.value);
  }
  return {};
}

bool LabelPairs::Equals(const Labels& ls, const SymbolTable& table) const {
  auto it = ls.begin();
  for (const SymbolPair& p : pairs()) {
    if (it == ls.end() || table.Lookup(p.name) != it->name || table.Lookup(p.value) != it->value) {
      return false;
    }
    ++it;
  }
  return it == ls.end();
}

uint64_t LabelPairs::Hash(const SymbolTable& table) const {
  Label stack_buf[32];
  std::vector<Label> heap_buf;
  Label* buf = stack_buf;
  if (size() > std::size(stack_buf)) {
    heap_buf.resize(size());
    buf = heap_buf.data();
  }
  size_t i = 0;
  for (const SymbolPair& p : pairs()) buf[i++] = {table.Lookup(p.name), table.Lookup(p.value)};
  return HashSortedLabels({buf, i});
}

bool operator==(LabelPairs a, LabelPairs b) {
  const auto pa = a.pairs(), pb = b.pairs();
  return std::equal(pa.begin(), pa.end(), pb.begin(), pb.end());
}

}  // namespace vigil::storage
