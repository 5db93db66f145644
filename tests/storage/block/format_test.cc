// Block ids, meta.json and the tombstones file.

#include <catch2/catch.hpp>

#include <random>

#include "storage/block/block_id.h"
#include "storage/block/meta.h"
#include "storage/block/tombstones.h"

namespace vigil::storage {
namespace {

TEST_CASE("block ids are Crockford base32 of time and randomness, sorted by time", "[storage][block]") {
  CHECK(MakeBlockId(0, {}) == "00000000000000000000000000");
  std::array<uint8_t, 10> ones;
  ones.fill(0xFF);
  CHECK(MakeBlockId((int64_t{1} << 48) - 1, ones) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  // 1 ms is the last bit of the 10th character; the first random bit is the top of the 11th.
  CHECK(MakeBlockId(1, {}) == "00000000010000000000000000");
  std::array<uint8_t, 10> top{};
  top[0] = 0x80;
  CHECK(MakeBlockId(0, top) == "0000000000G000000000000000");
  std::mt19937_64 rng(7);
  std::string prev;
  for (int64_t ms = 1600000000000; ms < 1600000000000 + 100000; ms += 997) {
    const std::string id = NewBlockId(ms);
    CHECK(IsValidBlockId(id));
    CHECK(BlockIdMillis(id) == ms);
    CHECK(id > prev);
    prev = id;
  }
  CHECK_FALSE(IsValidBlockId("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  CHECK_FALSE(IsValidBlockId("0000000000000000000000000I"));
  CHECK_FALSE(IsValidBlockId("0000000000000000000000000"));
  CHECK_FALSE(IsValidBlockId("0000000000000000000000000a"));
}

BlockMeta SampleMeta() {
  BlockMeta m;
  m.id = "01HF7YAT00ABCDEFGHJKMNPQRS";
  m.min_time = -5;
  m.max_time = 7200000;
  m.stats = {2, 6, 2};
  m.compaction_level = 2;
  m.compaction_sources = {"01HF7YAT00ABCDEFGHJKMNPQRA", "01HF7YAT00ABCDEFGHJKMNPQRB"};
  return m;
}

TEST_CASE("meta.json round trips and rejects garbage", "[storage][block]") {
  const BlockMeta m = SampleMeta();
  const std::string json = EncodeBlockMeta(m);
  auto back = ParseBlockMeta(json);
  REQUIRE(back.ok());
  CHECK(*back == m);
  BlockMeta empty_sources = m;
  empty_sources.compaction_sources.clear();
  CHECK(ParseBlockMeta(EncodeBlockMeta(empty_sources)).value() == empty_sources);

  // Unknown keys are ignored.
  std::string extra = json;
  extra.insert(1, "\"future\": {\"x\": [true, null, \"a\\u0041\"]},");
  CHECK(ParseBlockMeta(extra).value() == m);

  for (std::string_view bad : {"", "{", "[]", "{\"version\": 1}", "{} x", "nul",
                               "{\"version\": 2, \"id\": \"01HF7YAT00ABCDEFGHJKMNPQRS\"}",
                               "{\"a\": 1, \"a\": 2}", "{\"version\": 1.5}",
                               "{\"version\": 99999999999999999999}"}) {
    INFO(bad);
    auto r = ParseBlockMeta(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsCorruption());
    CHECK(r.status().message().find("offset") != std::string::npos);
  }
  std::string deep(1000, '[');
  CHECK(ParseBlockMeta(deep).status().IsCorruption());
  // Every truncation fails cleanly.
  for (size_t n = 0; n < json.size() - 1; ++n) CHECK_FALSE(ParseBlockMeta(json.substr(0, n)).ok());
}

TEST_CASE("tombstones file round trips and reports corruption with an offset", "[storage][block]") {
  TombstoneMap t;
  AddInterval(&t[3], {10, 20});
  AddInterval(&t[3], {-100, -50});
  AddInterval(&t[7], {INT64_MIN, INT64_MAX});
  AddInterval(&t[4000000000u], {0, 0});
  const std::string file = EncodeTombstones(t);
  auto back = DecodeTombstones(file, "b/tombstones");
  REQUIRE(back.ok());
  CHECK(*back == t);
  CHECK(DecodeTombstones(EncodeTombstones({}), "x").value().empty());
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] ^= 0x10;
    auto r = DecodeTombstones(bad, "b/tombstones");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsCorruption());
    CHECK(r.status().message().find("b/tombstones") != std::string::npos);
  }
  for (size_t n = 0; n < file.size(); ++n) CHECK(DecodeTombstones(file.substr(0, n), "t").status().IsCorruption());
}

TEST_CASE("AddInterval merges overlapping and adjacent ranges", "[storage][block]") {
  Intervals ivs;
  AddInterval(&ivs, {10, 20});
  AddInterval(&ivs, {30, 40});
  AddInterval(&ivs, {0, 5});
  CHECK(ivs == Intervals{{0, 5}, {10, 20}, {30, 40}});
  AddInterval(&ivs, {21, 29});
  CHECK(ivs == Intervals{{0, 5}, {10, 40}});
  AddInterval(&ivs, {6, 6});
  CHECK(ivs == Intervals{{0, 6}, {10, 40}});
  AddInterval(&ivs, {-10, 100});
  CHECK(ivs == Intervals{{-10, 100}});
  AddInterval(&ivs, {INT64_MIN, INT64_MIN});
  AddInterval(&ivs, {INT64_MAX, INT64_MAX});
  CHECK(ivs.size() == 3);
}

}  // namespace
}  // namespace vigil::storage
