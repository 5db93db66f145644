#pragma once

// One series of the head: its interned labels, the open (Gorilla) chunk it appends to, its closed
// chunks and its out-of-order samples. See storage/head/README.md for the layout and the budget.
//
// Thread safety: ref(), labels(), logged() and the time hints may be read without a lock; every
// other method REQUIRES mu() held. A Series never moves in memory (the head holds pointers).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "compression/chunk.h"
#include "storage/head/chunk_data.h"
#include "storage/head/spin_lock.h"
#include "storage/series_ref.h"
#include "storage/symbol_table.h"

namespace vigil::storage::head {

inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();
// Hard cap of samples per head chunk, whatever HeadOptions::chunk_target_samples says.
inline constexpr uint32_t kMaxChunkSamples = 240;
// Chunks are also cut where a sample crosses a multiple of this (the level-0 block range).
inline constexpr int64_t kBlockRangeMs = 2 * 60 * 60 * 1000;

// Bytes malloc really takes for a request of n (glibc: 8-byte header, 16-byte granules, 32 at
// least); 0 for n == 0. Memory accounting uses it so that Stats() matches the process' RSS growth.
inline size_t AllocSize(size_t n) {
  if (n == 0) return 0;
  const size_t s = (n + 8 + 15) & ~size_t{15};
  return s < 32 ? 32 : s;
}

// What Check() says about a sample.
enum class Verdict : uint8_t {
  kInOrder,     // newer than every sample: append to the open chunk
  kOutOfOrder,  // older, within the window, no sample at t yet: goes to the out-of-order buffer
  kDuplicate,   // a sample at t with the same value bits exists: accepted, nothing to do
  kTooOld,      // older than the newest sample minus the window (or window 0): OutOfRange
  kConflict,    // a sample at t with other value bits exists: AlreadyExists
};

// What a query copies out of a series under its lock; decoded afterwards without it.
struct SeriesSnapshot {
  std::vector<ChunkHandle> chunks;  // closed in-order chunks overlapping the range, oldest first
  std::string open;                 // a copy of the open chunk (finished), if it overlaps
  int64_t open_min_t = 0;           // its first timestamp (when `open` is set)
  std::vector<ChunkHandle> ooo_chunks;
  std::vector<int64_t> ooo_ts;  // the out-of-order buffer's samples in the range, sorted
  std::vector<double> ooo_vs;

  bool has_out_of_order() const { return !ooo_chunks.empty() || !ooo_ts.empty(); }
  void Clear();
};

// A vector of ChunkMeta in 16 bytes (pointer, size, capacity; std::vector takes 24): every series
// has one. Grows by doubling like std::vector; ChunkMeta is trivially copyable, so growth is a
// realloc. Does not own the ChunkData (the series unreferences them).
class ChunkList {
 public:
  ChunkList() = default;
  ~ChunkList() { std::free(data_); }
  ChunkList(const ChunkList&) = delete;
  ChunkList& operator=(const ChunkList&) = delete;

  ChunkMeta* begin() { return data_; }
  ChunkMeta* end() { return data_ + size_; }
  const ChunkMeta* begin() const { return data_; }
  const ChunkMeta* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  ChunkMeta& operator[](size_t i) { return data_[i]; }
  const ChunkMeta& front() const { return data_[0]; }

  void push_back(const ChunkMeta& m) {
    if (size_ == cap_) Grow();
    data_[size_++] = m;
  }
  // REQUIRES: n <= size(). Keeps the capacity, like std::vector::resize.
  void resize(size_t n) { size_ = static_cast<uint32_t>(n); }
  void clear() { size_ = 0; }

 private:
  void Grow() {
    const uint32_t cap = cap_ == 0 ? 1 : cap_ * 2;
    void* p = std::realloc(static_cast<void*>(data_), cap * sizeof(ChunkMeta));
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<ChunkMeta*>(p);
    cap_ = cap;
  }

