// Series identity (hash collisions), postings helpers and memory accounting.

#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/head/head.h"
#include "storage/head/postings.h"
#include "storage/head/series.h"
#include "storage/head/series_map.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Eq;
using testing::L;
using testing::ReadAll;

uint64_t CollidingHash(const Labels&) { return 42; }

TEST_CASE("head: series whose label hashes collide stay distinct", "[storage][head]") {
  HeadOptions opts;
  opts.label_hash_for_testing = &CollidingHash;
  Head head(opts);
  auto app = head.NewAppender(nullptr);
  std::vector<SeriesRef> refs;
  for (int i = 0; i < 50; ++i) {
    auto r = app->Append(L({{"__name__", "m"}, {"i", std::to_string(i)}}), 1000, i);
    REQUIRE(r.ok());
    refs.push_back(*r);
  }
  for (int i = 0; i < 50; ++i) {
    auto r = app->Append(L({{"__name__", "m"}, {"i", std::to_string(i)}}), 2000, i + 100);
    REQUIRE(r.ok());
    CHECK(*r == refs[i]);
  }
  REQUIRE(app->Commit().ok());
  CHECK(head.Stats().series == 50);
  for (int i = 0; i < 50; i += 7) {
    auto got = ReadAll(head, {Eq("i", std::to_string(i))});
    REQUIRE(got.size() == 1);
    CHECK(got[0].ts == std::vector<int64_t>{1000, 2000});
    CHECK(got[0].bits == std::vector<uint64_t>{testing::Bits(i), testing::Bits(i + 100)});
  }
  // Replay under the same colliding hash keeps them apart too.
  Head replayed(opts);
  std::vector<std::string> enc;
  for (int i = 0; i < 50; ++i) {
    enc.emplace_back(L({{"__name__", "m"}, {"i", std::to_string(i)}}).Encoded());
  }
  std::vector<wal::RefSeries> rs;
  for (int i = 0; i < 50; ++i) rs.push_back({refs[i], enc[i]});
  REQUIRE(replayed.ReplaySeries(rs).ok());
  CHECK(replayed.Stats().series == 50);
  Labels ls;
  REQUIRE(replayed.SeriesLabels(refs[17], &ls));
  CHECK(ls.Get("i") == "17");
}

TEST_CASE("head: postings set operations", "[storage][head]") {
  using V = std::vector<SeriesRef>;
  const V a{1, 3, 5, 7}, b{2, 3, 7, 9}, c{};
  CHECK(head::IntersectPostings(a, b) == V{3, 7});
  CHECK(head::SubtractPostings(a, b) == V{1, 5});
  CHECK(head::IntersectPostings(a, c).empty());
  auto list = [](const V& refs) {
    auto l = std::make_unique<head::RefList>();
    for (SeriesRef r : refs) l->Insert(r);
    return l;
  };
  const auto la = list(a), lb = list(b), ld = list({4, 9, 10});
  const head::RefList* one[] = {la.get()};
  CHECK(head::UnionPostings(one) == a);
  const head::RefList* two[] = {la.get(), lb.get()};
  CHECK(head::UnionPostings(two) == V{1, 2, 3, 5, 7, 9});
  const head::RefList* three[] = {la.get(), lb.get(), ld.get()};
  CHECK(head::UnionPostings(three) == V{1, 2, 3, 4, 5, 7, 9, 10});
  // A list holding a ref beyond 32 bits is widened in place; unions mix both widths.
  const auto lw = list({3, SeriesRef{1} << 40, 8});
  const head::RefList* mixed[] = {la.get(), lw.get()};
  CHECK(head::UnionPostings(mixed) == V{1, 3, 5, 7, 8, SeriesRef{1} << 40});
}

TEST_CASE("head: postings lists insert in order, ignore repeats, erase, widen", "[storage][head]") {
  head::RefList l;
  std::vector<SeriesRef> want;
  // Descending and repeated inserts exercise the in-place insert and the growth by a quarter.
  for (SeriesRef r = 1000; r >= 1; --r) {
    l.Insert(r * 3);
    l.Insert(r * 3);
  }
  for (SeriesRef r = 1; r <= 1000; ++r) want.push_back(r * 3);
  CHECK(std::vector<SeriesRef>(l.begin(), l.end()) == want);
  CHECK(l.AllocatedBytes() >= 1000 * sizeof(uint32_t));
  CHECK(l.AllocatedBytes() < 1000 * sizeof(uint32_t) * 5 / 4 + 64);
  l.Erase(3);
  l.Erase(4);                   // absent
  l.Erase(SeriesRef{1} << 33);  // absent and wider than the list
  want.erase(want.begin());
  CHECK(std::vector<SeriesRef>(l.begin(), l.end()) == want);
  const SeriesRef big = (SeriesRef{1} << 32) + 5;
  l.Insert(big);
  l.Insert(1);
  want.insert(want.begin(), 1);
  want.push_back(big);
  CHECK(std::vector<SeriesRef>(l.begin(), l.end()) == want);
  l.Erase(big);
  want.pop_back();
  CHECK(std::vector<SeriesRef>(l.begin(), l.end()) == want);
  head::RefList moved(std::move(l));
  CHECK(moved.size() == want.size());
  CHECK(l.empty());
}

