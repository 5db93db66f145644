#include "storage/symbol_table.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vigil::storage {
namespace {

TEST_CASE("Interning gives one id per distinct string", "[storage][symbols]") {
  SymbolTable t;
  const uint32_t up = t.Intern("up");
  const uint32_t job = t.Intern("job");
  CHECK(up != job);
  CHECK(t.Intern("up") == up);
  CHECK(t.Intern(std::string("j") + "ob") == job);
  CHECK(t.Lookup(up) == "up");
  CHECK(t.Lookup(job) == "job");
  CHECK(t.size() == 2);

  const uint32_t empty = t.Intern("");
  CHECK(t.Lookup(empty).empty());
  CHECK(t.Intern("") == empty);
  CHECK(t.Intern(std::string("a\0b", 3)) != t.Intern("a"));
  CHECK(t.Lookup(t.Intern(std::string("a\0b", 3))) == std::string("a\0b", 3));
}

TEST_CASE("Find does not add symbols", "[storage][symbols]") {
  SymbolTable t;
  CHECK_FALSE(t.Find("x").has_value());
  CHECK(t.size() == 0);
  const uint32_t x = t.Intern("x");
  REQUIRE(t.Find("x").has_value());
  CHECK(*t.Find("x") == x);
  CHECK_FALSE(t.Find("y").has_value());
}

TEST_CASE("Many symbols: every one found, absent ones not (hash tags collide)",
          "[storage][symbols]") {
  // 4-bit hash tags: about one probed slot in 16 has the tag of a different string, which the
  // string compare must reject.
  SymbolTable t;
  constexpr int kN = 100000;
  std::vector<uint32_t> ids;
  for (int i = 0; i < kN; ++i) ids.push_back(t.Intern("pod-" + std::to_string(i)));
  CHECK(t.size() == kN);
  for (int i = 0; i < kN; ++i) {
    const std::string s = "pod-" + std::to_string(i);
    REQUIRE(t.Find(s) == ids[i]);
    REQUIRE(t.Intern(s) == ids[i]);
    REQUIRE(t.Lookup(ids[i]) == s);
    REQUIRE_FALSE(t.Find("pod-" + std::to_string(i + kN)).has_value());
  }
  CHECK(t.size() == kN);
}

TEST_CASE("Large strings (own allocations) and arena blocks mixed", "[storage][symbols]") {
  SymbolTable t;
  std::vector<std::string> strs;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 3000; ++i) {
    // Every 100th string is larger than a quarter of the largest block (16 KiB), some larger than
    // a whole block (64 KiB); the rest fill many blocks.
    std::string s = std::to_string(i) + ":";
    if (i % 100 == 0) s.append(i % 300 == 0 ? 70000 + i : 16385 + i, static_cast<char>('a' + i % 26));
    else s.append(i % 50, 'x');
    ids.push_back(t.Intern(s));
    strs.push_back(std::move(s));
  }
  for (size_t i = 0; i < strs.size(); ++i) {
    REQUIRE(t.Lookup(ids[i]) == strs[i]);
    REQUIRE(t.Find(strs[i]) == ids[i]);
  }
  CHECK(t.MemoryUsage() > 30 * 16385);
}

TEST_CASE("Views stay valid while the table grows", "[storage][symbols]") {
  SymbolTable t;
  std::vector<std::string_view> views;
  std::vector<uint32_t> ids;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const std::string s = "value_" + std::to_string(i);
    ids.push_back(t.Intern(s));
    views.push_back(t.Lookup(ids.back()));
  }
  // Strings larger than an arena block and of two-byte varint length.
  const std::string big(200000, 'b');
  const std::string mid(300, 'm');
  const uint32_t big_id = t.Intern(big);
  const uint32_t mid_id = t.Intern(mid);
  CHECK(t.Lookup(big_id) == big);
  CHECK(t.Lookup(mid_id) == mid);
  CHECK(t.size() == kN + 2);
  for (int i = 0; i < kN; ++i) {
    const std::string s = "value_" + std::to_string(i);
    REQUIRE(views[i] == s);
    REQUIRE(t.Lookup(ids[i]) == s);
    REQUIRE(t.Intern(s) == ids[i]);
  }
  // Overhead per symbol beyond the string bytes (see symbol_table.h).
  size_t string_bytes = big.size() + mid.size();
  for (int i = 0; i < kN; ++i) string_bytes += views[i].size();
  const double overhead = double(t.MemoryUsage() - string_bytes) / (kN + 2);
  INFO("bytes of overhead per symbol: " << overhead);
  CHECK(overhead < 48);
}

