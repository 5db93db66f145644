// Postings encoding and set operations, property-tested against std::set_* on random lists.

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <random>

#include "storage/block/postings.h"

namespace vigil::storage::block {
namespace {

PostingsList RandomList(std::mt19937& rng, uint32_t universe, double density) {
  PostingsList out;
  std::bernoulli_distribution take(density);
  for (uint32_t i = 0; i < universe; ++i) {
    if (take(rng)) out.push_back(i);
  }
  return out;
}

TEST_CASE("postings encode and decode round trip", "[storage][block]") {
  std::mt19937 rng(1);
  for (int iter = 0; iter < 200; ++iter) {
    const uint32_t universe = 1 + rng() % 5000;
    const PostingsList ids = RandomList(rng, universe, std::uniform_real_distribution<>(0, 1)(rng));
    std::string enc;
    EncodePostings(ids, &enc);
    PostingsList got;
    REQUIRE(DecodePostings(enc, universe, &got));
    REQUIRE(got == ids);
    // Every strict prefix of the encoding is rejected, and so are ids beyond the universe.
    if (!enc.empty()) {
      PostingsList tmp;
      CHECK_FALSE(DecodePostings(std::string_view(enc).substr(0, rng() % enc.size()), universe, &tmp));
    }
    if (!ids.empty()) {
      PostingsList tmp;
      CHECK_FALSE(DecodePostings(enc, ids.back(), &tmp));
    }
    PostingsList tmp;
    CHECK_FALSE(DecodePostings(enc + "x", universe, &tmp));
  }
  PostingsList tmp;
  CHECK_FALSE(DecodePostings(std::string("\x02\x05\x00", 3), 100, &tmp));  // gap of 0
}

TEST_CASE("postings set operations agree with std::set_*", "[storage][block]") {
  std::mt19937 rng(42);
  for (int iter = 0; iter < 500; ++iter) {
    const uint32_t universe = 1 + rng() % 20000;
    const size_t k = 1 + rng() % 6;
    std::vector<PostingsList> lists;
    for (size_t i = 0; i < k; ++i) {
      // Mix very sparse and dense lists so that galloping and the bitmap union both run.
      const double density = (rng() % 3 == 0) ? 0.0005 : std::uniform_real_distribution<>(0, 0.9)(rng);
      lists.push_back(RandomList(rng, universe, density));
    }
    PostingsList inter = lists[0];
    PostingsList uni = lists[0];
    for (size_t i = 1; i < k; ++i) {
      PostingsList a, b;
      std::set_intersection(inter.begin(), inter.end(), lists[i].begin(), lists[i].end(), std::back_inserter(a));
      std::set_union(uni.begin(), uni.end(), lists[i].begin(), lists[i].end(), std::back_inserter(b));
      inter = std::move(a);
      uni = std::move(b);
    }
    PostingsList diff;
    std::set_difference(lists[0].begin(), lists[0].end(), lists[k - 1].begin(), lists[k - 1].end(),
                        std::back_inserter(diff));
    INFO("iteration " << iter << " universe " << universe << " lists " << k);
    CHECK(IntersectPostings(lists) == inter);
    CHECK(UnionPostings(lists, universe) == uni);
    CHECK(SubtractPostings(lists[0], lists[k - 1]) == diff);
  }
  CHECK(UnionPostings({}, 10).empty());
  CHECK(IntersectPostings({{1, 2, 3}, {}}).empty());
}

}  // namespace
}  // namespace vigil::storage::block
