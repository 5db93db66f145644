#include "query/promqltest/mem_storage.h"

#include <algorithm>

namespace vigil::query::promqltest {
namespace {

class MemIterator final : public storage::SampleIterator {
 public:
  MemIterator(const MemStorage::Data* d, int64_t min_t, int64_t max_t) : d_(d), max_t_(max_t) {
    pos_ = std::lower_bound(d_->ts.begin(), d_->ts.end(), min_t) - d_->ts.begin();
  }
  size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
    size_t n = 0;
    while (n < ts.size() && pos_ < d_->ts.size() && d_->ts[pos_] <= max_t_) {
      ts[n] = d_->ts[pos_];
      vs[n] = d_->vs[pos_];
      ++n;
      ++pos_;
    }
    return n;
  }
  void Seek(int64_t t) override {
    size_t p = std::lower_bound(d_->ts.begin(), d_->ts.end(), t) - d_->ts.begin();
    pos_ = std::max(pos_, p);
  }
  Status status() const override { return Status::OK(); }

 private:
  const MemStorage::Data* d_;
  int64_t max_t_;
  size_t pos_ = 0;
};

using Entry = std::pair<const storage::Labels*, const MemStorage::Data*>;

class MemSeriesSet final : public storage::SeriesSet {
 public:
  MemSeriesSet(std::vector<Entry> entries, int64_t min_t, int64_t max_t)
      : entries_(std::move(entries)), min_t_(min_t), max_t_(max_t) {}
  bool Next() override { return ++pos_ < entries_.size(); }
  const storage::Labels& labels() const override { return *entries_[pos_].first; }
  std::unique_ptr<storage::SampleIterator> Samples() const override {
    return std::make_unique<MemIterator>(entries_[pos_].second, min_t_, max_t_);
  }
  Status status() const override { return Status::OK(); }

 private:
  std::vector<Entry> entries_;
  int64_t min_t_, max_t_;
  size_t pos_ = SIZE_MAX;
};

class MemQuerier final : public storage::Querier {
 public:
  MemQuerier(const std::map<storage::Labels, MemStorage::Data>* series, int64_t min_t,
             int64_t max_t)
      : series_(series), min_t_(min_t), max_t_(max_t) {}

  std::unique_ptr<storage::SeriesSet> Select(std::span<const storage::Matcher> matchers) override {
    std::vector<Entry> out;
    for (const auto& [labels, data] : *series_) {
      bool ok = true;
      for (const storage::Matcher& m : matchers) ok = ok && m.Matches(labels);
      auto it = std::lower_bound(data.ts.begin(), data.ts.end(), min_t_);
      if (ok && it != data.ts.end() && *it <= max_t_) out.emplace_back(&labels, &data);
    }
    return std::make_unique<MemSeriesSet>(std::move(out), min_t_, max_t_);
  }
  Result<std::vector<std::string>> LabelNames(std::span<const storage::Matcher>) override {
    return Status::NotSupported("LabelNames");
  }
  Result<std::vector<std::string>> LabelValues(std::string_view,
                                               std::span<const storage::Matcher>) override {
    return Status::NotSupported("LabelValues");
  }

 private:
  const std::map<storage::Labels, MemStorage::Data>* series_;
  int64_t min_t_, max_t_;
};

}  // namespace

void MemStorage::Add(const storage::Labels& labels, int64_t t, double v) {
  Data& d = series_[labels];
  if (d.ts.empty() || d.ts.back() < t) {
    d.ts.push_back(t);
    d.vs.push_back(v);
    return;
  }
  auto it = std::lower_bound(d.ts.begin(), d.ts.end(), t);
  size_t i = it - d.ts.begin();
  if (*it == t) {
    d.vs[i] = v;
    return;
  }
  d.ts.insert(it, t);
  d.vs.insert(d.vs.begin() + i, v);
}

Result<std::unique_ptr<storage::Querier>> MemStorage::Querier(int64_t min_t, int64_t max_t) {
  return std::unique_ptr<storage::Querier>(std::make_unique<MemQuerier>(&series_, min_t, max_t));
}

}  // namespace vigil::query::promqltest
