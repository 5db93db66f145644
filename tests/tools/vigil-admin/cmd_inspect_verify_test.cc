// vigil-admin inspect and verify on a data directory with blocks and a WAL, clean and damaged.

#include "storage/base/mem_file_system.h"
#include "tests/tools/vigil-admin/admin_test_util.h"

namespace vigil::admin {
namespace {

using testing::L;
using testing::Run;
using testing::Sample;

constexpr char kBlock1[] = "01HZ0000000000000000000001";
constexpr char kBlock2[] = "01HZ0000000000000000000002";

std::vector<Sample> Counter(int64_t start, size_t n) {
  std::vector<Sample> s;
  for (size_t i = 0; i < n; ++i) s.push_back({start + static_cast<int64_t>(i) * 15000, static_cast<double>(i * 7)});
  return s;
}
std::vector<Sample> Constant(int64_t start, size_t n) {
  std::vector<Sample> s;
  for (size_t i = 0; i < n; ++i) s.push_back({start + static_cast<int64_t>(i) * 15000, 1.0});
  return s;
}

// Block 1: two series of 240 samples (2 chunks each: int-dod and constant); block 2: one series of
// 120; WAL: 3 batches of one series (so that damage in the first is not a torn tail).
std::unique_ptr<MemFileSystem> MakeDir() {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/data").ok());
  const int64_t t0 = 1'764'151'200'000;  // 2025-11-26T10:00:00Z
  testing::WriteBlock(fs.get(), "/data", kBlock1,
                      {{L({{"__name__", "requests_total"}, {"job", "api"}}), Counter(t0, 240)},
                       {L({{"__name__", "up"}, {"job", "api"}}), Constant(t0, 240)}});
  testing::WriteBlock(fs.get(), "/data", kBlock2, {{L({{"__name__", "up"}, {"job", "web"}}), Constant(t0 + 3600000, 120)}});
  const auto up = L({{"__name__", "up"}, {"job", "api"}});
  testing::WriteWal(fs.get(), "/data",
                    {{up, Constant(t0 + 7200000, 40)}, {up, Constant(t0 + 7800000, 40)}, {up, Constant(t0 + 8400000, 40)}});
  return fs;
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_CASE("inspect lists blocks and encodings and the WAL and the head", "[tools][inspect]") {
  auto fs = MakeDir();
  auto r = Run(fs.get(), InspectCommand, {"inspect", "/data"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out, "data directory /data: 2 block(s), WAL"));
  CHECK(Contains(r.out, std::string("block ") + kBlock1 + "  level 1"));
  CHECK(Contains(r.out, "time      2025-11-26T10:00:00.000Z .. 2025-11-26T10:59:45.001Z (59m45s)"));
  CHECK(Contains(r.out, "series    2\n  samples   480\n  chunks    4\n"));
  CHECK(Contains(r.out, "series    1\n  samples   120\n  chunks    1\n"));
  CHECK(Contains(r.out, "int-dod"));
  CHECK(Contains(r.out, "encoding           chunks   share"));
  CHECK(Contains(r.out, "records   4: 1 series, 120 samples, 0 tombstones"));
  CHECK(Contains(r.out, "head (replayed from the WAL)\n  series    1\n  samples   120\n"));
  CHECK(Contains(r.out, "samples   720 (blocks and head)"));
  CHECK(Contains(r.out, "other     LOCK"));
  CHECK(Contains(r.out, "B/sample"));

  CHECK(Run(fs.get(), InspectCommand, {"inspect"}).code == 2);
  auto missing = Run(fs.get(), InspectCommand, {"inspect", "/nope"});
  CHECK(missing.code == 1);
  CHECK(Contains(missing.err, "/nope"));
}

TEST_CASE("verify passes a clean directory", "[tools][verify]") {
  auto fs = MakeDir();
  auto r = Run(fs.get(), VerifyCommand, {"verify", "/data"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(Contains(r.out, std::string("ok       block ") + kBlock1 + ": 2 series, 4 chunks, 480 samples"));
  CHECK(Contains(r.out, "ok       wal: "));
  CHECK(Contains(r.out, "verify /data: 2 block(s) and the WAL, all checksums ok"));
}

struct Damage {
  const char* what;
  std::string file;     // under /data
  int64_t offset;       // byte to flip; -1: truncate to `keep` bytes instead
  uint64_t keep;
  const char* expect;   // part of the report
};

TEST_CASE("verify reports every kind of damage with the file and exits 1", "[tools][verify]") {
  const std::string b1 = std::string(kBlock1) + "/";
  const std::vector<Damage> damages = {
      {"chunk payload", b1 + "chunks/000001", 20, 0, "chunks/000001"},
      {"chunk header", b1 + "chunks/000001", 1, 0, "chunks/000001"},
      {"index section", b1 + "index", 12, 0, "index"},
      {"index end", b1 + "index", -2, 0, "index"},
      {"meta", b1 + "meta.json", 5, 0, "meta.json"},
      {"tombstones", b1 + "tombstones", 2, 0, "tombstones"},
      {"truncated chunks", b1 + "chunks/000001", -1, 30, "chunks/000001"},
      {"truncated index", b1 + "index", -1, 40, "index"},
      {"empty meta", b1 + "meta.json", -1, 0, "meta.json"},
      {"wal first segment", "wal/00000000", 20, 0, "wal/00000000"},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    auto fs = MakeDir();
    const std::string path = "/data/" + d.file;
    if (d.offset >= 0) {
      testing::FlipByte(fs.get(), path, static_cast<uint64_t>(d.offset));
    } else if (d.offset == -2) {
      testing::FlipByte(fs.get(), path, fs->FileSize(path).value() - 3);
    } else {
      testing::Truncate(fs.get(), path, d.keep);
    }
    auto r = Run(fs.get(), VerifyCommand, {"verify", "/data"});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(Contains(r.out, "CORRUPT"));
    CHECK(Contains(r.out, d.expect));
    CHECK(Contains(r.out, "verify /data: 1 problem(s)"));
    // inspect reports the damage it meets too, and does not crash.
    auto i = Run(fs.get(), InspectCommand, {"inspect", "/data"});
    CHECK(i.code == 1);
  }
}

TEST_CASE("verify treats a torn WAL tail as a note and not as damage", "[tools][verify]") {
  auto fs = MakeDir();
  auto segments = fs->ListDir("/data/wal").value();
  REQUIRE(!segments.empty());
  // The last segment holding data: cut its last batch in half.
  std::string last;
  for (const std::string& s : segments) {
    if (fs->FileSize("/data/wal/" + s).value() > 8) last = s;
  }
  REQUIRE(!last.empty());
  const uint64_t size = fs->FileSize("/data/wal/" + last).value();
  testing::Truncate(fs.get(), "/data/wal/" + last, size - 10);
  auto r = Run(fs.get(), VerifyCommand, {"verify", "/data"});
  INFO(r.out);
  // Segments after it were made by later sessions, so a torn tail here is tolerated.
  CHECK(r.code == 0);
  CHECK(Contains(r.out, "note     wal torn tail"));
}

}  // namespace
}  // namespace vigil::admin
