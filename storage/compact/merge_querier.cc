#include "storage/compact/merge_querier.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

namespace vigil::storage {
namespace {

// K-way merge. Each source keeps a decoded batch; the source with the smallest next timestamp
// (the earliest source on ties) is chosen, and its samples are copied as a run up to the smallest
// next timestamp of the other sources, so sources that do not overlap in time (the usual case:
// blocks and the head cover consecutive ranges) cost one comparison per sample.
class MergeSampleIterator final : public SampleIterator {
 public:
  explicit MergeSampleIterator(std::vector<std::unique_ptr<SampleIterator>> its) {
    sources_.reserve(its.size());
    for (auto& it : its) {
      sources_.emplace_back();
      sources_.back().it = std::move(it);
    }
  }

  size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
    const size_t cap = std::min(ts.size(), vs.size());
    size_t n = 0;
    while (n < cap && status_.ok()) {
      int best = -1;
      for (size_t i = 0; i < sources_.size(); ++i) {
        if (!Fill(&sources_[i])) continue;
        if (best < 0 || sources_[i].Peek() < sources_[best].Peek()) best = static_cast<int>(i);
      }
      if (best < 0) break;
      Source& b = sources_[best];
      int64_t bound = INT64_MAX;
      for (size_t i = 0; i < sources_.size(); ++i) {
        if (static_cast<int>(i) != best && sources_[i].Has()) bound = std::min(bound, sources_[i].Peek());
      }
      if (b.Peek() < bound) {
        size_t run = 0;
        const size_t most = std::min(cap - n, b.len - b.pos);
        while (run < most && b.ts[b.pos + run] < bound) ++run;
        std::copy_n(b.ts.begin() + b.pos, run, ts.begin() + n);
        std::copy_n(b.vs.begin() + b.pos, run, vs.begin() + n);
        n += run;
        b.pos += run;
        // Drained below the others' next sample: read b straight into the caller's buffers (the
        // sources of one series rarely overlap: blocks, then the head). Samples at or past bound
        // go back into b's buffer, which they fit.
        while (b.pos == b.len && !b.done && n < cap) {
          const size_t want = std::min(cap - n, kBatch);
          const size_t k = b.it->Next(ts.subspan(n, want), vs.subspan(n, want));
          if (k == 0) {
            b.pos = b.len = 0;
            b.done = true;
            if (!b.it->status().ok() && status_.ok()) status_ = b.it->status();
            break;
          }
          size_t keep = k;
          if (ts[n + k - 1] >= bound) {
            keep = static_cast<size_t>(std::lower_bound(ts.begin() + n, ts.begin() + n + k, bound) -
                                       (ts.begin() + n));
          }
          std::copy(ts.begin() + n + keep, ts.begin() + n + k, b.ts.begin());
          std::copy(vs.begin() + n + keep, vs.begin() + n + k, b.vs.begin());
          b.pos = 0;
          b.len = k - keep;
          n += keep;
        }
        continue;
      }
      // A timestamp present in several sources: the earliest source's sample, once.
      const int64_t t = b.Peek();
      ts[n] = t;
      vs[n] = b.vs[b.pos];
      ++n;
      ++b.pos;
      for (Source& s : sources_) {
        if (s.Has() && s.Peek() == t) ++s.pos;
      }
    }
    return n;
  }

  void Seek(int64_t t) override {
    for (Source& s : sources_) {
      while (s.pos < s.len && s.ts[s.pos] < t) ++s.pos;
      s.it->Seek(t);
    }
  }

  Status status() const override { return status_; }

 private:
  // Small: a source that is ahead of the others is read straight into the caller's buffer, so this
  // one holds the head of each source and what a direct read brought past the others (a query
  // allocates one per source of every series of a group).
  static constexpr size_t kBatch = 32;
  struct Source {
    std::unique_ptr<SampleIterator> it;
    std::array<int64_t, kBatch> ts;
    std::array<double, kBatch> vs;
    size_t pos = 0, len = 0;
    bool done = false;
    bool Has() const { return pos < len; }
    int64_t Peek() const { return ts[pos]; }
  };

  // Whether s has a buffered sample, refilling it if needed.
  bool Fill(Source* s) {
    if (s->pos < s->len) return true;
    if (s->done) return false;
    s->pos = 0;
    s->len = s->it->Next(s->ts, s->vs);
    if (s->len == 0) {
      s->done = true;
      if (!s->it->status().ok() && status_.ok()) status_ = s->it->status();
      return false;
    }
    return true;
  }

  std::vector<Source> sources_;
  Status status_;
};

// Sources whose time bounds do not overlap (the usual case: blocks, then the head), one after the
// other in time order, each reading straight into the caller's buffers.
class ConcatSampleIterator final : public SampleIterator {
 public:
  explicit ConcatSampleIterator(std::vector<std::unique_ptr<SampleIterator>> its) : its_(std::move(its)) {}

  size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
    const size_t cap = std::min(ts.size(), vs.size());
    size_t n = 0;
    while (n < cap && cur_ < its_.size()) {
      const size_t k = its_[cur_]->Next(ts.subspan(n, cap - n), vs.subspan(n, cap - n));
      if (k > 0) {
        n += k;
        continue;
      }
      if (!its_[cur_]->status().ok()) {
        status_ = its_[cur_]->status();
        cur_ = its_.size();
        break;
      }
      its_[cur_++].reset();  // done: its chunks and pieces go now
    }
    return n;
  }

  void Seek(int64_t t) override {
    for (size_t i = cur_; i < its_.size(); ++i) its_[i]->Seek(t);
  }

  Status status() const override { return status_; }

 private:
  std::vector<std::unique_ptr<SampleIterator>> its_;
  size_t cur_ = 0;
  Status status_;
};