  ChunkMeta* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};
static_assert(std::is_trivially_copyable_v<ChunkMeta>);

struct SeriesMemory {
  uint64_t bytes = 0;   // the Series object and everything it owns, as malloc counts it
  uint64_t chunks = 0;  // closed + open + out-of-order chunks
};

class Series {
 public:
  // At most this many labels (Labels::Validate() refuses more).
  static constexpr size_t kMaxLabels = Labels::kMaxLabels;

  // A new series with a copy of `labels` inline, in one allocation of sizeof(Series) + 8 bytes
  // per label. `hash`: the label set's identity hash (HeadState::HashOf), the by-hash map's key.
  // REQUIRES: labels.size() <= kMaxLabels. Free with Destroy().
  static Series* Create(SeriesRef ref, LabelPairs labels, uint64_t hash);
  static void Destroy(Series* s);
  struct Deleter {
    void operator()(Series* s) const { Destroy(s); }
  };
  Series(const Series&) = delete;
  Series& operator=(const Series&) = delete;

  SeriesRef ref() const { return ref_; }
  uint64_t hash() const { return hash_; }
  LabelPairs labels() const {
    return LabelPairs({reinterpret_cast<const SymbolPair*>(this + 1), num_labels_});
  }
  SpinLock& mu() const { return mu_; }

  // Whether a WAL series record for this series has been logged (or replayed). Set after the
  // Wal::Log() that carried it returned OK.
  bool logged() const { return logged_.load(std::memory_order_acquire); }
  void MarkLogged() { logged_.store(true, std::memory_order_release); }

  // Newest in-order timestamp (kMinTime when empty) and oldest timestamp of any sample (kMaxTime
  // when empty). Readable without the lock as hints; exact under it.
  int64_t max_time() const { return max_t_.load(std::memory_order_acquire); }
  int64_t min_time() const { return min_t_.load(std::memory_order_acquire); }
  // Set (under the head's exclusive commit lock) when the series leaves the head's maps after a
  // flush left it empty; appenders still holding it re-resolve it by labels at commit.
  bool removed() const { return removed_.load(std::memory_order_acquire); }
  void MarkRemoved() { removed_.store(true, std::memory_order_release); }

  // Whether committed samples may lie in [min_t, max_t] (false for a series without samples).
  bool Overlaps(int64_t min_t, int64_t max_t) const {
    const int64_t lo = min_time(), hi = max_time();
    return lo <= hi && lo <= max_t && hi >= min_t;
  }

  // --- Everything below REQUIRES mu() held. ---

  // The newest committed sample (in order, so newer than any out-of-order one); false when the
  // series holds no sample. A series the head still matches holds it in its chunks (truncation
  // keeps it or empties the series).
  bool Newest(int64_t* t, double* v) const {
    if (min_t_.load(std::memory_order_relaxed) > max_t_.load(std::memory_order_relaxed)) return false;
    *t = max_t_.load(std::memory_order_relaxed);
    *v = std::bit_cast<double>(last_bits_);
    return true;
  }

  // Classifies a sample against the committed samples. May decode a chunk for out-of-order
  // timestamps (to find an existing sample at t); cheap for in-order ones.
  Verdict Check(int64_t t, double v, int64_t ooo_window_ms);
  // REQUIRES: Check() returned kInOrder / kOutOfOrder for this sample under the same lock hold.
  // `adaptive`: re-encode the chunk with compression::EncodeChunk when it is cut (else keep the
  // Gorilla bytes).
  // Chunks are cut where a sample crosses a multiple of `chunk_range_ms` (the level-0 block range).
  void AppendInOrder(int64_t t, double v, uint32_t chunk_target, bool adaptive = true,
                     int64_t chunk_range_ms = kBlockRangeMs);
  void AppendOutOfOrder(int64_t t, double v, uint32_t chunk_target);

  // Fills *out (cleared first) with what a reader of [min_t, max_t] needs.
  void Snapshot(int64_t min_t, int64_t max_t, SeriesSnapshot* out);

  SeriesMemory Memory() const;

