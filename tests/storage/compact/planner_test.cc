#include "storage/compact/planner.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "storage/compact/merge_querier.h"

namespace vigil::storage {
namespace {

constexpr int64_t kH = 3600 * 1000;

BlockMeta M(const std::string& id, int64_t min_t, int64_t max_t) {
  BlockMeta m;
  m.id = id;
  m.min_time = min_t;
  m.max_time = max_t;
  return m;
}

std::vector<std::string> Plan(const std::vector<BlockMeta>& blocks, bool force = false,
                              int64_t retention = 0) {
  std::vector<const BlockMeta*> ptrs;
  for (const BlockMeta& b : blocks) ptrs.push_back(&b);
  const std::vector<int64_t> ranges = CompactionRanges(2 * kH, retention);
  std::vector<std::string> ids;
  for (size_t i : PlanCompaction(ptrs, ranges, force)) ids.push_back(blocks[i].id);
  return ids;
}

TEST_CASE("compaction ranges grow 2h, 6h, 24h, 72h ... up to 10% of retention", "[storage][compaction]") {
  CHECK(CompactionRanges(2 * kH, 0) == std::vector<int64_t>{2 * kH, 6 * kH, 24 * kH, 72 * kH, 216 * kH, 648 * kH});
  CHECK(CompactionRanges(2 * kH, 15 * 24 * kH) == std::vector<int64_t>{2 * kH, 6 * kH, 24 * kH});
  CHECK(CompactionRanges(2 * kH, 10 * kH) == std::vector<int64_t>{2 * kH});
}

TEST_CASE("the planner merges overlaps first, then full level ranges", "[storage][compaction]") {
  // Three 2 h blocks of the first 6 h range, and a fourth in the next range: the 6 h range ended
  // before the newest block's end, so its three blocks merge.
  std::vector<BlockMeta> b = {M("A", 0, 2 * kH), M("B", 2 * kH, 4 * kH), M("C", 4 * kH, 6 * kH),
                              M("D", 6 * kH, 8 * kH)};
  CHECK(Plan(b) == std::vector<std::string>{"A", "B", "C"});
  // The range holding the newest block stays alone until it is complete, unless forced.
  std::vector<BlockMeta> recent = {M("C", 4 * kH, 6 * kH), M("D", 6 * kH, 8 * kH), M("E", 8 * kH, 10 * kH)};
  CHECK(Plan(recent).empty());
  CHECK(Plan(recent, /*force=*/true) == std::vector<std::string>{"D", "E"});
  // Overlapping blocks come first, transitively.
  b.push_back(M("F", 1 * kH, 3 * kH));
  b.push_back(M("G", 2 * kH + 5, 2 * kH + 9));
  CHECK(Plan(b) == std::vector<std::string>{"A", "F", "B", "G"});
  // A single block per range: nothing to do.
  CHECK(Plan({M("A", 0, 6 * kH), M("B", 6 * kH, 12 * kH)}).empty());
}

class VecIterator final : public SampleIterator {
 public:
  // With `bounds`, TimeBounds() reports the first and last timestamps, as block and head
  // iterators do.
  VecIterator(std::vector<int64_t> ts, double v, bool bounds = false)
      : ts_(std::move(ts)), v_(v), bounds_(bounds) {}
  size_t Next(std::span<int64_t> ts, std::span<double> vs) override {
    size_t n = 0;
    while (n < ts.size() && pos_ < ts_.size()) {
      if (ts_[pos_] >= lo_) {
        ts[n] = ts_[pos_];
        vs[n] = v_;
        ++n;
      }
      ++pos_;
    }
    return n;
  }
  void Seek(int64_t t) override { lo_ = std::max(lo_, t); }
  Status status() const override { return Status::OK(); }
  bool TimeBounds(int64_t* min_t, int64_t* max_t) const override {
    if (!bounds_) return false;
    *min_t = ts_.empty() ? INT64_MAX : std::max(lo_, ts_.front());
    *max_t = ts_.empty() ? INT64_MIN : ts_.back();
    return true;
  }