// One iterator over a series' sources: their concatenation when their time bounds are known and
// do not overlap, else the k-way merge.
std::unique_ptr<SampleIterator> MergeSources(std::vector<std::unique_ptr<SampleIterator>> its) {
  if (its.size() == 1) return std::move(its[0]);
  struct Span {
    int64_t min_t, max_t;
    size_t index;
  };
  std::vector<Span> spans(its.size());
  for (size_t i = 0; i < its.size(); ++i) {
    if (!its[i]->TimeBounds(&spans[i].min_t, &spans[i].max_t)) {
      return std::make_unique<MergeSampleIterator>(std::move(its));
    }
    spans[i].index = i;
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.min_t < b.min_t; });
  for (size_t i = 1; i < spans.size(); ++i) {
    // Empty sources (min > max) sort last and overlap nothing.
    if (spans[i].min_t <= spans[i].max_t && spans[i - 1].max_t >= spans[i].min_t) {
      return std::make_unique<MergeSampleIterator>(std::move(its));
    }
  }
  std::vector<std::unique_ptr<SampleIterator>> ordered;
  ordered.reserve(its.size());
  for (const Span& s : spans) ordered.push_back(std::move(its[s.index]));
  return std::make_unique<ConcatSampleIterator>(std::move(ordered));
}

class EmptySampleIterator final : public SampleIterator {
 public:
  size_t Next(std::span<int64_t>, std::span<double>) override { return 0; }
  void Seek(int64_t) override {}
  Status status() const override { return Status::OK(); }
};

// Merges series sets ordered by labels. Children positioned on the current series are advanced
// only at the next Next(), so Samples() can ask each of them for a fresh iterator.
class MergeSeriesSet final : public SeriesSet {
 public:
  MergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets, std::shared_ptr<const void> keep_alive)
      : keep_alive_(std::move(keep_alive)) {
    for (auto& s : sets) children_.push_back({std::move(s), true, false});
  }

  bool Next() override {
    if (!status_.ok()) return false;
    for (Child& c : children_) {
      if (c.valid && (first_ || c.current)) {
        c.valid = c.set->Next();
        if (!c.valid && !c.set->status().ok()) {
          status_ = c.set->status();
          return false;
        }
      }
      c.current = false;
    }
    first_ = false;
    const Labels* min = nullptr;
    for (Child& c : children_) {
      if (c.valid && (min == nullptr || c.set->labels() < *min)) min = &c.set->labels();
    }
    if (min == nullptr) return false;
    for (Child& c : children_) {
      if (c.valid && (&c.set->labels() == min || c.set->labels() == *min)) c.current = true;
    }
    for (Child& c : children_) {
      if (c.current) {
        current_ = &c;
        break;
      }
    }
    return true;
  }

  const Labels& labels() const override { return current_->set->labels(); }

  std::unique_ptr<SampleIterator> Samples() const override {
    std::vector<std::unique_ptr<SampleIterator>> its;
    for (const Child& c : children_) {
      if (c.current) its.push_back(c.set->Samples());
    }
    return MergeSources(std::move(its));
  }

  Status status() const override { return status_; }

 private:
  struct Child {
    std::unique_ptr<SeriesSet> set;
    bool valid;
    bool current;
  };
  std::shared_ptr<const void> keep_alive_;
  std::vector<Child> children_;
  const Child* current_ = nullptr;
  bool first_ = true;
  Status status_;
};

std::vector<std::string> SortedUnion(std::vector<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (auto& l : lists) {
    for (auto& s : l) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

class MergeQuerier final : public Querier {
 public:
  MergeQuerier(std::vector<std::unique_ptr<Querier>> sources, std::shared_ptr<const void> keep_alive)
      : sources_(std::move(sources)), keep_alive_(std::move(keep_alive)) {}

  std::unique_ptr<SeriesSet> Select(std::span<const Matcher> matchers) override {
    return Merged([&](Querier& q) { return q.Select(matchers); });
  }

  std::unique_ptr<SeriesSet> SelectNewest(std::span<const Matcher> matchers, int64_t at) override {
    return Merged([&](Querier& q) { return q.SelectNewest(matchers, at); });
  }

  Result<std::vector<std::string>> LabelNames(std::span<const Matcher> matchers) override {
    std::vector<std::vector<std::string>> lists;
    for (auto& q : sources_) {
      VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> l, q->LabelNames(matchers));
      lists.push_back(std::move(l));
    }
    return SortedUnion(std::move(lists));
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name,
                                               std::span<const Matcher> matchers) override {
    std::vector<std::vector<std::string>> lists;
    for (auto& q : sources_) {
      VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> l, q->LabelValues(name, matchers));
      lists.push_back(std::move(l));
    }
    return SortedUnion(std::move(lists));
  }

 private:
  // The merge of select(source) over every source.
  template <typename F>
  std::unique_ptr<SeriesSet> Merged(F&& select) {
    std::vector<std::unique_ptr<SeriesSet>> sets;
    sets.reserve(sources_.size());
    for (auto& q : sources_) sets.push_back(select(*q));
    return std::make_unique<MergeSeriesSet>(std::move(sets), keep_alive_);
  }

  std::vector<std::unique_ptr<Querier>> sources_;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace

std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> sources,
                                         std::shared_ptr<const void> keep_alive) {
  return std::make_unique<MergeQuerier>(std::move(sources), std::move(keep_alive));
}

std::unique_ptr<SampleIterator> NewMergeSampleIterator(
    std::vector<std::unique_ptr<SampleIterator>> sources) {
  if (sources.empty()) return std::make_unique<EmptySampleIterator>();
  return MergeSources(std::move(sources));
}

}  // namespace vigil::storage