  // Drops every sample older than t (it is in a block now). Chunks straddling t are re-encoded
  // without the older samples. The newest timestamp (for the out-of-order window) is kept.
  void TruncateBefore(int64_t t, bool adaptive);
  // Whether the series holds no sample.
  bool Empty() const;
  // Removes the samples with min_t <= t <= max_t; returns how many. The remaining samples are
  // re-encoded into closed chunks (no open chunk, no out-of-order data left).
  uint64_t DeleteRange(int64_t min_t, int64_t max_t, uint32_t chunk_target, bool adaptive,
                       int64_t chunk_range_ms);

 private:
  Series(SeriesRef ref, size_t num_labels, uint64_t hash);
  ~Series();

  struct OutOfOrder {
    std::vector<int64_t> ts;  // sorted, unique
    std::vector<double> vs;
    ChunkList chunks;  // compacted buffers; may overlap each other and in-order data
  };

  // The open chunk of two samples or more: one malloc block holding the appender's state, where the
  // chunk starts and must end, then `capacity` bytes of which the chunk takes `size`.
  struct OpenChunk {
    compression::CompactXorAppender app;
    int64_t min_t;      // the chunk's first timestamp
    int64_t block_end;  // last timestamp of min_t's block: a newer sample starts the next chunk
    uint32_t size;
    uint32_t capacity;
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
  };
  static_assert(sizeof(OpenChunk) == 48);

  // Samples in the open chunk (0 without one).
  uint32_t OpenSamples() const {
    return open_ != nullptr ? open_->app.num_samples() : has_open_ ? 1 : 0;
  }
  // The open chunk's first timestamp. REQUIRES: has_open_.
  int64_t OpenMinTime() const {
    return open_ != nullptr ? open_->min_t : max_t_.load(std::memory_order_relaxed);
  }
  // Gives the one-sample open chunk its block: the sample at max_t_ appended. REQUIRES: has_open_,
  // open_ == nullptr.
  void MaterializeOpen(int64_t block_end);
  // Appends to open_, moving it to a larger block when the appender spilled.
  void AppendToOpen(int64_t t, double v, int64_t prev_t, uint64_t prev_bits);
  // Moves open_ to a block of at least `need` chunk bytes (a malloc granule filled).
  void GrowOpen(size_t need);
  // After a call that wrote into open_ through buf: the chunk's new size, the spilled bytes moved
  // into a larger block first.
  void TakeSpill(const compression::SpillBuffer& buf);
  // Allocates open_ for a chunk starting at min_t and writes the chunk header. REQUIRES: open_ null.
  void NewOpen(int64_t min_t, int64_t block_end);
  // Decodes everything (in-order then out-of-order, sorted, duplicates dropped) into ts/vs.
  void AllSamples(std::vector<int64_t>* ts, std::vector<double>* vs);
  void CutOpenChunk(bool adaptive = true);
  void ReleaseOpenChunk();
  // The open chunk's bytes, finished (padded): in open_, or for a one-sample open chunk encoded
  // into *scratch. Valid until the next append or release.
  std::string_view FinishedOpenChunk(std::string* scratch);
  bool FindSample(int64_t t, uint64_t* bits);

  // Field order packs the flags and the label count into the first word. sizeof(Series) is 80;
  // the labels follow it in the same allocation (README.md "Memory accounting").
  mutable SpinLock mu_;
  std::atomic<bool> logged_{false};
  std::atomic<bool> removed_{false};
  // An open chunk exists: open_, or while open_ is null the one sample at max_t_ (a series' first
  // sample, or the first after a cut, needs no block: it is max_t_ and last_bits_).
  bool has_open_ = false;
  uint16_t open_reserve_ = 0;  // chunk bytes to reserve for the next open chunk (the last one's size)
  uint16_t num_labels_;        // SymbolPairs right after the object
  SeriesRef ref_;
  uint64_t hash_;
  std::atomic<int64_t> min_t_{kMaxTime};
  std::atomic<int64_t> max_t_{kMinTime};
  uint64_t last_bits_ = 0;  // value bits of the sample at max_t_
  OpenChunk* open_ = nullptr;
  ChunkList closed_;  // oldest first, non-overlapping
  std::unique_ptr<OutOfOrder> ooo_;
};

}  // namespace vigil::storage::head