TEST_CASE("head: postings lists of one or two refs need no allocation", "[storage][head]") {
  using V = std::vector<SeriesRef>;
  auto refs = [](const head::RefList& l) { return V(l.begin(), l.end()); };
  head::RefList l;
  l.Insert(9);
  CHECK(l.AllocatedBytes() == 0);
  l.Insert(4);
  l.Insert(9);
  CHECK(l.AllocatedBytes() == 0);
  CHECK(refs(l) == V{4, 9});
  head::RefList moved(std::move(l));  // inline refs move with the object
  CHECK(refs(moved) == V{4, 9});
  CHECK(l.empty());
  moved.Insert(6);  // the third ref leaves the object
  CHECK(moved.AllocatedBytes() == 32);
  CHECK(refs(moved) == V{4, 6, 9});
  moved.Erase(4);
  moved.Erase(9);
  CHECK(refs(moved) == V{6});
  head::RefList assigned;
  assigned.Insert(1);
  assigned = std::move(moved);
  CHECK(refs(assigned) == V{6});
  // Widening straight from the inline refs.
  head::RefList w;
  w.Insert(3);
  w.Insert(SeriesRef{1} << 40);
  w.Insert(2);
  CHECK(refs(w) == V{2, 3, SeriesRef{1} << 40});
  w.Erase(3);
  CHECK(refs(w) == V{2, SeriesRef{1} << 40});
  const head::RefList* lists[] = {&assigned, &w};
  CHECK(head::UnionPostings(lists) == V{2, 6, SeriesRef{1} << 40});
  // Inline refs are below 2^31; from there on (still 32-bit) a list takes a block.
  const SeriesRef edge = (SeriesRef{1} << 31) - 1;
  head::RefList e;
  e.Insert(edge);
  e.Insert(edge - 1);
  CHECK(e.AllocatedBytes() == 0);
  CHECK(refs(e) == V{edge - 1, edge});
  e.Erase(edge - 1);
  CHECK(refs(e) == V{edge});
  e.Insert(edge + 1);
  CHECK(e.AllocatedBytes() > 0);
  CHECK(refs(e) == V{edge, edge + 1});
  head::RefList f;
  f.Insert(edge + 2);
  CHECK(f.AllocatedBytes() > 0);
  f.Insert(5);
  f.Erase(edge + 2);
  CHECK(refs(f) == V{5});
  f.Erase(5);
  CHECK(f.empty());
  CHECK(f.begin() == f.end());
  const head::RefList* edges[] = {&e, &f, &w};
  CHECK(head::UnionPostings(edges) == V{2, edge, edge + 1, SeriesRef{1} << 40});
}

TEST_CASE("head: postings select series whose refs exceed 32 bits", "[storage][head]") {
  SymbolTable symbols;
  head::MemPostings postings(&symbols);
  const SeriesRef big = SeriesRef{1} << 35;
  for (SeriesRef ref : {big + 1, SeriesRef{7}, big, SeriesRef{2}}) {
    postings.Add(ref, InternedLabels::Intern(L({{"job", ref % 2 ? "odd" : "even"}}), &symbols));
  }
  CHECK(postings.Select({}) == std::vector<SeriesRef>{2, 7, big, big + 1});
  const std::vector<Matcher> odd{Eq("job", "odd")};
  CHECK(postings.Select(odd) == std::vector<SeriesRef>{7, big + 1});
  const std::vector<Matcher> not_odd{testing::M(MatchType::kNotEqual, "job", "odd")};
  CHECK(postings.Select(not_odd) == std::vector<SeriesRef>{2, big});
  postings.Remove(big, InternedLabels::Intern(L({{"job", "even"}}), &symbols));
  CHECK(postings.Select({}) == std::vector<SeriesRef>{2, 7, big + 1});
}

TEST_CASE("head: postings stay sorted when refs arrive out of order", "[storage][head]") {
  SymbolTable symbols;
  head::MemPostings postings(&symbols);
  for (SeriesRef ref : {5, 1, 9, 3, 9}) {
    postings.Add(ref, InternedLabels::Intern(L({{"job", ref % 2 ? "odd" : "even"}}), &symbols));
  }
  CHECK(postings.Select({}) == std::vector<SeriesRef>{1, 3, 5, 9});
  const std::vector<Matcher> odd{Eq("job", "odd")};
  CHECK(postings.Select(odd) == std::vector<SeriesRef>{1, 3, 5, 9});
}

