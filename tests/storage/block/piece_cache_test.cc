// The caches of decompressed pieces (storage/block/piece_cache.h): a reader's small cache in
// front of the process-wide one, its byte bound, its key spaces per reader, and the bypass that
// compaction uses.

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "storage/block/piece_cache.h"

namespace vigil::storage::block {
namespace {

std::shared_ptr<const std::string> Piece(char c, size_t n = 1000) {
  return std::make_shared<const std::string>(n, c);
}

// Restores the process-wide capacity when a test changes it.
struct CapacityGuard {
  explicit CapacityGuard(size_t bytes) { SharedPieceCache::Instance().SetCapacity(bytes); }
  ~CapacityGuard() { SharedPieceCache::Instance().SetCapacity(SharedPieceCache::kDefaultBytes); }
};

TEST_CASE("piece cache: a second reader's miss is served by the shared cache, per owner key",
          "[storage][block][cache]") {
  CapacityGuard cap(SharedPieceCache::kDefaultBytes);
  PieceCache a(2), b(2);
  a.Put(7, Piece('a'));
  REQUIRE(a.Get(7) != nullptr);
  CHECK(*a.Get(7) == std::string(1000, 'a'));
  // Another reader has its own key space: key 7 of b is not key 7 of a.
  CHECK(b.Get(7) == nullptr);
  b.Put(7, Piece('b'));
  CHECK(*b.Get(7) == std::string(1000, 'b'));
  CHECK(*a.Get(7) == std::string(1000, 'a'));

  // a's own cache holds 2 pieces; older ones come back from the shared cache.
  a.Put(8, Piece('c'));
  a.Put(9, Piece('d'));
  const uint64_t hits = SharedPieceCache::Instance().stats().hits;
  auto p = a.Get(7);
  REQUIRE(p != nullptr);
  CHECK(*p == std::string(1000, 'a'));
  CHECK(SharedPieceCache::Instance().stats().hits == hits + 1);
}

TEST_CASE("piece cache: the shared cache stays within its bytes; 0 keeps nothing",
          "[storage][block][cache]") {
  CapacityGuard cap(size_t{8} << 20);
  PieceCache r(1);
  for (uint64_t k = 0; k < 400; ++k) {
    r.Put(k, Piece('x', 64 << 10));
    CHECK(SharedPieceCache::Instance().stats().bytes <= (size_t{8} << 20));
  }
  size_t found = 0;
  for (uint64_t k = 0; k < 400; ++k) found += r.Get(k) != nullptr;
  CHECK(found > 50);   // about 8 MiB of 64 KiB pieces
  CHECK(found < 140);
  CHECK(r.Get(399) != nullptr);  // the newest are kept

  SharedPieceCache::Instance().SetCapacity(0);
  CHECK(SharedPieceCache::Instance().stats().bytes == 0);
  PieceCache q(1);
  q.Put(1, Piece('y'));
  q.Put(2, Piece('z'));  // pushes 1 out of q's own cache
  CHECK(q.Get(1) == nullptr);
}

TEST_CASE("piece cache: under a bypass, readers neither read nor fill the shared cache",
          "[storage][block][cache]") {
  CapacityGuard cap(SharedPieceCache::kDefaultBytes);
  PieceCache r(1);
  r.Put(1, Piece('s'));  // shared and local
  {
    PieceCacheBypass bypass;
    CHECK(PieceCacheBypass::Active());
    r.Put(2, Piece('t'));  // local only; pushes 1 out of the local cache
    CHECK(r.Get(1) == nullptr);  // in the shared cache, but bypassed
    CHECK(r.Get(2) != nullptr);
  }
  CHECK_FALSE(PieceCacheBypass::Active());
  r.Put(3, Piece('u'));  // pushes 2 out of the local cache
  CHECK(r.Get(2) == nullptr);  // never reached the shared cache
  auto one = r.Get(1);
  REQUIRE(one != nullptr);
  CHECK(*one == std::string(1000, 's'));
}

}  // namespace
}  // namespace vigil::storage::block
