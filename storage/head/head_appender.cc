#include "storage/head/head_appender.h"

#include <algorithm>
#include <mutex>
#include <string_view>

#include "storage/wal/wal.h"

namespace vigil::storage::head {

Result<SeriesRef> HeadAppender::Append(const Labels& labels, int64_t t, double v) {
  if (!pin_.active()) pin_ = EpochPin(&head_->series_epochs);
  const uint64_t hash = head_->HashOf(labels);
  Series* s = head_->FindByLabels(labels, hash);
  if (s == nullptr) {
    // Only new label sets are validated: an existing series' labels were checked at creation.
    VIGIL_RETURN_IF_ERROR(labels.Validate());
    bool created;
    s = head_->GetOrCreate(labels, hash, &created);
  }
  VIGIL_RETURN_IF_ERROR(Add(s, t, v));
  return s->ref();
}

Status HeadAppender::AppendByRef(SeriesRef ref, int64_t t, double v) {
  if (!pin_.active()) pin_ = EpochPin(&head_->series_epochs);
  Series* s = head_->by_ref.Find(ref);
  if (s == nullptr) {
    return Status::NotFound("series ref " + std::to_string(ref) + " is not in the head");
  }
  return Add(s, t, v);
}

Status HeadAppender::Add(Series* s, int64_t t, double v) {
  if (t < head_->min_valid_time.load(std::memory_order_relaxed)) [[unlikely]] {
    return head_->TooOldForHead(*s, t);
  }
  // Common case: newer than everything committed, decided without the series lock. Commit checks
  // again under the lock, since other appenders may commit first.
  if (t <= s->max_time()) {
    Verdict verdict;
    int64_t newest;
    {
      std::lock_guard<SpinLock> lock(s->mu());
      verdict = s->Check(t, v, head_->ooo_window_ms);
      newest = s->max_time();
    }
    if (verdict == Verdict::kDuplicate) return Status::OK();
    if (verdict == Verdict::kTooOld || verdict == Verdict::kConflict) {
      return head_->SampleError(*s, verdict, t, newest);
    }
  }
  if (!s->logged() && (unlogged_.empty() || unlogged_.back() != s)) unlogged_.push_back(s);
  samples_.push_back(wal::RefSample{s->ref(), t, v});
  series_.push_back(s);
  return Status::OK();
}

Status HeadAppender::Commit() {
  rejections_ = CommitRejections{};
  if (samples_.empty()) {
    // Series created without samples stay unlogged; a later batch with samples logs them.
    Clear();
    return Status::OK();
  }
  head_->LockCommitsShared();
  Revalidate();
  if (wal_ != nullptr && !samples_.empty()) {
    Status st = LogBatch();
    if (!st.ok()) {
      head_->commit_mu.unlock_shared();
      Clear();  // nothing of the batch becomes visible
      return st;
    }
  }
  for (Series* s : unlogged_) s->MarkLogged();
  Apply();
  head_->commit_mu.unlock_shared();
  Clear();
  return Status::OK();
}

void HeadAppender::Revalidate() {
  const int64_t min_valid = head_->min_valid_time.load(std::memory_order_acquire);
  bool any = false;
  for (size_t i = 0; i < samples_.size(); ++i) {
    any |= samples_[i].t < min_valid || series_[i]->removed();
  }
  if (!any) [[likely]] return;
  uint64_t rejected = 0;
  size_t n = 0;
  Series* last_old = nullptr;
  Series* last_new = nullptr;
  for (size_t i = 0; i < samples_.size(); ++i) {
    if (samples_[i].t < min_valid) {
      if (rejected++ == 0) rejections_.first = head_->TooOldForHead(*series_[i], samples_[i].t);
      continue;
    }
    Series* s = series_[i];
    if (s->removed()) {
      if (s != last_old) {
        const Labels ls = s->labels().ToLabels(head_->symbols);
        bool created;
        last_new = head_->GetOrCreate(ls, head_->HashOf(ls), &created);
        last_old = s;
        if (!last_new->logged()) unlogged_.push_back(last_new);
      }
      s = last_new;
    }
    samples_[n] = samples_[i];
    samples_[n].ref = s->ref();
    series_[n] = s;
    ++n;
  }
  samples_.resize(n);
  series_.resize(n);
  std::erase_if(unlogged_, [](Series* s) { return s->removed(); });
  if (rejected != 0) head_->rejected_samples.fetch_add(rejected, std::memory_order_relaxed);
  rejections_.count += rejected;
}

Status HeadAppender::LogBatch() {
  // Series records for the batch's series that nobody has logged yet (created by this appender or
  // by one that has not committed); logging one twice is harmless, replay is idempotent.
  std::sort(unlogged_.begin(), unlogged_.end(),
            [](const Series* a, const Series* b) { return a->ref() < b->ref(); });
  unlogged_.erase(std::unique(unlogged_.begin(), unlogged_.end()), unlogged_.end());
  std::erase_if(unlogged_, [](Series* s) { return s->logged(); });

  std::string_view records[2];
  size_t n = 0;
  if (!unlogged_.empty()) {
    label_bytes_.clear();
    label_ends_.clear();
    for (Series* s : unlogged_) {
      label_views_.clear();
      for (const SymbolPair& p : s->labels().pairs()) {
        label_views_.push_back({head_->symbols.Lookup(p.name), head_->symbols.Lookup(p.value)});
      }
      wal::EncodeLabelPairs(label_views_, &label_bytes_);
      label_ends_.push_back(label_bytes_.size());
    }
    ref_series_.clear();
    size_t begin = 0;
    for (size_t i = 0; i < unlogged_.size(); ++i) {
      ref_series_.push_back({unlogged_[i]->ref(),
                             std::string_view(label_bytes_).substr(begin, label_ends_[i] - begin)});
      begin = label_ends_[i];
    }
    series_record_.clear();
    wal::EncodeSeries(ref_series_, &series_record_);
    records[n++] = series_record_;
  }
  samples_record_.clear();
  wal::EncodeSamples(samples_, &samples_record_);
  records[n++] = samples_record_;
  return wal_->Log(std::span<const std::string_view>(records, n));
}

void HeadAppender::Apply() {
  uint64_t accepted = 0, ooo = 0, rejected = 0;
  int64_t min_t = kMaxTime, max_t = kMinTime;
  const uint32_t target = head_->chunk_target;
  const bool adaptive = head_->adaptive_chunks;
  Series* locked = nullptr;
  FirstRejected first;
  for (size_t i = 0; i < samples_.size(); ++i) {
    Series* s = series_[i];
    if (s != locked) {
      if (locked != nullptr) locked->mu().unlock();
      s->mu().lock();
      locked = s;
    }
    const int64_t t = samples_[i].t;
    const double v = samples_[i].v;
    // Inline fast path of HeadState::ApplyLocked for in-order samples.
    if (t > s->max_time()) {
      s->AppendInOrder(t, v, target, adaptive, head_->chunk_range_ms);
      ++accepted;
    } else {
      const int64_t newest = s->max_time();
      const Verdict verdict = head_->ApplyLocked(s, t, v, &accepted, &ooo, &rejected);
      if (verdict == Verdict::kTooOld || verdict == Verdict::kConflict) {
        if (first.series == nullptr) first = {s, verdict, t, newest};
        continue;
      }
      if (verdict != Verdict::kOutOfOrder) continue;  // a duplicate: already there
    }
    min_t = std::min(min_t, t);
    max_t = std::max(max_t, t);
  }
  if (locked != nullptr) locked->mu().unlock();
  head_->NoteApplied(accepted, ooo, rejected, min_t, max_t);
  if (rejected != 0) {
    if (rejections_.count == 0) {
      rejections_.first = head_->SampleError(*first.series, first.verdict, first.t, first.newest);
    }
    rejections_.count += rejected;
  }
}

void HeadAppender::Rollback() { Clear(); }

void HeadAppender::Clear() {
  samples_.clear();
  series_.clear();
  unlogged_.clear();
  pin_.Reset();
}

}  // namespace vigil::storage::head