TEST_CASE("head: postings find every label pair while the pair index grows", "[storage][head]") {
  SymbolTable symbols;
  head::MemPostings postings(&symbols);
  // Unique pod values (one list each), 7 jobs, and one name whose values are other names' values:
  // pairs that share a value id must stay apart.
  constexpr int kSeries = 5000;
  for (int i = 1; i <= kSeries; ++i) {
    postings.Add(i, InternedLabels::Intern(L({{"job", "j" + std::to_string(i % 7)},
                                              {"pod", "p" + std::to_string(i)},
                                              {"same", "p" + std::to_string(i + 1)}}),
                                           &symbols));
    if (i % 997 == 0 || i == 1 || i == 16 || i == 17) {
      // Every pair added so far is found, before and after the table's growth steps.
      for (int k = 1; k <= i; k += 1 + i / 50) {
        const std::vector<Matcher> pod{Eq("pod", "p" + std::to_string(k))};
        REQUIRE(postings.Select(pod) == std::vector<SeriesRef>{SeriesRef(k)});
        const std::vector<Matcher> same{Eq("same", "p" + std::to_string(k))};
        REQUIRE(postings.Select(same) ==
                (k >= 2 ? std::vector<SeriesRef>{SeriesRef(k - 1)} : std::vector<SeriesRef>{}));
      }
    }
  }
  const std::vector<Matcher> job{Eq("job", "j3")};
  const std::vector<SeriesRef> j3 = postings.Select(job);
  CHECK(j3.size() == kSeries / 7);
  for (SeriesRef r : j3) CHECK(r % 7 == 3);
  CHECK(postings.Select(std::vector<Matcher>{Eq("pod", "p0")}).empty());  // a value of no pair
  CHECK(postings.Select(std::vector<Matcher>{Eq("job", "p5")}).empty());  // a symbol, not under job
  CHECK(postings.Select(std::vector<Matcher>{Eq("nope", "j3")}).empty());  // an unknown name
  const std::vector<Matcher> re{testing::M(MatchType::kRegexMatch, "pod", "p12.")};
  CHECK(postings.Select(re) == std::vector<SeriesRef>{120, 121, 122, 123, 124, 125, 126, 127, 128,
                                                      129});
  postings.Remove(3, InternedLabels::Intern(L({{"job", "j3"}, {"pod", "p3"}, {"same", "p4"}}),
                                           &symbols));
  CHECK(postings.Select(std::vector<Matcher>{Eq("pod", "p3")}).empty());
  CHECK(postings.Select(job).size() == kSeries / 7 - 1);
}

TEST_CASE("head: a series keeps its labels inline, in one allocation with it", "[storage][head]") {
  SymbolTable symbols;
  const Labels ls = L({{"__name__", "hc_requests_total"}, {"instance", "10.0.0.1:8080"},
                       {"job", "svc-1"}, {"pod", "pod-1"}});
  const InternedLabels interned = InternedLabels::Intern(ls, &symbols);
  std::unique_ptr<head::Series, head::Series::Deleter> s(
      head::Series::Create(7, interned.view(), ls.Hash()));
  CHECK(s->ref() == 7);
  CHECK(s->labels() == interned.view());
  CHECK(s->labels().size() == 4);
  CHECK(s->labels().ToLabels(symbols) == ls);
  CHECK(s->labels().Equals(ls, symbols));
  CHECK(s->labels().Get("pod", symbols) == "pod-1");
  CHECK(s->labels().Hash(symbols) == ls.Hash());
  // The pairs lie right after the object: one malloc chunk for both, 80 + 4 x 8 = 112 bytes.
  CHECK(static_cast<const void*>(s->labels().pairs().data()) == static_cast<const void*>(s.get() + 1));
  CHECK(s->Memory().bytes == head::AllocSize(sizeof(head::Series) + 4 * sizeof(SymbolPair)));
  CHECK(s->Memory().bytes == 128);

  std::unique_ptr<head::Series, head::Series::Deleter> none(head::Series::Create(8, LabelPairs(), 1));
  CHECK(none->labels().empty());
  CHECK(none->labels().ToLabels(symbols).empty());
}