TEST_CASE("Concurrent interning agrees on ids", "[storage][symbols]") {
  SymbolTable t;
  constexpr int kThreads = 8;
  constexpr int kDistinct = 20000;
  std::vector<std::vector<uint32_t>> ids(kThreads, std::vector<uint32_t>(kDistinct));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      while (!go.load()) std::this_thread::yield();
      // Each thread walks the same strings from a different start so inserts race.
      for (int k = 0; k < kDistinct; ++k) {
        const int i = (k + w * kDistinct / kThreads) % kDistinct;
        const std::string s = "sym" + std::to_string(i);
        const uint32_t id = t.Intern(s);
        ids[w][i] = id;
        if (t.Lookup(id) != s) std::abort();
      }
    });
  }
  go.store(true);
  for (auto& th : threads) th.join();
  CHECK(t.size() == kDistinct);
  std::unordered_map<uint32_t, int> seen;
  for (int i = 0; i < kDistinct; ++i) {
    for (int w = 1; w < kThreads; ++w) REQUIRE(ids[w][i] == ids[0][i]);
    REQUIRE(seen.emplace(ids[0][i], i).second);
    REQUIRE(t.Lookup(ids[0][i]) == "sym" + std::to_string(i));
  }
}

TEST_CASE("Lookups run concurrently with inserts", "[storage][symbols]") {
  SymbolTable t;
  constexpr int kN = 50000;
  std::vector<std::atomic<uint32_t>> published(kN);
  std::atomic<int> done{0};
  std::thread writer([&] {
    for (int i = 0; i < kN; ++i) {
      published[i].store(t.Intern("w" + std::to_string(i)) + 1, std::memory_order_release);
    }
    done.store(1);
  });
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (done.load() == 0) {
        for (int i = 0; i < kN; i += 97) {
          const uint32_t id = published[i].load(std::memory_order_acquire);
          if (id != 0 && t.Lookup(id - 1) != "w" + std::to_string(i)) bad.fetch_add(1);
        }
      }
    });
  }
  writer.join();
  for (auto& th : readers) th.join();
  CHECK(bad.load() == 0);
}

TEST_CASE("InternedLabels round-trip through the table", "[storage][symbols]") {
  SymbolTable t;
  const Labels ls = Labels::FromPairs({{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}});
  const InternedLabels il = InternedLabels::Intern(ls, &t);
  CHECK(sizeof(InternedLabels) == 8);
  CHECK(il.size() == 3);
  CHECK(il.MemoryUsage() == 4 + 8 * 3);
  CHECK(il.ToLabels(t) == ls);
  CHECK(il.Hash(t) == ls.Hash());
  CHECK(il.Equals(ls, t));
  CHECK_FALSE(il.Equals(Labels::FromPairs({{"__name__", "http_requests_total"}, {"job", "api"}}), t));
  CHECK_FALSE(il.Equals(Labels::FromPairs({{"__name__", "http_requests_total"}, {"code", "500"}, {"job", "api"}}), t));
  CHECK(il.Get("job", t) == "api");
  CHECK(il.Get("zone", t).empty());
  CHECK(t.Lookup(il.pairs()[0].name) == "__name__");
  CHECK(t.Lookup(il.pairs()[1].name) == "code");

  // Same labels, same table: same ids. Shared strings are stored once.
  const size_t symbols = t.size();
  const InternedLabels again = InternedLabels::Intern(ls, &t);
  CHECK(again == il);
  CHECK(t.size() == symbols);
  const InternedLabels other = InternedLabels::Intern(Labels::FromPairs({{"job", "web"}}), &t);
  CHECK_FALSE(other == il);

  InternedLabels copy = il;
  CHECK(copy == il);
  InternedLabels moved = std::move(copy);
  CHECK(moved == il);
  CHECK(copy.empty());  // NOLINT: moved-from is documented empty
  copy = moved;
  CHECK(copy.ToLabels(t) == ls);
  CHECK(InternedLabels::FromPairs(il.pairs()) == il);

  const InternedLabels none = InternedLabels::Intern(Labels(), &t);
  CHECK(none.empty());
  CHECK(none.MemoryUsage() == 0);
  CHECK(none.ToLabels(t).empty());
  CHECK(none.Hash(t) == Labels().Hash());
}

TEST_CASE("InternedLabels handle more labels than the stack buffer", "[storage][symbols]") {
  SymbolTable t;
  LabelsBuilder b;
  for (int i = 0; i < 50; ++i) b.Set("l" + std::to_string(i), std::string(40, static_cast<char>('a' + i % 26)));
  const Labels ls = *b.Build();
  const InternedLabels il = InternedLabels::Intern(ls, &t);
  CHECK(il.ToLabels(t) == ls);
  CHECK(il.Hash(t) == ls.Hash());
  CHECK(il.Equals(ls, t));
}

}  // namespace
}  // namespace vigil::storage
