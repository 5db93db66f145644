#include "storage/head/series.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <new>
#include <span>

namespace vigil::storage::head {
namespace {

// An open chunk of one sample has no block: the sample is the series' max_t_ and last_bits_. The
// block comes with the second sample, with room for kFirstOpenBytes of chunk bytes in the first
// chunk (a malloc granule filled) and for the previous chunk's size in later ones; it grows by
// doubling.
constexpr size_t kFirstOpenBytes = 24;

// The last timestamp of t's block of `range` ms (floor division, so negative timestamps work too).
int64_t BlockEnd(int64_t t, int64_t range) {
  const int64_t block = t >= 0 ? t / range : -((-(t + 1)) / range) - 1;
  return block >= kMaxTime / range ? kMaxTime : (block + 1) * range - 1;
}

// Decodes a whole chunk, appending to ts/vs.
void DecodeAll(std::string_view chunk, std::vector<int64_t>* ts, std::vector<double>* vs) {
  compression::ChunkDecoder dec(chunk);
  int64_t bt[128];
  double bv[128];
  for (size_t n; (n = dec.Next(bt, bv)) != 0;) {
    ts->insert(ts->end(), bt, bt + n);
    vs->insert(vs->end(), bv, bv + n);
  }
}

// Decodes `chunk` looking for timestamp t. Chunks hold their samples in time order.
bool ChunkHas(std::string_view chunk, int64_t t, uint64_t* bits) {
  compression::ChunkDecoder dec(chunk);
  int64_t ts[128];
  double vs[128];
  for (size_t n; (n = dec.Next(ts, vs)) != 0;) {
    if (ts[n - 1] < t) continue;
    for (size_t i = 0; i < n; ++i) {
      if (ts[i] == t) {
        *bits = std::bit_cast<uint64_t>(vs[i]);
        return true;
      }
      if (ts[i] > t) return false;
    }
  }
  return false;
}

void UnrefAll(ChunkList& chunks) {
  for (ChunkMeta& c : chunks) c.data->Unref();
  chunks.clear();
}

// Whether `chunk` decodes to exactly ts/vs (value bits compared).
bool DecodesTo(std::string_view chunk, std::span<const int64_t> ts, std::span<const double> vs) {
  compression::ChunkDecoder dec(chunk);
  if (dec.num_samples() != ts.size()) return false;
  int64_t got_ts[kMaxChunkSamples];
  double got_vs[kMaxChunkSamples];
  size_t pos = 0;
  for (size_t n; (n = dec.Next(got_ts, got_vs)) != 0;) {
    if (pos + n > ts.size()) return false;
    for (size_t i = 0; i < n; ++i, ++pos) {
      if (got_ts[i] != ts[pos] ||
          std::bit_cast<uint64_t>(got_vs[i]) != std::bit_cast<uint64_t>(vs[pos])) {
        return false;
      }
    }
  }
  return dec.ok() && pos == ts.size();
}

// Encodes ts/vs (at most kMaxChunkSamples) with the adaptive encoder into a new ChunkData. The
// result is decoded and compared before the samples' only other copy is dropped: should an
// encoding ever not round-trip, the chunk is written as Gorilla (kXor) instead, so a codec bug
// costs space, never samples.
ChunkData* EncodeClosed(std::span<const int64_t> ts, std::span<const double> vs) {
  thread_local std::string scratch;
  scratch.clear();
  // Quick planning: the block writer plans every chunk again with the full effort.
  compression::EncodeChunkWith(compression::ChunkEffort::kQuick, ts, vs, &scratch);
  if (!DecodesTo(scratch, ts, vs)) {
    assert(false && "adaptive chunk does not round-trip");
    scratch.clear();
    compression::EncodeChunkAs(compression::Encoding::kXor, ts, vs, &scratch);
  }
  return ChunkData::Make(scratch);
}

}  // namespace

ChunkData* ChunkData::Make(std::string_view bytes) {
  void* mem = ::operator new(sizeof(ChunkData) + bytes.size());
  auto* c = new (mem) ChunkData(static_cast<uint32_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(static_cast<void*>(c + 1), bytes.data(), bytes.size());
  return c;
}

void ChunkData::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~ChunkData();
    ::operator delete(static_cast<void*>(this));
  }
}