TEST_CASE("head: memory accounting stays within 1 KiB per series of 10 labels",
          "[storage][head]") {
  Head head(HeadOptions{});
  auto app = head.NewAppender(nullptr);
  auto labels_of = [](int i) {
    return L({{"__name__", "node_cpu_seconds_total"},
              {"cluster", "eu-west-1"},
              {"cpu", std::to_string(i % 64)},
              {"env", "prod"},
              {"instance", "10.0." + std::to_string(i / 640) + "." + std::to_string(i % 250)},
              {"job", "node"},
              {"mode", i % 2 ? "user" : "system"},
              {"namespace", "ns-" + std::to_string(i % 17)},
              {"pod", "node-exporter-" + std::to_string(i / 64)},
              {"region", "eu"}});
  };
  constexpr int kBase = 1000, kMore = 10000;
  std::vector<SeriesRef> refs;
  for (int i = 0; i < kBase + kMore; ++i) {
    if (i == kBase) REQUIRE(app->Commit().ok());
    auto r = app->Append(labels_of(i), 1'700'000'000'000, i);
    REQUIRE(r.ok());
    refs.push_back(*r);
  }
  REQUIRE(app->Commit().ok());
  const HeadStats one = head.Stats();
  CHECK(one.series == kBase + kMore);
  CHECK(one.chunks == kBase + kMore);
  CHECK(one.memory_bytes / one.series < 1024);

  for (int s = 1; s < 120; ++s) {
    for (SeriesRef r : refs) {
      REQUIRE(app->AppendByRef(r, 1'700'000'000'000 + s * 15'000, double(s * (r % 5))).ok());
    }
    REQUIRE(app->Commit().ok());
  }
  const HeadStats full = head.Stats();
  CHECK(full.samples_appended == uint64_t{kBase + kMore} * 120);
  CHECK(full.chunks == kBase + kMore);  // cut at 120: one closed chunk each, no open chunk
  CHECK(full.memory_bytes / full.series < 1024);
}

TEST_CASE("head: by-ref table keeps dense refs in an array and scattered ones aside",
          "[storage][head]") {
  // Fake series pointers: only compared, never dereferenced.
  std::vector<char> objects(64);
  auto fake = [&](size_t i) { return reinterpret_cast<head::Series*>(&objects[i]); };
  constexpr uint32_t kLow = 5;
  auto ref = [](uint64_t idx) { return idx << head::RefTable::kShift | kLow; };
  head::RefTable t;
  t.set_low_bits(kLow);
  std::map<uint64_t, head::Series*> want;
  auto check = [&] {
    CHECK(t.size() == want.size());
    std::map<uint64_t, head::Series*> got;
    t.ForEach([&](uint64_t k, head::Series* v) { got.emplace(k, v); });
    CHECK(got == want);
    for (const auto& [k, v] : want) CHECK(t.Find(k) == v);
  };
  // Dense refs, then one far beyond (FlatTable), one below the start, and refs that later fill
  // the gap up to the far one.
  for (uint64_t i = 100; i < 140; ++i) {
    t.Insert(ref(i), fake(i % 64));
    want[ref(i)] = fake(i % 64);
  }
  const size_t dense_bytes = t.AllocatedBytes();
  CHECK(dense_bytes <= head::AllocSize(64 * sizeof(void*)));
  t.Insert(ref(1'000'000), fake(1));
  want[ref(1'000'000)] = fake(1);
  t.Insert(ref(3), fake(2));
  want[ref(3)] = fake(2);
  check();
  CHECK(t.Find(ref(99)) == nullptr);
  CHECK(t.Find(ref(140)) == nullptr);
  CHECK(t.Find(ref(2'000'000)) == nullptr);
  // Remove most of the dense range: the table is rebuilt, entries survive.
  CHECK(t.RemoveIf([&](uint64_t k, head::Series*) {
          const uint64_t idx = k >> head::RefTable::kShift;
          return idx >= 100 && idx < 135;
        }) == 35);
  for (uint64_t i = 100; i < 135; ++i) want.erase(ref(i));
  check();
  // Churn: new refs keep coming after the old ones leave; the array follows them.
  for (uint64_t round = 0; round < 20; ++round) {
    for (uint64_t i = 0; i < 50; ++i) {
      const uint64_t idx = 2'000'000 + round * 50 + i;
      t.Insert(ref(idx), fake(i));
      want[ref(idx)] = fake(i);
    }
    const uint64_t old_end = 2'000'000 + round * 50;
    t.RemoveIf([&](uint64_t k, head::Series*) {
      const uint64_t idx = k >> head::RefTable::kShift;
      return idx >= 2'000'000 && idx < old_end;
    });
    for (auto it = want.begin(); it != want.end();) {
      const uint64_t idx = it->first >> head::RefTable::kShift;
      it = idx >= 2'000'000 && idx < old_end ? want.erase(it) : std::next(it);
    }
    check();
  }
  CHECK(t.AllocatedBytes() < 4096);
  CHECK(t.RemoveIf([](uint64_t, head::Series*) { return true; }) == want.size());
  want.clear();
  check();
  CHECK(t.AllocatedBytes() == 0);
}

}  // namespace
}  // namespace vigil::storage
