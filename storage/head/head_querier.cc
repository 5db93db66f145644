#include "storage/head/head_querier.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace vigil::storage::head {
namespace {

class HeadSeriesSet final : public SeriesSet {
 public:
  struct Entry {
    Labels labels;
    Series* series;
  };
  HeadSeriesSet(std::vector<Entry> entries, int64_t min_t, int64_t max_t,
                std::shared_ptr<HeadQuerier::Pins> pins, std::optional<int64_t> newest_at = std::nullopt)
      : entries_(std::move(entries)), min_t_(min_t), max_t_(max_t), pins_(std::move(pins)),
        newest_at_(newest_at) {}

  bool Next() override {
    if (next_ >= entries_.size()) return false;
    cur_ = next_++;
    return true;
  }
  const Labels& labels() const override { return entries_[cur_].labels; }
  std::unique_ptr<SampleIterator> Samples() const override {
    Series* s = entries_[cur_].series;
    if (newest_at_) {
      int64_t t = 0;
      double v = 0;
      bool newest = false;
      {
        std::lock_guard<SpinLock> lock(s->mu());
        newest = s->Newest(&t, &v) && t <= *newest_at_ && t <= max_t_;
      }
      if (newest) {
        if (t < min_t_) return std::make_unique<NewestSampleIterator>();
        return std::make_unique<NewestSampleIterator>(t, v);
      }
    }
    return std::make_unique<HeadSampleIterator>(s, min_t_, max_t_);
  }
  Status status() const override { return Status::OK(); }

 private:
  // A series' newest sample alone (or nothing).
  class NewestSampleIterator final : public SampleIterator {
   public:
    NewestSampleIterator() = default;
    NewestSampleIterator(int64_t t, double v) : t_(t), v_(v), has_(true) {}
    size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
      if (!has_ || ts.empty() || vs.empty()) return 0;
      ts[0] = t_;
      vs[0] = v_;
      has_ = false;
      return 1;
    }
    void Seek(int64_t t) override {
      if (t_ < t) has_ = false;
    }
    Status status() const override { return Status::OK(); }
    bool TimeBounds(int64_t* min_t, int64_t* max_t) const override {
      *min_t = has_ ? t_ : INT64_MAX;
      *max_t = has_ ? t_ : INT64_MIN;
      return true;
    }

   private:
    int64_t t_ = 0;
    double v_ = 0;
    bool has_ = false;
  };

  std::vector<Entry> entries_;
  const int64_t min_t_;
  const int64_t max_t_;
  std::shared_ptr<HeadQuerier::Pins> pins_;
  const std::optional<int64_t> newest_at_;
  size_t next_ = 0;
  size_t cur_ = 0;
};

}  // namespace

std::vector<Series*> HeadQuerier::Matching(std::span<const Matcher> matchers) const {
  std::vector<Series*> out;
  for (SeriesRef ref : head_->postings.Select(matchers)) {
    Series* s = head_->by_ref.Find(ref);
    if (s != nullptr && s->Overlaps(min_t_, max_t_)) out.push_back(s);
  }
  return out;
}

bool HeadQuerier::AnyInRange(const RefList& refs) const {
  for (SeriesRef ref : refs) {
    Series* s = head_->by_ref.Find(ref);
    if (s != nullptr && s->Overlaps(min_t_, max_t_)) return true;
  }
  return false;
}

std::vector<std::string> HeadQuerier::SortedStrings(std::vector<uint32_t> ids) const {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (uint32_t id : ids) out.emplace_back(head_->symbols.Lookup(id));
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The series with their labels, ordered by labels (as a SeriesSet hands them out).
std::vector<HeadSeriesSet::Entry> ByLabels(const std::vector<Series*>& series, const SymbolTable& symbols) {
  std::vector<HeadSeriesSet::Entry> entries;
  entries.reserve(series.size());
  for (Series* s : series) entries.push_back({s->labels().ToLabels(symbols), s});
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.labels < b.labels; });
  return entries;
}

}  // namespace

std::unique_ptr<SeriesSet> HeadQuerier::Select(std::span<const Matcher> matchers) {
  return std::make_unique<HeadSeriesSet>(ByLabels(Matching(matchers), head_->symbols), min_t_,
                                         max_t_, pins_);
}

std::unique_ptr<SeriesSet> HeadQuerier::SelectNewest(std::span<const Matcher> matchers, int64_t at) {
  return std::make_unique<HeadSeriesSet>(ByLabels(Matching(matchers), head_->symbols), min_t_,
                                         max_t_, pins_, at);
}

Result<std::vector<std::string>> HeadQuerier::LabelNames(std::span<const Matcher> matchers) {
  std::vector<uint32_t> ids;
  if (matchers.empty()) {
    head_->postings.VisitPairs(std::nullopt, [&](uint32_t name, uint32_t, const auto& refs) {
      if (!AnyInRange(refs)) return false;
      ids.push_back(name);
      return true;  // one value with data is enough for the name
    });
  } else {
    for (Series* s : Matching(matchers)) {
      for (const SymbolPair& p : s->labels().pairs()) ids.push_back(p.name);
    }
  }
  return SortedStrings(std::move(ids));
}