void SeriesSnapshot::Clear() {
  chunks.clear();
  open.clear();
  ooo_chunks.clear();
  ooo_ts.clear();
  ooo_vs.clear();
}

Series* Series::Create(SeriesRef ref, LabelPairs labels, uint64_t hash) {
  assert(labels.size() <= kMaxLabels);
  static_assert(sizeof(Series) % alignof(SymbolPair) == 0);
  void* mem = ::operator new(sizeof(Series) + labels.pairs().size_bytes());
  auto* s = new (mem) Series(ref, labels.size(), hash);
  if (!labels.empty()) std::memcpy(static_cast<void*>(s + 1), labels.pairs().data(), labels.pairs().size_bytes());
  return s;
}

void Series::Destroy(Series* s) {
  s->~Series();
  ::operator delete(static_cast<void*>(s));
}

Series::Series(SeriesRef ref, size_t num_labels, uint64_t hash)
    : num_labels_(static_cast<uint16_t>(num_labels)), ref_(ref), hash_(hash) {}

Series::~Series() {
  ReleaseOpenChunk();
  UnrefAll(closed_);
  if (ooo_) UnrefAll(ooo_->chunks);
}

Verdict Series::Check(int64_t t, double v, int64_t ooo_window_ms) {
  const int64_t newest = max_t_.load(std::memory_order_relaxed);
  if (t > newest) return Verdict::kInOrder;  // also true for an empty series (kMinTime)
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (t == newest) return bits == last_bits_ ? Verdict::kDuplicate : Verdict::kConflict;
  if (ooo_window_ms <= 0) return Verdict::kTooOld;
  const int64_t oldest_ok = newest >= kMinTime + ooo_window_ms ? newest - ooo_window_ms : kMinTime;
  if (t < oldest_ok) return Verdict::kTooOld;
  uint64_t existing;
  if (FindSample(t, &existing)) return existing == bits ? Verdict::kDuplicate : Verdict::kConflict;
  return Verdict::kOutOfOrder;
}

void Series::AppendInOrder(int64_t t, double v, uint32_t chunk_target, bool adaptive,
                           int64_t chunk_range_ms) {
  const int64_t prev_t = max_t_.load(std::memory_order_relaxed);
  if (has_open_) {
    if (open_ != nullptr) {
      if (t > open_->block_end) CutOpenChunk(adaptive);
    } else {
      const int64_t block_end = BlockEnd(prev_t, chunk_range_ms > 0 ? chunk_range_ms : kBlockRangeMs);
      if (t > block_end) {
        CutOpenChunk(adaptive);
      } else {
        MaterializeOpen(block_end);
      }
    }
  }
  if (has_open_) {
    AppendToOpen(t, v, prev_t, last_bits_);
  } else {
    has_open_ = true;  // a chunk of one sample: max_t_ and last_bits_
  }
  last_bits_ = std::bit_cast<uint64_t>(v);
  max_t_.store(t, std::memory_order_release);
  if (t < min_t_.load(std::memory_order_relaxed)) min_t_.store(t, std::memory_order_release);
  if (OpenSamples() >= chunk_target) CutOpenChunk(adaptive);
}

void Series::AppendOutOfOrder(int64_t t, double v, uint32_t chunk_target) {
  if (!ooo_) ooo_ = std::make_unique<OutOfOrder>();
  OutOfOrder& o = *ooo_;
  const auto pos = std::lower_bound(o.ts.begin(), o.ts.end(), t) - o.ts.begin();
  o.ts.insert(o.ts.begin() + pos, t);
  o.vs.insert(o.vs.begin() + pos, v);
  if (t < min_t_.load(std::memory_order_relaxed)) min_t_.store(t, std::memory_order_release);
  if (o.ts.size() >= chunk_target) {
    o.chunks.push_back({o.ts.front(), o.ts.back(), EncodeClosed(o.ts, o.vs)});
    o.ts = {};
    o.vs = {};
  }
}

