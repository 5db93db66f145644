#include "storage/head/head.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "storage/base/clock.h"
#include "storage/head/head_appender.h"
#include "storage/head/head_querier.h"
#include "storage/head/head_state.h"

namespace vigil::storage {
namespace head {
namespace {

uint32_t ClampChunkTarget(uint32_t n) {
  if (n == 0) return 120;
  return std::min(n, kMaxChunkSamples);
}

void AtomicMin(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v < cur && !a->compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}
void AtomicMax(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v > cur && !a->compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

HeadState::HeadState(const HeadOptions& options)
    : ooo_window_ms(std::max<int64_t>(options.out_of_order_window_ms, 0)),
      chunk_target(ClampChunkTarget(options.chunk_target_samples)),
      adaptive_chunks(options.adaptive_closed_chunks),
      chunk_range_ms(options.chunk_range_ms > 0 ? options.chunk_range_ms : kBlockRangeMs),
      hash_fn(options.label_hash_for_testing),
      clock(options.clock != nullptr ? options.clock : SystemClock()),
      late_write_ms(options.late_write_ms) {}

HeadState::~HeadState() {
  by_hash.ForEach([](uint64_t, Series* s) { Series::Destroy(s); });
  for (auto& [epoch, s] : retired) Series::Destroy(s);
}

Status HeadState::TooOldForHead(const Series& s, int64_t t) const {
  return Status::OutOfRange("sample for series " + s.labels().ToLabels(symbols).ToString() +
                            " at timestamp " + std::to_string(t) +
                            " is older than the head's minimum valid time " +
                            std::to_string(min_valid_time.load(std::memory_order_relaxed)) +
                            " (that range is already persisted in blocks)");
}

Series* HeadState::FindByLabels(const Labels& ls, uint64_t hash) const {
  const SeriesMap::Stripe& stripe = by_hash.StripeOf(hash);
  std::lock_guard<SpinLock> lock(stripe.mu);
  return stripe.table.Find(hash, [&](Series* s) { return SameLabels(*s, ls); });
}

bool HeadState::SameLabels(const Series& s, const Labels& ls) const {
  // InternedLabels::Equals, with the short-string compare inlined: this runs for every Append by
  // labels, and most names and values are a few bytes long.
  auto same = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  };
  auto it = ls.begin();
  for (const SymbolPair& p : s.labels().pairs()) {
    if (it == ls.end() || !same(symbols.Lookup(p.value), it->value) ||
        !same(symbols.Lookup(p.name), it->name)) {
      return false;
    }
    ++it;
  }
  return it == ls.end();
}

Series* HeadState::GetOrCreate(const Labels& ls, uint64_t hash, bool* created) {
  *created = false;
  if (Series* s = FindByLabels(ls, hash)) return s;
  // Intern outside the stripe lock; a racing creator may win, then these ids are just unused.
  InternedLabels interned = InternedLabels::Intern(ls, &symbols);
  SeriesMap::Stripe& stripe = by_hash.StripeOf(hash);
  Series* s;
  {
    std::lock_guard<SpinLock> lock(stripe.mu);
    if (Series* found = stripe.table.Find(hash, [&](Series* c) { return c->labels() == interned.view(); })) {
      return found;
    }
    s = Series::Create(next_ref.fetch_add(1, std::memory_order_relaxed), interned.view(), hash);
    // Ref map first: whoever finds the series can resolve its ref.
    by_ref.Insert(s->ref(), s);
    stripe.table.Insert(hash, s);
  }
  // Outside the stripe lock (the postings lock may wait for a long query). Until this returns,
  // a racing appender may commit samples to the series that queries cannot find yet.
  postings.Add(s->ref(), s->labels());
  *created = true;
  return s;
}

Status HeadState::RecreateSeries(SeriesRef ref, const Labels& ls) {
  if (ref == kNoSeriesRef) {
    return Status::Corruption("wal series record with ref 0 for " + ls.ToString());
  }
  const uint64_t hash = HashOf(ls);
  SeriesMap::Stripe& stripe = by_hash.StripeOf(hash);
  std::lock_guard<SpinLock> lock(stripe.mu);
  Series* by_labels = stripe.table.Find(hash, [&](Series* s) { return SameLabels(*s, ls); });
  Series* by_ref_now = by_ref.Find(ref);
  if (by_ref_now != nullptr && by_ref_now != by_labels) {
    return Status::Corruption("wal series record: ref " + std::to_string(ref) + " names " +
                              ls.ToString() + " but was replayed as " +
                              by_ref_now->labels().ToLabels(symbols).ToString());
  }
  if (by_labels == nullptr) {
    const InternedLabels interned = InternedLabels::Intern(ls, &symbols);
    auto* s = Series::Create(ref, interned.view(), hash);
    by_ref.Insert(ref, s);
    stripe.table.Insert(hash, s);
    postings.Add(ref, s->labels());
    by_labels = s;
  } else if (by_ref_now == nullptr) {
    by_ref.Insert(ref, by_labels);  // the same labels under a second ref: an alias
    has_aliases.store(true, std::memory_order_release);
  }
  by_labels->MarkLogged();
  uint64_t next = next_ref.load(std::memory_order_relaxed);
  while (next <= ref && !next_ref.compare_exchange_weak(next, ref + 1)) {
  }
  return Status::OK();
}

void HeadState::NoteApplied(uint64_t accepted, uint64_t ooo, uint64_t rejected, int64_t min_t,
                            int64_t max_t) {
  if (accepted != 0) samples_appended.fetch_add(accepted, std::memory_order_relaxed);
  if (ooo != 0) ooo_samples.fetch_add(ooo, std::memory_order_relaxed);
  if (rejected != 0) rejected_samples.fetch_add(rejected, std::memory_order_relaxed);
  if (min_t <= max_t) {
    AtomicMin(&min_time, min_t);
    AtomicMax(&max_time, max_t);
    if (min_t < clock->NowMillis() - late_write_ms) {
      late_writes.fetch_add(1, std::memory_order_release);
    }
  }
}

Status HeadState::SampleError(const Series& s, Verdict verdict, int64_t t, int64_t newest) const {
  const std::string series = s.labels().ToLabels(symbols).ToString();
  if (verdict == Verdict::kConflict) {
    return Status::AlreadyExists("series " + series + " already has a sample at timestamp " +
                                 std::to_string(t) + " with a different value");
  }
  std::string msg = "out-of-order sample for series " + series + ": timestamp " +
                    std::to_string(t) + " is older than the series' newest sample at " +
                    std::to_string(newest);
  if (ooo_window_ms == 0) {
    msg += " and out-of-order samples are disabled";
  } else {
    msg += " by more than the out-of-order window of " + std::to_string(ooo_window_ms) + " ms";
  }
  return Status::OutOfRange(std::move(msg));
}

}  // namespace head

Head::Head(HeadOptions options) : state_(std::make_unique<head::HeadState>(options)) {}

Head::~Head() = default;

std::unique_ptr<Appender> Head::NewAppender(wal::Wal* wal) {
  return std::make_unique<head::HeadAppender>(state_.get(), wal);
}

std::unique_ptr<Querier> Head::NewQuerier(int64_t min_t, int64_t max_t) {
  return std::make_unique<head::HeadQuerier>(state_.get(), min_t, max_t);
}

Status Head::ReplaySeries(std::span<const wal::RefSeries> series) {
  for (const wal::RefSeries& rs : series) {
    Result<Labels> ls = Labels::FromEncoded(rs.labels);
    if (!ls.ok()) {
      return ls.status().WithContext("wal series record for ref " + std::to_string(rs.ref));
    }
    VIGIL_RETURN_IF_ERROR(state_->RecreateSeries(rs.ref, *ls));
  }
  return Status::OK();
}

Status Head::ReplaySamples(std::span<const wal::RefSample> samples) {
  ReplaySamplesShard(samples, 0, 1, false);
  return Status::OK();
}

void Head::ReplaySamplesShard(std::span<const wal::RefSample> samples, unsigned shard,
                              unsigned shards, bool by_series) {
  head::HeadState& h = *state_;
  uint64_t accepted = 0, ooo = 0, rejected = 0, unknown = 0;
  int64_t min_t = head::kMaxTime, max_t = head::kMinTime;
  SeriesRef last_ref = kNoSeriesRef;
  head::Series* s = nullptr;
  bool mine = true;
  const int64_t min_valid = h.min_valid_time.load(std::memory_order_relaxed);
  // Runs of 64 consecutive refs share a shard: series created one after the other sit side by
  // side in memory, and two threads writing neighbours would share cache lines.
  const auto shard_of = [shards](SeriesRef ref) { return (ref >> 6) % shards; };
  for (const wal::RefSample& rs : samples) {
    if (rs.ref != last_ref || s == nullptr) {
      last_ref = rs.ref;
      if (shards > 1 && !by_series) {
        mine = shard_of(rs.ref) == shard;
        if (!mine) continue;  // another thread's sample: not even looked up
      }
      s = h.by_ref.Find(rs.ref);
      if (s == nullptr) {
        mine = shard_of(rs.ref) == shard;  // unknown refs are counted once, by the ref's shard
      } else if (by_series) {
        mine = shard_of(s->ref()) == shard;
      }
    }
    if (!mine) continue;
    if (s == nullptr) {
      ++unknown;
      continue;
    }
    if (rs.t < min_valid) continue;  // already in a block (a flush whose checkpoint was cut short)
    std::lock_guard<head::SpinLock> lock(s->mu());
    const head::Verdict v = h.ApplyLocked(s, rs.t, rs.v, &accepted, &ooo, &rejected);
    if (v == head::Verdict::kInOrder || v == head::Verdict::kOutOfOrder) {
      min_t = std::min(min_t, rs.t);
      max_t = std::max(max_t, rs.t);
    }
  }
  h.NoteApplied(accepted, ooo, rejected, min_t, max_t);
  if (unknown != 0) h.replay_unknown_refs.fetch_add(unknown, std::memory_order_relaxed);
}

bool Head::ReplayHasAliases() const {
  return state_->has_aliases.load(std::memory_order_acquire);
}

uint64_t Head::ReplayUnknownRefSamples() const {
  return state_->replay_unknown_refs.load(std::memory_order_relaxed);
}

void Head::SetMinValidTime(int64_t t, const std::function<void()>& fn) {
  head::HeadState& h = *state_;
  h.LockCommitsExclusive();
  if (t > h.min_valid_time.load(std::memory_order_relaxed)) {
    h.min_valid_time.store(t, std::memory_order_release);
  }
  if (fn) fn();
  h.UnlockCommitsExclusive();
}

int64_t Head::MinValidTime() const { return state_->min_valid_time.load(std::memory_order_acquire); }

int64_t Head::MinTime() const {
  return std::max(state_->min_time.load(std::memory_order_relaxed), MinValidTime());
}

int64_t Head::MaxTime() const { return state_->max_time.load(std::memory_order_relaxed); }

uint64_t Head::ReaderEpoch() const { return state_->reader_epochs.current(); }

bool Head::ReadersDone(uint64_t epoch) const { return state_->reader_epochs.Quiescent(epoch); }

uint64_t Head::Truncate(int64_t t) {
  head::HeadState& h = *state_;
  std::vector<head::Series*> all;
  h.by_hash.ForEach([&](uint64_t, head::Series* s) { all.push_back(s); });
  std::vector<head::Series*> empty;
  for (head::Series* s : all) {
    std::lock_guard<head::SpinLock> lock(s->mu());
    s->TruncateBefore(t, h.adaptive_chunks);
    if (s->Empty()) empty.push_back(s);
  }
  // The head's oldest sample is at least t now; appends below t are refused.
  int64_t cur = h.min_time.load(std::memory_order_relaxed);
  while (cur < t && !h.min_time.compare_exchange_weak(cur, t, std::memory_order_relaxed)) {
  }
  uint64_t removed = 0;
  if (!empty.empty()) {
    h.LockCommitsExclusive();
    std::vector<head::Series*> gone;
    for (size_t i = 0; i < empty.size(); ++i) {
      head::Series* s = empty[i];
      {
        std::lock_guard<head::SpinLock> lock(s->mu());
        if (!s->Empty()) continue;  // a commit reached it since
        s->MarkRemoved();
      }
      h.by_hash.RemoveIf(s->hash(), [s](head::Series* c) { return c == s; });
      h.by_ref.RemoveIf(s->ref(), [s](head::Series* c) { return c == s; });
      h.postings.Remove(s->ref(), s->labels());
      gone.push_back(s);
    }
    if (!gone.empty() && h.has_aliases.load(std::memory_order_relaxed)) {
      h.by_ref.RemoveAllIf([](head::Series* c) { return c->removed(); });
    }
    h.UnlockCommitsExclusive();
    removed = gone.size();
    const uint64_t epoch = h.series_epochs.current();
    std::lock_guard<std::mutex> lock(h.retired_mu);
    for (head::Series* s : gone) h.retired.emplace_back(epoch, s);
  }
  h.series_removed.fetch_add(removed, std::memory_order_relaxed);
  FreeRetired();
  return removed;
}

void Head::FreeRetired() {
  head::HeadState& h = *state_;
  std::vector<head::Series*> free;
  {
    std::lock_guard<std::mutex> lock(h.retired_mu);
    if (h.retired.empty()) return;
    h.series_epochs.TryAdvance();
    h.series_epochs.TryAdvance();
    const uint64_t now = h.series_epochs.current();
    std::erase_if(h.retired, [&](const std::pair<uint64_t, head::Series*>& r) {
      if (r.first + 2 > now) return false;
      free.push_back(r.second);
      return true;
    });
  }
  for (head::Series* s : free) head::Series::Destroy(s);
}

Status Head::DeleteSeries(std::span<const Matcher> matchers, int64_t min_t, int64_t max_t,
                          const std::function<Status(std::span<const SeriesRef>)>& fn) {
  head::HeadState& h = *state_;
  head::EpochPin pin(&h.series_epochs);
  h.LockCommitsExclusive();
  const std::vector<SeriesRef> refs = h.postings.Select(matchers);
  Status st = fn ? fn(refs) : Status::OK();
  if (st.ok()) {
    for (SeriesRef ref : refs) {
      head::Series* s = h.by_ref.Find(ref);
      if (s == nullptr) continue;
      std::lock_guard<head::SpinLock> lock(s->mu());
      s->DeleteRange(min_t, max_t, h.chunk_target, h.adaptive_chunks, h.chunk_range_ms);
    }
    h.late_writes.fetch_add(1, std::memory_order_release);
  }
  h.UnlockCommitsExclusive();
  return st;
}

void Head::ReplayTombstones(std::span<const wal::RefTombstone> tombstones) {
  head::HeadState& h = *state_;
  for (const wal::RefTombstone& t : tombstones) {
    head::Series* s = h.by_ref.Find(t.ref);
    if (s == nullptr) continue;
    std::lock_guard<head::SpinLock> lock(s->mu());
    s->DeleteRange(t.min_t, t.max_t, h.chunk_target, h.adaptive_chunks, h.chunk_range_ms);
  }
  h.late_writes.fetch_add(1, std::memory_order_release);
}

uint64_t Head::LateWrites() const { return state_->late_writes.load(std::memory_order_acquire); }

bool Head::HasSeries(SeriesRef ref) const { return state_->by_ref.Find(ref) != nullptr; }

HeadStats Head::Stats() const {
  const head::HeadState& h = *state_;
  HeadStats st;
  h.by_hash.ForEach([&](uint64_t, head::Series* s) {
    std::lock_guard<head::SpinLock> lock(s->mu());
    const head::SeriesMemory m = s->Memory();
    st.memory_bytes += m.bytes;
    st.chunks += m.chunks;
    ++st.series;
  });
  st.memory_bytes += sizeof(Head) + head::AllocSize(sizeof(head::HeadState)) +
                     h.symbols.MemoryUsage() + h.postings.MemoryUsage() +
                     h.by_ref.MemoryUsage() + h.by_hash.MemoryUsage();
  st.samples_appended = h.samples_appended.load(std::memory_order_relaxed);
  st.out_of_order_samples = h.ooo_samples.load(std::memory_order_relaxed);
  st.rejected_samples = h.rejected_samples.load(std::memory_order_relaxed);
  st.series_removed = h.series_removed.load(std::memory_order_relaxed);
  st.min_time = h.min_time.load(std::memory_order_relaxed);
  st.max_time = h.max_time.load(std::memory_order_relaxed);
  return st;
}

std::vector<SeriesRef> Head::SeriesRefs() const {
  std::vector<SeriesRef> refs;
  state_->by_ref.ForEach([&](uint64_t ref, head::Series*) { refs.push_back(ref); });
  std::sort(refs.begin(), refs.end());
  return refs;
}

void Head::ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& fn) const {
  std::vector<std::pair<SeriesRef, head::Series*>> all;
  state_->by_ref.ForEach([&](uint64_t ref, head::Series* s) { all.emplace_back(ref, s); });
  std::sort(all.begin(), all.end());
  for (const auto& [ref, s] : all) fn(ref, s->labels().ToLabels(state_->symbols));
}

bool Head::SeriesLabels(SeriesRef ref, Labels* out) const {
  head::Series* s = state_->by_ref.Find(ref);
  if (s == nullptr) return false;
  *out = s->labels().ToLabels(state_->symbols);
  return true;
}

}  // namespace vigil::storage
