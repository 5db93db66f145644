// Crash-safe publishing: a failure at any write, sync, directory sync or rename, followed by a
// power loss, leaves either no block or a complete one, plus at most a `.tmp` leftover.

#include <catch2/catch.hpp>

#include "storage/base/fault_injection_file_system.h"
#include "storage/base/mem_file_system.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using testing::TestSeries;

constexpr const char* kId = "01HZZZZZZZZZZZZZZZZZZZZZZZ";

std::vector<TestSeries> CrashSeries() {
  std::vector<TestSeries> out;
  for (int s = 0; s < 4; ++s) {
    TestSeries ts{Labels::FromPairs({{"a", std::to_string(s)}}), {}};
    for (int64_t t = 0; t < 300; ++t) ts.samples.push_back({t * 1000, static_cast<double>(t * s)});
    out.push_back(ts);
  }
  return out;
}

// After a crash: "/d" holds nothing, "<id>.tmp", "<id>" (complete), or both.
void CheckConsistent(MemFileSystem* fs, bool must_exist) {
  auto names = fs->ListDir("/d");
  REQUIRE(names.ok());
  bool found = false;
  for (const std::string& name : *names) {
    if (name == std::string(kId) + ".tmp") continue;
    REQUIRE(name == kId);
    found = true;
    auto reader = BlockReader::Open(fs, std::string("/d/") + kId);
    REQUIRE(reader.ok());
    REQUIRE((*reader)->Verify().ok());
    auto got = testing::ReadAll(NewBlockQuerier(*reader, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{});
    const auto want = CrashSeries();
    REQUIRE(got.size() == want.size());
    for (const TestSeries& s : want) REQUIRE(testing::SameSamples(got[s.labels.ToString()], s.samples));
  }
  if (must_exist) CHECK(found);
}

TEST_CASE("block publish survives a failure and a crash at every step", "[storage][block]") {
  // Count the operations of a clean run.
  uint64_t counts[kNumFaultOps];
  uint64_t total_bytes = 0;
  {
    auto mem = NewMemFileSystem();
    REQUIRE(mem->CreateDirs("/d").ok());
    REQUIRE(mem->SyncDir("/").ok());
    FaultInjectionFileSystem fault(mem.get());
    REQUIRE(testing::WriteTestBlock(&fault, "/d", CrashSeries(), testing::FixedOptions(), 100).ok());
    for (int op = 0; op < kNumFaultOps; ++op) counts[op] = fault.count(static_cast<FaultOp>(op));
    total_bytes = fault.bytes_appended();
    mem->SimulateCrash();
    CheckConsistent(mem.get(), true);
  }
  CHECK(counts[static_cast<int>(FaultOp::kRename)] == 1);
  CHECK(counts[static_cast<int>(FaultOp::kSync)] >= 4);
  int cases = 0;
  for (int op = 0; op < kNumFaultOps; ++op) {
    for (uint64_t n = 1; n <= counts[op]; ++n) {
      for (bool crash : {false, true}) {
        INFO("op " << op << " call " << n << " crash " << crash);
        auto mem = NewMemFileSystem();
        REQUIRE(mem->CreateDirs("/d").ok());
        REQUIRE(mem->SyncDir("/").ok());
        FaultInjectionFileSystem fault(mem.get());
        fault.FailNth(static_cast<FaultOp>(op), n);
        auto meta = testing::WriteTestBlock(&fault, "/d", CrashSeries(), testing::FixedOptions(), 100);
        CHECK_FALSE(meta.ok());
        if (crash) mem->SimulateCrash();
        CheckConsistent(mem.get(), false);
        ++cases;
      }
    }
  }
  // Running out of disk space part-way through.
  for (uint64_t budget : {uint64_t{0}, uint64_t{10}, total_bytes / 3, total_bytes / 2, total_bytes - 1}) {
    INFO("budget " << budget);
    auto mem = NewMemFileSystem();
    REQUIRE(mem->CreateDirs("/d").ok());
    REQUIRE(mem->SyncDir("/").ok());
    FaultInjectionFileSystem fault(mem.get());
    fault.SetWriteBudget(budget);
    auto meta = testing::WriteTestBlock(&fault, "/d", CrashSeries(), testing::FixedOptions(), 100);
    CHECK(meta.status().IsNoSpace());
    mem->SimulateCrash();
    CheckConsistent(mem.get(), false);
  }
  CHECK(cases > 20);
}

TEST_CASE("block publish is durable once Finish returns", "[storage][block]") {
  auto mem = NewMemFileSystem();
  REQUIRE(mem->CreateDirs("/d").ok());
  REQUIRE(mem->SyncDir("/").ok());
  REQUIRE(testing::WriteTestBlock(mem.get(), "/d", CrashSeries(), testing::FixedOptions(), 100).ok());
  mem->SimulateCrash();
  CheckConsistent(mem.get(), true);
  // A second block with the same id is refused.
  CHECK(BlockWriter::Create(mem.get(), "/d", testing::FixedOptions()).status().code() == StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace vigil::storage