void Series::GrowOpen(size_t need) {
  const size_t want = std::max(need, open_ != nullptr ? size_t{open_->capacity} * 2 : size_t{0});
  // glibc's chunk for n bytes is AllocSize(n), of which all but its 8-byte header is usable.
  const size_t total = AllocSize(sizeof(OpenChunk) + want) - 8;
  void* p = std::realloc(static_cast<void*>(open_), total);
  if (p == nullptr) throw std::bad_alloc();
  open_ = static_cast<OpenChunk*>(p);
  open_->capacity = static_cast<uint32_t>(total - sizeof(OpenChunk));
}

void Series::NewOpen(int64_t min_t, int64_t block_end) {
  assert(open_ == nullptr);
  GrowOpen(std::max<size_t>(open_reserve_, kFirstOpenBytes));
  const uint32_t capacity = open_->capacity;
  new (open_) OpenChunk{compression::CompactXorAppender(), min_t, block_end, 0, capacity};
  compression::SpillBuffer buf(open_->bytes(), 0, open_->capacity);
  open_->app.Start(&buf);  // capacity >= kFirstOpenBytes: nothing spills
  open_->size = static_cast<uint32_t>(buf.size());
}

void Series::MaterializeOpen(int64_t block_end) {
  assert(has_open_ && open_ == nullptr);
  NewOpen(max_t_.load(std::memory_order_relaxed), block_end);
  AppendToOpen(open_->min_t, std::bit_cast<double>(last_bits_), 0, 0);
}

void Series::TakeSpill(const compression::SpillBuffer& buf) {
  const std::string_view spill = buf.spilled();
  if (!spill.empty()) {
    const size_t old_capacity = open_->capacity;
    GrowOpen(buf.size());
    std::memcpy(open_->bytes() + old_capacity, spill.data(), spill.size());
  }
  open_->size = static_cast<uint32_t>(buf.size());
}

void Series::AppendToOpen(int64_t t, double v, int64_t prev_t, uint64_t prev_bits) {
  compression::SpillBuffer buf(open_->bytes(), open_->size, open_->capacity);
  open_->app.Append(&buf, t, v, prev_t, prev_bits);
  TakeSpill(buf);
}

std::string_view Series::FinishedOpenChunk(std::string* scratch) {
  assert(has_open_);
  if (open_ == nullptr) {
    scratch->clear();
    compression::CompactXorAppender app;
    app.Start(scratch);
    app.Append(scratch, max_t_.load(std::memory_order_relaxed), std::bit_cast<double>(last_bits_), 0,
               0);
    app.Finish(scratch);
    return *scratch;
  }
  compression::SpillBuffer buf(open_->bytes(), open_->size, open_->capacity);
  open_->app.Finish(&buf);  // the next Append() takes the padding back
  TakeSpill(buf);
  return {open_->bytes(), open_->size};
}

void Series::CutOpenChunk(bool adaptive) {
  assert(has_open_);
  thread_local std::string scratch;
  const std::string_view bytes = FinishedOpenChunk(&scratch);
  if (!adaptive) {
    closed_.push_back({OpenMinTime(), max_t_.load(std::memory_order_relaxed), ChunkData::Make(bytes)});
    ReleaseOpenChunk();
    return;
  }
  int64_t ts[kMaxChunkSamples];
  double vs[kMaxChunkSamples];
  compression::ChunkDecoder dec(bytes);
  size_t n = 0;
  for (size_t got; n < kMaxChunkSamples &&
                   (got = dec.Next(std::span(ts + n, kMaxChunkSamples - n),
                                   std::span(vs + n, kMaxChunkSamples - n))) != 0;) {
    n += got;
  }
  ChunkData* data;
  if (dec.ok() && n == OpenSamples() && n > 0) {
    data = EncodeClosed(std::span(ts, n), std::span(vs, n));
    assert(compression::ChunkDecoder(data->bytes()).num_samples() == n);
  } else {
    assert(false && "open chunk does not decode");
    data = ChunkData::Make(bytes);  // keep the Gorilla bytes as they are
  }
  closed_.push_back({OpenMinTime(), max_t_.load(std::memory_order_relaxed), data});
  ReleaseOpenChunk();
}

