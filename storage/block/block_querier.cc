#include "storage/block/block_querier.h"

#include <algorithm>
#include <optional>
#include <set>

#include "compression/chunk.h"

namespace vigil::storage {

namespace {

bool Covered(const Intervals& deleted, int64_t min_t, int64_t max_t) {
  for (const Interval& iv : deleted) {
    if (iv.min_t <= min_t && max_t <= iv.max_t) return true;
  }
  return false;
}

// Decodes a series' chunks straight into the caller's buffers. A chunk wholly inside the range
// with nothing deleted is taken as decoded; of any other, the samples in range and not deleted
// are kept, moved down in place. Timestamps increase across chunks (they are disjoint and
// sorted), so the deleted intervals are walked with a cursor. The iterator holds no sample
// buffer of its own: a query keeps one per series it has opened.
class BlockSampleIterator final : public SampleIterator {
 public:
  BlockSampleIterator(std::shared_ptr<const BlockReader> reader, std::vector<ChunkMeta> chunks,
                      Intervals deleted, int64_t min_t, int64_t max_t)
      : reader_(std::move(reader)),
        chunks_(std::move(chunks)),
        deleted_(std::move(deleted)),
        min_t_(min_t),
        max_t_(max_t) {}

  size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
    size_t n = 0;
    const size_t cap = std::min(ts.size(), vs.size());
    while (n < cap && !done_) {
      if (!dec_) {
        OpenNextChunk();
        continue;
      }
      const size_t k = dec_->Next(ts.subspan(n, cap - n), vs.subspan(n, cap - n));
      if (k == 0) {
        if (!dec_->ok()) {
          status_ = Status::Corruption(reader_->dir() + ": chunk " + std::to_string(chunks_[next_ - 1].ref) +
                                       " does not decode");
          done_ = true;
          break;
        }
        dec_.reset();
        continue;
      }
      if (direct_) {
        n += k;
        continue;
      }
      size_t kept = n;  // never ahead of i: the move is in place
      for (size_t i = n; i < n + k; ++i) {
        const int64_t t = ts[i];
        if (t > max_t_) {
          done_ = true;
          break;
        }
        if (t >= min_t_ && !Deleted(t)) {
          ts[kept] = t;
          vs[kept] = vs[i];
          ++kept;
        }
      }
      n = kept;
    }
    return n;
  }

  void Seek(int64_t t) override {
    if (t > min_t_) {
      min_t_ = t;
      direct_ = false;  // the open chunk may start before t
    }
  }
  Status status() const override { return status_; }
  bool TimeBounds(int64_t* min_t, int64_t* max_t) const override {
    if (chunks_.empty()) {
      *min_t = INT64_MAX;
      *max_t = INT64_MIN;
      return true;
    }
    *min_t = std::max(min_t_, chunks_.front().min_t);
    *max_t = std::min(max_t_, chunks_.back().max_t);
    return true;
  }

 private:
  bool Deleted(int64_t t) {
    while (del_ < deleted_.size() && deleted_[del_].max_t < t) ++del_;
    return del_ < deleted_.size() && deleted_[del_].min_t <= t;
  }

  // Opens the next chunk that overlaps the range and is not wholly deleted into dec_ (leaves
  // dec_ empty after a wholly deleted one); sets done_ at the end or on error.
  void OpenNextChunk() {
    while (next_ < chunks_.size() && chunks_[next_].max_t < min_t_) ++next_;
    if (next_ == chunks_.size() || chunks_[next_].min_t > max_t_) {
      done_ = true;
      return;
    }
    const ChunkMeta& c = chunks_[next_++];
    if (Covered(deleted_, c.min_t, c.max_t)) return;
    Result<block::ChunkData> data = reader_->Chunk(c.ref);
    if (!data.ok()) {
      status_ = data.status();
      done_ = true;
      return;
    }
    piece_ = std::move(data->piece);  // keeps the bytes dec_ reads alive
    dec_.emplace(data->bytes);
    direct_ = deleted_.empty() && c.min_t >= min_t_ && c.max_t <= max_t_;
  }