 private:
  std::vector<int64_t> ts_;
  double v_;
  bool bounds_;
  size_t pos_ = 0;
  int64_t lo_ = INT64_MIN;
};

TEST_CASE("the k-way merge yields each timestamp once, earliest source first", "[storage][compaction]") {
  std::vector<std::unique_ptr<SampleIterator>> its;
  std::vector<int64_t> a, b, c;
  for (int64_t t = 0; t < 500; t += 2) a.push_back(t);
  for (int64_t t = 0; t < 300; t += 3) b.push_back(t);
  for (int64_t t = 1000; t < 1200; ++t) c.push_back(t);
  its.push_back(std::make_unique<VecIterator>(a, 1));
  its.push_back(std::make_unique<VecIterator>(b, 2));
  its.push_back(std::make_unique<VecIterator>(c, 3));
  auto m = NewMergeSampleIterator(std::move(its));
  m->Seek(10);
  std::vector<std::pair<int64_t, double>> got;
  int64_t ts[7];
  double vs[7];
  while (size_t n = m->Next(ts, vs)) {
    for (size_t i = 0; i < n; ++i) got.push_back({ts[i], vs[i]});
  }
  CHECK(m->status().ok());
  std::vector<std::pair<int64_t, double>> want;
  for (int64_t t = 10; t < 500; ++t) {
    if (t % 2 == 0) want.push_back({t, 1});
    else if (t % 3 == 0 && t < 300) want.push_back({t, 2});
  }
  for (int64_t t = 1000; t < 1200; ++t) want.push_back({t, 3});
  CHECK(got == want);
}

// Sources that mostly follow each other in time (blocks, then the head) are read straight into the
// caller's buffer, and what a read brings past the other sources' next sample is put back: every
// output batch size must give what a map of earliest-source-wins answers.
//
// Sources that report their time bounds (as block and head iterators do) and do not overlap are
// read one after the other in time order, whatever their order in the list (the head comes first):
// half the rounds give bounds, and the time ranges are dealt to the sources in a random order.
TEST_CASE("the k-way merge agrees with a reference over random sources and batch sizes", "[storage][compaction]") {
  std::mt19937_64 rng(5);
  int concatenated = 0;
  for (int round = 0; round < 400; ++round) {
    const int sources = 1 + static_cast<int>(rng() % 4);
    std::vector<std::vector<int64_t>> ranges(static_cast<size_t>(sources));
    int64_t start = 0;
    bool overlap = false;
    for (int s = 0; s < sources; ++s) {
      // Consecutive ranges usually, overlapping (the previous source's tail) sometimes.
      if (rng() % 3 == 0) {
        start -= static_cast<int64_t>(rng() % 400);
        overlap = true;
      }
      const int64_t n = static_cast<int64_t>(rng() % 900);
      int64_t t = start;
      for (int64_t k = 0; k < n; ++k) {
        t += 1 + static_cast<int64_t>(rng() % 3);
        ranges[static_cast<size_t>(s)].push_back(t);
      }
      start = t + 1;
    }
    std::vector<std::vector<int64_t>> ts = ranges;
    if (rng() % 2 == 0) std::shuffle(ts.begin(), ts.end(), rng);
    std::map<int64_t, double> want;
    for (int s = 0; s < sources; ++s) {
      for (int64_t t : ts[static_cast<size_t>(s)]) want.emplace(t, s + 1);  // the earliest source keeps a timestamp
    }
    const bool bounds = rng() % 2 == 0;
    if (bounds && !overlap) ++concatenated;
    const int64_t seek = rng() % 4 == 0 ? static_cast<int64_t>(rng() % 500) : INT64_MIN;
    std::vector<std::unique_ptr<SampleIterator>> its;
    for (int s = 0; s < sources; ++s) {
      its.push_back(std::make_unique<VecIterator>(ts[static_cast<size_t>(s)], s + 1, bounds));
    }
    auto m = NewMergeSampleIterator(std::move(its));
    if (seek != INT64_MIN) m->Seek(seek);
    const size_t batch = std::vector<size_t>{1, 7, 127, 128, 129, 512, 1000}[rng() % 7];
    std::vector<int64_t> bt(batch);
    std::vector<double> bv(batch);
    std::vector<std::pair<int64_t, double>> got;
    while (size_t n = m->Next(bt, bv)) {
      for (size_t i = 0; i < n; ++i) got.push_back({bt[i], bv[i]});
    }
    REQUIRE(m->status().ok());
    std::vector<std::pair<int64_t, double>> expected;
    for (const auto& [t, v] : want) {
      if (t >= seek) expected.push_back({t, v});
    }
    INFO("round " << round << ", " << sources << " sources, batch " << batch << (bounds ? ", bounds" : ""));
    REQUIRE(got == expected);
  }
  CHECK(concatenated > 50);
}

}  // namespace
}  // namespace vigil::storage