void Series::ReleaseOpenChunk() {
  if (open_ != nullptr) {
    open_reserve_ = static_cast<uint16_t>(std::min<size_t>(open_->size + 8, 4096));
    std::free(static_cast<void*>(open_));
    open_ = nullptr;
  }
  has_open_ = false;
}

bool Series::FindSample(int64_t t, uint64_t* bits) {
  // Closed chunks are sorted and disjoint: the first with max_t >= t is the only candidate.
  auto it = std::lower_bound(closed_.begin(), closed_.end(), t,
                             [](const ChunkMeta& c, int64_t x) { return c.max_t < x; });
  if (it != closed_.end() && it->min_t <= t) {
    if (ChunkHas(it->data->bytes(), t, bits)) return true;
  } else if (has_open_ && OpenMinTime() <= t) {
    std::string scratch;
    if (ChunkHas(FinishedOpenChunk(&scratch), t, bits)) return true;
  }
  if (ooo_) {
    auto p = std::lower_bound(ooo_->ts.begin(), ooo_->ts.end(), t);
    if (p != ooo_->ts.end() && *p == t) {
      *bits = std::bit_cast<uint64_t>(ooo_->vs[p - ooo_->ts.begin()]);
      return true;
    }
    for (const ChunkMeta& c : ooo_->chunks) {
      if (c.min_t <= t && t <= c.max_t && ChunkHas(c.data->bytes(), t, bits)) return true;
    }
  }
  return false;
}

void Series::Snapshot(int64_t min_t, int64_t max_t, SeriesSnapshot* out) {
  out->Clear();
  auto it = std::lower_bound(closed_.begin(), closed_.end(), min_t,
                             [](const ChunkMeta& c, int64_t x) { return c.max_t < x; });
  for (; it != closed_.end() && it->min_t <= max_t; ++it) out->chunks.emplace_back(*it);
  if (has_open_ && OpenMinTime() <= max_t && max_t_.load(std::memory_order_relaxed) >= min_t) {
    const std::string_view bytes = FinishedOpenChunk(&out->open);
    if (bytes.data() != out->open.data()) out->open.assign(bytes);
    out->open_min_t = OpenMinTime();
  }
  if (ooo_) {
    for (const ChunkMeta& c : ooo_->chunks) {
      if (c.min_t <= max_t && c.max_t >= min_t) out->ooo_chunks.emplace_back(c);
    }
    auto lo = std::lower_bound(ooo_->ts.begin(), ooo_->ts.end(), min_t);
    auto hi = std::upper_bound(lo, ooo_->ts.end(), max_t);
    out->ooo_ts.assign(lo, hi);
    out->ooo_vs.assign(ooo_->vs.begin() + (lo - ooo_->ts.begin()),
                       ooo_->vs.begin() + (hi - ooo_->ts.begin()));
  }
}

SeriesMemory Series::Memory() const {
  SeriesMemory m;
  m.bytes = AllocSize(sizeof(Series) + num_labels_ * sizeof(SymbolPair)) +
            AllocSize(closed_.capacity() * sizeof(ChunkMeta));
  if (open_ != nullptr) m.bytes += AllocSize(sizeof(OpenChunk) + open_->capacity);
  for (const ChunkMeta& c : closed_) m.bytes += AllocSize(c.data->AllocatedBytes());
  m.chunks = closed_.size() + (has_open_ ? 1 : 0);
  if (ooo_) {
    m.bytes += AllocSize(sizeof(OutOfOrder)) + AllocSize(ooo_->ts.capacity() * sizeof(int64_t)) +
               AllocSize(ooo_->vs.capacity() * sizeof(double)) +
               AllocSize(ooo_->chunks.capacity() * sizeof(ChunkMeta));
    for (const ChunkMeta& c : ooo_->chunks) m.bytes += AllocSize(c.data->AllocatedBytes());
    m.chunks += ooo_->chunks.size();
  }
  return m;
}

}  // namespace vigil::storage::head