  std::shared_ptr<const BlockReader> reader_;
  std::vector<ChunkMeta> chunks_;
  Intervals deleted_;
  int64_t min_t_, max_t_;
  size_t next_ = 0, del_ = 0;
  std::shared_ptr<const std::string> piece_;  // owner of dec_'s bytes (compressed segments)
  std::optional<compression::ChunkDecoder> dec_;
  bool done_ = false;
  bool direct_ = false;  // dec_'s chunk lies in [min_t_, max_t_] and nothing is deleted
  Status status_;
};

class BlockSeriesSet final : public SeriesSet {
 public:
  BlockSeriesSet(std::shared_ptr<const BlockReader> reader, Result<PostingsList> ids, int64_t min_t,
                 int64_t max_t)
      : reader_(std::move(reader)), tombstones_(reader_->tombstones()), min_t_(min_t), max_t_(max_t) {
    if (ids.ok()) {
      ids_ = std::move(ids).value();
    } else {
      status_ = ids.status();
    }
  }

  bool Next() override {
    while (status_.ok() && pos_ < ids_.size()) {
      const BlockSeriesId id = ids_[pos_++];
      Status st = reader_->index().Series(id, &labels_, &chunks_);
      if (!st.ok()) {
        status_ = st;
        return false;
      }
      auto it = tombstones_->find(id);
      deleted_ = it == tombstones_->end() ? Intervals() : it->second;
      std::erase_if(chunks_, [this](const ChunkMeta& c) {
        return c.max_t < min_t_ || c.min_t > max_t_ || Covered(deleted_, c.min_t, c.max_t);
      });
      if (!chunks_.empty()) return true;
    }
    return false;
  }

  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SampleIterator> Samples() const override {
    return std::make_unique<BlockSampleIterator>(reader_, chunks_, deleted_, min_t_, max_t_);
  }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<const BlockReader> reader_;
  std::shared_ptr<const TombstoneMap> tombstones_;
  int64_t min_t_, max_t_;
  PostingsList ids_;
  size_t pos_ = 0;
  Labels labels_;
  std::vector<ChunkMeta> chunks_;
  Intervals deleted_;
  Status status_;
};

class BlockQuerier final : public Querier {
 public:
  BlockQuerier(std::shared_ptr<const BlockReader> reader, int64_t min_t, int64_t max_t)
      : reader_(std::move(reader)), min_t_(min_t), max_t_(max_t) {}

  std::unique_ptr<SeriesSet> Select(std::span<const Matcher> matchers) override {
    return std::make_unique<BlockSeriesSet>(reader_, reader_->index().PostingsForMatchers(matchers), min_t_, max_t_);
  }

  Result<std::vector<std::string>> LabelNames(std::span<const Matcher> matchers) override {
    if (matchers.empty() && CoversBlock()) {
      std::vector<std::string> out;
      for (std::string_view n : reader_->index().LabelNames()) out.emplace_back(n);
      return out;
    }
    std::set<std::string, std::less<>> names;
    VIGIL_RETURN_IF_ERROR(ForEachSeries(matchers, [&](const Labels& ls) {
      for (const Label& l : ls) {
        if (names.find(l.name) == names.end()) names.emplace(l.name);
      }
    }));
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name, std::span<const Matcher> matchers) override {
    if (matchers.empty() && CoversBlock()) {
      VIGIL_ASSIGN_OR_RETURN(std::vector<std::string_view> values, reader_->index().LabelValues(name));
      return std::vector<std::string>(values.begin(), values.end());
    }
    std::set<std::string, std::less<>> values;
    VIGIL_RETURN_IF_ERROR(ForEachSeries(matchers, [&](const Labels& ls) {
      const std::string_view v = ls.Get(name);
      if (!v.empty() && values.find(v) == values.end()) values.emplace(v);
    }));
    return std::vector<std::string>(values.begin(), values.end());
  }

 private:
  // Whether the querier's range covers the whole block, so the index's lists answer directly.
  bool CoversBlock() const {
    const BlockMeta& m = reader_->meta();
    return min_t_ <= m.min_time && m.max_time - 1 <= max_t_ && reader_->tombstones()->empty();
  }

  template <typename Fn>
  Status ForEachSeries(std::span<const Matcher> matchers, Fn fn) {
    BlockSeriesSet set(reader_, reader_->index().PostingsForMatchers(matchers), min_t_, max_t_);
    while (set.Next()) fn(set.labels());
    return set.status();
  }

  std::shared_ptr<const BlockReader> reader_;
  int64_t min_t_, max_t_;
};

}  // namespace

std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<const BlockReader> reader, int64_t min_t, int64_t max_t) {
  return std::make_unique<BlockQuerier>(std::move(reader), min_t, max_t);
}

}  // namespace vigil::storage
