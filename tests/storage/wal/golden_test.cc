// The worked example of storage/docs/format/wal.md §7, checked byte for byte.

#include <xxhash.h>

#include <bit>
#include <catch2/catch.hpp>

#include "storage/base/mem_file_system.h"
#include "storage/wal/wal.h"
#include "tests/storage/wal/wal_test_util.h"

namespace vigil::storage::wal {
namespace {

const unsigned char kExample[] = {
    // segment header: "VGWL", version 1, flags 1 (session start), reserved
    0x56, 0x47, 0x57, 0x4c, 0x01, 0x01, 0x00, 0x00,
    // fragment header: type 1 (full), length 56, checksum 0xc9c2e88b
    0x01, 0x38, 0x00, 0x8b, 0xe8, 0xc2, 0xc9,
    // entry: record 1 is 24 bytes: series, ref 1, 21 label bytes
    0x18, 0x01, 0x01, 0x15,
    0x08, '_', '_', 'n', 'a', 'm', 'e', '_', '_', 0x02, 'u', 'p',
    0x03, 'j', 'o', 'b', 0x04, 'n', 'o', 'd', 'e',
    // record 2 is 30 bytes: samples, base ref 1, base t 1700000000000 (zigzag varint)
    0x1e, 0x02, 0x01, 0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62,
    // sample: dref 0, dt 0, value 1.0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
    // sample: dref 0, dt 15000 (zigzag 30000), value = stale marker 0x7ff0000000000002
    0x00, 0xb0, 0xea, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f,
};

std::string ExampleBytes() { return std::string(reinterpret_cast<const char*>(kExample), sizeof(kExample)); }

std::pair<std::string, std::string> ExampleRecords() {
  std::string labels;
  const LabelView pairs[] = {{"__name__", "up"}, {"job", "node"}};
  EncodeLabelPairs(pairs, &labels);
  std::string series;
  EncodeSeries(std::vector<RefSeries>{{1, labels}}, &series);
  std::string samples;
  EncodeSamples(std::vector<RefSample>{{1, 1700000000000, 1.0},
                                       {1, 1700000015000, std::bit_cast<double>(kStaleNaNBits)}},
                &samples);
  return {series, samples};
}

TEST_CASE("wal golden v1: the writer produces the worked example", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  {
    auto wal = std::move(
        Wal::Open(fs.get(), "/w", WalOptions{.sync_policy = SyncPolicy::kNever}).value());
    const auto [series, samples] = ExampleRecords();
    const std::string_view batch[] = {series, samples};
    REQUIRE(wal->Log(batch).ok());
    REQUIRE(wal->Close().ok());
  }
  const std::string written = testing::ReadAll(fs.get(), "/w/00000000");
  CHECK(written == ExampleBytes());
  const std::string golden =
      testing::ReadAll(DefaultFileSystem(), std::string(VIGIL_GOLDEN_DIR) + "/wal/v1/example/00000000");
  CHECK(golden == ExampleBytes());
  // The checksum field is the low 32 bits of XXH3-64 over the 56 payload bytes.
  CHECK(static_cast<uint32_t>(XXH3_64bits(kExample + 15, 56)) == 0xc9c2e88bu);
}

TEST_CASE("wal golden v1: the example replays to its records", "[storage][wal]") {
  const auto r = testing::ReplayAll(DefaultFileSystem(), std::string(VIGIL_GOLDEN_DIR) + "/wal/v1/example");
  REQUIRE(r.status.ok());
  REQUIRE(r.records.size() == 2);
  const auto [series, samples] = ExampleRecords();
  CHECK(r.records[0] == series);
  CHECK(r.records[1] == samples);
  std::vector<RefSample> out;
  REQUIRE(DecodeSamples(r.records[1], &out).ok());
  REQUIRE(out.size() == 2);
  CHECK(out[1].t == 1700000015000);
  CHECK(std::bit_cast<uint64_t>(out[1].v) == kStaleNaNBits);
}

TEST_CASE("wal golden v1: the corrupted copy is reported at its offset", "[storage][wal]") {
  const std::string dir = std::string(VIGIL_GOLDEN_DIR) + "/wal/v1/corrupt";
  const auto r = testing::ReplayAll(DefaultFileSystem(), dir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains(dir + "/00000000"));
  CHECK_THAT(r.status.message(), Catch::Contains("offset 8: fragment checksum mismatch"));
  CHECK(r.records.empty());
  REQUIRE(r.corruption);
  CHECK(r.corruption->segment == 0);
  CHECK(r.corruption->offset == 8);
}

}  // namespace
}  // namespace vigil::storage::wal