namespace vigil::storage::head {

namespace {

// Re-encodes the samples of `chunk` at or after t into a new chunk; nullptr if none is left.
ChunkData* KeepFrom(const ChunkMeta& chunk, int64_t t, bool adaptive, int64_t* min_t) {
  std::vector<int64_t> ts;
  std::vector<double> vs;
  DecodeAll(chunk.data->bytes(), &ts, &vs);
  const size_t from = std::lower_bound(ts.begin(), ts.end(), t) - ts.begin();
  if (from == ts.size()) return nullptr;
  std::span<const int64_t> kt(ts.data() + from, ts.size() - from);
  std::span<const double> kv(vs.data() + from, vs.size() - from);
  *min_t = kt.front();
  if (adaptive) return EncodeClosed(kt, kv);
  std::string bytes;
  compression::EncodeChunkAs(compression::Encoding::kXor, kt, kv, &bytes);
  return ChunkData::Make(bytes);
}

// Drops the chunks of *chunks wholly before t and trims the one straddling t.
void TruncateChunks(ChunkList* chunks, int64_t t, bool adaptive) {
  size_t n = 0;
  for (ChunkMeta& c : *chunks) {
    if (c.max_t < t) {
      c.data->Unref();
      continue;
    }
    if (c.min_t < t) {
      ChunkData* kept = KeepFrom(c, t, adaptive, &c.min_t);
      c.data->Unref();
      if (kept == nullptr) continue;
      c.data = kept;
    }
    (*chunks)[n++] = c;
  }
  chunks->resize(n);
}

}  // namespace

void Series::TruncateBefore(int64_t t, bool adaptive) {
  TruncateChunks(&closed_, t, adaptive);
  if (has_open_ && max_t_.load(std::memory_order_relaxed) < t) {
    ReleaseOpenChunk();
  } else if (has_open_ && OpenMinTime() < t) {
    // Only when the chunk range is not a divisor of the flushed range: rebuild the open chunk. It
    // has a block (a one-sample chunk starts at max_t_ >= t).
    std::vector<int64_t> ts;
    std::vector<double> vs;
    DecodeAll(FinishedOpenChunk(nullptr), &ts, &vs);
    const int64_t block_end = open_->block_end;
    ReleaseOpenChunk();
    const size_t from = std::lower_bound(ts.begin(), ts.end(), t) - ts.begin();
    if (from < ts.size()) {
      has_open_ = true;  // the newest sample, at max_t_, is kept
      if (ts.size() - from > 1) {
        NewOpen(ts[from], block_end);
        for (size_t i = from; i < ts.size(); ++i) {
          AppendToOpen(ts[i], vs[i], i > from ? ts[i - 1] : 0,
                       i > from ? std::bit_cast<uint64_t>(vs[i - 1]) : 0);
        }
      }
    }
  }
  int64_t min_t = kMaxTime;
  if (!closed_.empty()) min_t = closed_.front().min_t;
  else if (has_open_) min_t = OpenMinTime();
  if (ooo_) {
    TruncateChunks(&ooo_->chunks, t, adaptive);
    const size_t from = std::lower_bound(ooo_->ts.begin(), ooo_->ts.end(), t) - ooo_->ts.begin();
    ooo_->ts.erase(ooo_->ts.begin(), ooo_->ts.begin() + from);
    ooo_->vs.erase(ooo_->vs.begin(), ooo_->vs.begin() + from);
    for (const ChunkMeta& c : ooo_->chunks) min_t = std::min(min_t, c.min_t);
    if (!ooo_->ts.empty()) min_t = std::min(min_t, ooo_->ts.front());
    if (ooo_->chunks.empty() && ooo_->ts.empty()) ooo_.reset();
  }
  min_t_.store(min_t, std::memory_order_release);
}

bool Series::Empty() const {
  return closed_.empty() && !has_open_ && (!ooo_ || (ooo_->chunks.empty() && ooo_->ts.empty()));
}

void Series::AllSamples(std::vector<int64_t>* ts, std::vector<double>* vs) {
  ts->clear();
  vs->clear();
  for (const ChunkMeta& c : closed_) DecodeAll(c.data->bytes(), ts, vs);
  if (has_open_) {
    std::string scratch;
    DecodeAll(FinishedOpenChunk(&scratch), ts, vs);
  }
  if (!ooo_) return;
  // In-order samples first, so that a stable sort keeps them ahead of out-of-order ones at equal
  // timestamps; duplicates are then dropped keeping the first.
  std::vector<std::pair<int64_t, double>> all;
  all.reserve(ts->size() + ooo_->ts.size());
  for (size_t i = 0; i < ts->size(); ++i) all.emplace_back((*ts)[i], (*vs)[i]);
  std::vector<int64_t> ot;
  std::vector<double> ov;
  for (const ChunkMeta& c : ooo_->chunks) DecodeAll(c.data->bytes(), &ot, &ov);
  ot.insert(ot.end(), ooo_->ts.begin(), ooo_->ts.end());
  ov.insert(ov.end(), ooo_->vs.begin(), ooo_->vs.end());
  for (size_t i = 0; i < ot.size(); ++i) all.emplace_back(ot[i], ov[i]);
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ts->clear();
  vs->clear();
  for (const auto& [t, v] : all) {
    if (!ts->empty() && ts->back() == t) continue;
    ts->push_back(t);
    vs->push_back(v);
  }
}

uint64_t Series::DeleteRange(int64_t min_t, int64_t max_t, uint32_t chunk_target, bool adaptive,
                             int64_t chunk_range_ms) {
  if (Empty() || min_time() > max_t || (max_time() < min_t && !ooo_)) return 0;
  std::vector<int64_t> ts;
  std::vector<double> vs;
  AllSamples(&ts, &vs);
  std::vector<int64_t> kt;
  std::vector<double> kv;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i] >= min_t && ts[i] <= max_t) continue;
    kt.push_back(ts[i]);
    kv.push_back(vs[i]);
  }
  const uint64_t removed = ts.size() - kt.size();
  if (removed == 0) return 0;
  UnrefAll(closed_);
  if (has_open_) ReleaseOpenChunk();
  if (ooo_) {
    UnrefAll(ooo_->chunks);
    ooo_.reset();
  }
  const int64_t range = chunk_range_ms > 0 ? chunk_range_ms : kBlockRangeMs;
  size_t begin = 0;
  for (size_t i = 0; i <= kt.size(); ++i) {
    const bool cut = i == kt.size() || i - begin == chunk_target ||
                     (i > begin && BlockEnd(kt[begin], range) < kt[i]);
    if (!cut || i == begin) continue;
    std::span<const int64_t> ct(kt.data() + begin, i - begin);
    std::span<const double> cv(kv.data() + begin, i - begin);
    ChunkData* data;
    if (adaptive) {
      data = EncodeClosed(ct, cv);
    } else {
      std::string bytes;
      compression::EncodeChunkAs(compression::Encoding::kXor, ct, cv, &bytes);
      data = ChunkData::Make(bytes);
    }
    closed_.push_back({ct.front(), ct.back(), data});
    begin = i;
  }
  if (kt.empty()) {
    min_t_.store(kMaxTime, std::memory_order_release);
    max_t_.store(kMinTime, std::memory_order_release);
    last_bits_ = 0;
  } else {
    min_t_.store(kt.front(), std::memory_order_release);
    max_t_.store(kt.back(), std::memory_order_release);
    last_bits_ = std::bit_cast<uint64_t>(kv.back());
  }
  return removed;
}

}  // namespace vigil::storage::head

namespace vigil::storage::head {
// The per-series budget of README.md ("Memory accounting") counts on this (glibc x86-64: malloc
// serves it with 4 labels from 128 bytes, labels included).
static_assert(sizeof(Series) <= 80, "Series grew: update storage/head/README.md's budget");
}  // namespace vigil::storage::head