Result<std::vector<std::string>> HeadQuerier::LabelValues(std::string_view name,
                                                          std::span<const Matcher> matchers) {
  const std::optional<uint32_t> name_id = head_->symbols.Find(name);
  if (!name_id) return std::vector<std::string>{};
  std::vector<uint32_t> ids;
  if (matchers.empty()) {
    head_->postings.VisitPairs(*name_id, [&](uint32_t, uint32_t value, const auto& refs) {
      if (AnyInRange(refs)) ids.push_back(value);
      return false;
    });
  } else {
    for (Series* s : Matching(matchers)) {
      for (const SymbolPair& p : s->labels().pairs()) {
        if (p.name == *name_id) ids.push_back(p.value);
      }
    }
  }
  return SortedStrings(std::move(ids));
}

HeadSampleIterator::HeadSampleIterator(Series* series, int64_t min_t, int64_t max_t)
    : ref_(series->ref()), lo_(min_t), hi_(max_t) {
  {
    std::lock_guard<SpinLock> lock(series->mu());
    series->Snapshot(min_t, max_t, &snap_);
  }
  if (snap_.has_out_of_order()) Merge();
}

bool HeadSampleIterator::TimeBounds(int64_t* min_t, int64_t* max_t) const {
  if (merged_) return false;
  int64_t first = INT64_MAX;
  if (!snap_.chunks.empty()) {
    first = snap_.chunks.front().min_t();
  } else if (!snap_.open.empty()) {
    first = snap_.open_min_t;
  }
  *min_t = std::max(lo_, first);
  *max_t = first == INT64_MAX ? INT64_MIN : hi_;
  return true;
}

void HeadSampleIterator::Fail(std::string_view what) {
  status_ = Status::Corruption("head chunk of series ref " + std::to_string(ref_) + ": " +
                               std::string(what));
  done_ = true;
}

bool HeadSampleIterator::OpenNextSource() {
  while (next_source_ < snap_.chunks.size()) {
    const ChunkHandle& c = snap_.chunks[next_source_++];
    if (c.max_t() < lo_) continue;
    if (c.min_t() > hi_) break;
    dec_.emplace(c.bytes());
    return true;
  }
  if (next_source_ == snap_.chunks.size()) {
    ++next_source_;
    if (!snap_.open.empty()) {
      dec_.emplace(snap_.open);
      return true;
    }
  }
  done_ = true;
  return false;
}

size_t HeadSampleIterator::Next(std::span<int64_t> ts, std::span<double> vs) {
  const size_t cap = std::min(ts.size(), vs.size());
  if (merged_) {
    const size_t n = std::min(cap, merged_ts_.size() - merged_pos_);
    std::copy_n(merged_ts_.begin() + merged_pos_, n, ts.begin());
    std::copy_n(merged_vs_.begin() + merged_pos_, n, vs.begin());
    merged_pos_ += n;
    return n;
  }
  if (cap == 0) return 0;
  ts = ts.first(cap);
  vs = vs.first(cap);
  while (!done_) {
    if (!dec_ && !OpenNextSource()) break;
    const size_t n = dec_->Next(ts, vs);
    if (n == 0) {
      if (!dec_->ok()) {
        Fail("chunk does not decode");
        break;
      }
      dec_.reset();
      continue;
    }
    if (ts[0] >= lo_ && ts[n - 1] <= hi_) return n;
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = ts[i];
      if (t < lo_) continue;
      if (t > hi_) {
        done_ = true;
        break;
      }
      ts[k] = t;
      vs[k] = vs[i];
      ++k;
    }
    if (k != 0) return k;
  }
  return 0;
}

void HeadSampleIterator::Seek(int64_t t) {
  if (t <= lo_) return;
  lo_ = t;
  if (merged_) {
    const auto it = std::lower_bound(merged_ts_.begin() + merged_pos_, merged_ts_.end(), t);
    merged_pos_ = it - merged_ts_.begin();
  }
}

void HeadSampleIterator::Merge() {
  struct Sample {
    int64_t t;
    uint32_t source;  // lower wins a tie: in-order data, then out-of-order chunks, then buffer
    double v;
  };
  std::vector<Sample> all;
  int64_t ts[256];
  double vs[256];
  uint32_t source = 0;
  auto decode = [&](std::string_view bytes) {
    compression::ChunkDecoder dec(bytes);
    for (size_t n; (n = dec.Next(ts, vs)) != 0;) {
      for (size_t i = 0; i < n; ++i) {
        if (ts[i] >= lo_ && ts[i] <= hi_) all.push_back({ts[i], source, vs[i]});
      }
    }
    if (!dec.ok()) Fail("chunk does not decode");
  };
  for (const ChunkHandle& c : snap_.chunks) decode(c.bytes());
  if (!snap_.open.empty()) decode(snap_.open);
  for (const ChunkHandle& c : snap_.ooo_chunks) {
    ++source;
    decode(c.bytes());
  }
  ++source;
  for (size_t i = 0; i < snap_.ooo_ts.size(); ++i) {
    all.push_back({snap_.ooo_ts[i], source, snap_.ooo_vs[i]});
  }
  std::sort(all.begin(), all.end(), [](const Sample& a, const Sample& b) {
    return a.t != b.t ? a.t < b.t : a.source < b.source;
  });
  merged_ts_.reserve(all.size());
  merged_vs_.reserve(all.size());
  for (const Sample& s : all) {
    if (!merged_ts_.empty() && merged_ts_.back() == s.t) continue;
    merged_ts_.push_back(s.t);
    merged_vs_.push_back(s.v);
  }
  snap_.Clear();
  merged_ = true;
}

}  // namespace vigil::storage::head
