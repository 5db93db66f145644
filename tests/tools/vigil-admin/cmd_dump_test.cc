// vigil-admin dump: CSV of the samples of matching series from blocks and the head.

#include <cmath>

#include "storage/base/mem_file_system.h"
#include "storage/wal/records.h"
#include "storage/wal/wal.h"
#include "tests/tools/vigil-admin/admin_test_util.h"

namespace vigil::admin {
namespace {

using testing::L;
using testing::Run;
using testing::Sample;

constexpr char kBlock1[] = "01HZ0000000000000000000001";
constexpr char kBlock2[] = "01HZ0000000000000000000002";

// Two overlapping blocks and a WAL:
//   up{instance="a",job="api"}: block 1 t=1000,2000,3000; block 2 t=3000 (other value: newer
//                               source wins),4000; WAL t=5000
//   up{instance="b",job="web"}: block 1 t=1000 (NaN), 2000 (+Inf)
//   errors_total{job="api"}:    WAL t=4500 (1.5), 6000 (-Inf)
std::unique_ptr<MemFileSystem> MakeDir() {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/data").ok());
  testing::WriteWal(fs.get(), "/data",
                    {{L({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}), {{5000, 5}}},
                     {L({{"__name__", "errors_total"}, {"job", "api"}}), {{4500, 1.5}, {6000, -HUGE_VAL}}}});
  testing::WriteBlock(fs.get(), "/data", kBlock1,
                      {{L({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}), {{1000, 1}, {2000, 2}, {3000, 3}}},
                       {L({{"__name__", "up"}, {"job", "web"}, {"instance", "b"}}), {{1000, std::nan("")}, {2000, HUGE_VAL}}}});
  testing::WriteBlock(fs.get(), "/data", kBlock2,
                      {{L({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}), {{3000, 30}, {4000, 0.1}}}});
  return fs;
}

TEST_CASE("dump prints every series of blocks and head as CSV merged and de-duplicated", "[tools][dump]") {
  auto fs = MakeDir();
  auto r = Run(fs.get(), DumpCommand, {"dump", "/data"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "labels,timestamp_ms,value\n"
        "\"errors_total{job=\"\"api\"\"}\",4500,1.5\n"
        "\"errors_total{job=\"\"api\"\"}\",6000,-Inf\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",1000,1\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",2000,2\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",3000,30\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",4000,0.1\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",5000,5\n"
        "\"up{instance=\"\"b\"\",job=\"\"web\"\"}\",1000,NaN\n"
        "\"up{instance=\"\"b\"\",job=\"\"web\"\"}\",2000,+Inf\n");
  CHECK(r.err.find("3 series, 9 samples") != std::string::npos);
}

TEST_CASE("dump selects with a PromQL selector and a time range", "[tools][dump]") {
  auto fs = MakeDir();
  auto r = Run(fs.get(), DumpCommand, {"dump", "/data", "--match", "up{job=~\"api|db\"}", "--min-time", "2000", "--max-time", "4000"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "labels,timestamp_ms,value\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",2000,2\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",3000,30\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",4000,0.1\n");

  // RFC 3339 bounds: 1970-01-01T00:00:04.5Z is t=4500.
  r = Run(fs.get(), DumpCommand, {"dump", "/data", "--match", "{job=\"api\"}", "--min-time", "1970-01-01T00:00:04.5Z"});
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "labels,timestamp_ms,value\n"
        "\"errors_total{job=\"\"api\"\"}\",4500,1.5\n"
        "\"errors_total{job=\"\"api\"\"}\",6000,-Inf\n"
        "\"up{instance=\"\"a\"\",job=\"\"api\"\"}\",5000,5\n");

  r = Run(fs.get(), DumpCommand, {"dump", "/data", "--match", "nothing_here"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "labels,timestamp_ms,value\n");
}

TEST_CASE("dump rejects bad arguments with a usage error", "[tools][dump]") {
  auto fs = MakeDir();
  const std::vector<std::vector<std::string>> bad = {
      {"dump"},
      {"dump", "/data", "--match"},
      {"dump", "/data", "--match", "up{job="},            // parse error
      {"dump", "/data", "--match", "rate(up[5m])"},       // not a selector
      {"dump", "/data", "--match", "{job=~\".*\"}"},      // matches everything: PromQL refuses
      {"dump", "/data", "--match", "up offset 5m"},
      {"dump", "/data", "--min-time", "yesterday"},
      {"dump", "/data", "--min-time", "10", "--max-time", "5"},
      {"dump", "/data", "/other"},
      {"dump", "/data", "--bogus"},
  };
  for (const auto& args : bad) {
    auto r = Run(fs.get(), DumpCommand, args);
    std::string desc;
    for (const std::string& a : args) desc += a + " ";
    INFO(desc);
    CHECK(r.code == 2);
    CHECK(r.err.find("usage: vigil-admin dump") != std::string::npos);
    CHECK(r.out.empty());
  }
  auto r = Run(fs.get(), DumpCommand, {"dump", "/missing"});
  CHECK(r.code == 1);
  CHECK(r.err.find("/missing") != std::string::npos);
}

TEST_CASE("dump fails with the series named when a chunk is corrupt", "[tools][dump]") {
  auto fs = MakeDir();
  testing::FlipByte(fs.get(), std::string("/data/") + kBlock2 + "/chunks/000001", 12);
  auto r = Run(fs.get(), DumpCommand, {"dump", "/data"});
  CHECK(r.code == 1);
  CHECK(r.err.find("up{instance=\"a\",job=\"api\"}") != std::string::npos);
  CHECK(r.err.find("chunks/000001") != std::string::npos);
}

TEST_CASE("dump rebuilds the head as Db::Open does: WAL tombstones applied and block ranges closed",
          "[tools][dump]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/data").ok());
  const auto up = L({{"__name__", "up"}, {"job", "api"}});
  testing::WriteBlock(fs.get(), "/data", kBlock1, {{up, {{1000, 1}, {2000, 2}, {3000, 3}}}});
  {
    auto wal = storage::wal::Wal::Open(fs.get(), "/data/wal", storage::wal::WalOptions{});
    REQUIRE(wal.ok());
    std::string series, samples, tombstones;
    const storage::wal::RefSeries s{7, up.Encoded()};
    storage::wal::EncodeSeries({&s, 1}, &series);
    // 2500 lies in the block's range [1000, 3001): flushed already, dropped from the head.
    const std::vector<storage::wal::RefSample> smp = {{7, 2500, 9}, {7, 4000, 4}, {7, 5000, 5}, {7, 6000, 6}, {7, 7000, 7}};
    storage::wal::EncodeSamples(smp, &samples);
    // Deletes 2000..5000: in the head that is 4000 and 5000; the block keeps 2000 and 3000.
    const storage::wal::RefTombstone t{7, 2000, 5000};
    storage::wal::EncodeTombstones({&t, 1}, &tombstones);
    const std::string_view records[] = {series, samples, tombstones};
    REQUIRE((*wal)->Log(records).ok());
    REQUIRE((*wal)->Close().ok());
  }
  auto r = Run(fs.get(), DumpCommand, {"dump", "/data"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "labels,timestamp_ms,value\n"
        "\"up{job=\"\"api\"\"}\",1000,1\n"
        "\"up{job=\"\"api\"\"}\",2000,2\n"
        "\"up{job=\"\"api\"\"}\",3000,3\n"
        "\"up{job=\"\"api\"\"}\",6000,6\n"
        "\"up{job=\"\"api\"\"}\",7000,7\n");
  auto i = Run(fs.get(), InspectCommand, {"inspect", "/data"});
  CHECK(i.code == 0);
  CHECK(i.out.find("records   3: 1 series, 5 samples, 1 tombstones") != std::string::npos);
  CHECK(i.out.find("head (replayed from the WAL)\n  series    1\n  samples   2\n") != std::string::npos);
}

}  // namespace
}  // namespace vigil::admin
