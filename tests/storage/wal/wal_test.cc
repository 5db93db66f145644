#include "storage/wal/wal.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "storage/base/fault_injection_file_system.h"
#include "tests/storage/wal/wal_test_util.h"

namespace vigil::storage::wal {
namespace {

using testing::PatternRecord;
using testing::ReadAll;
using testing::ReplayAll;
using testing::SegmentPath;
using testing::WriteAll;

const std::string kDir = "/db/wal";

WalOptions Opts(SyncPolicy policy = SyncPolicy::kNever, uint64_t segment_size = 1 << 20) {
  WalOptions o;
  o.sync_policy = policy;
  o.segment_size = segment_size;
  return o;
}

std::unique_ptr<Wal> MustOpen(FileSystem* fs, WalOptions o = Opts()) {
  auto wal = Wal::Open(fs, kDir, o);
  REQUIRE(wal.ok());
  return std::move(wal).value();
}

TEST_CASE("wal: records come back in order across batches", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  std::vector<std::string> want;
  {
    auto wal = MustOpen(fs.get());
    CHECK(wal->LastSegment() == 0);
    for (int i = 0; i < 50; ++i) {
      std::vector<std::string> batch;
      for (int j = 0; j <= i % 4; ++j) batch.push_back(PatternRecord(i * 10 + j, 1 + (i * 37) % 900));
      std::vector<std::string_view> views(batch.begin(), batch.end());
      REQUIRE(wal->Log(views).ok());
      want.insert(want.end(), batch.begin(), batch.end());
    }
    // Larger than a page and than several pages.
    want.push_back(PatternRecord(1, kPageSize + 5));
    REQUIRE(wal->Log(want.back()).ok());
    want.push_back(PatternRecord(2, 5 * kPageSize));
    REQUIRE(wal->Log(want.back()).ok());
    want.push_back(PatternRecord(3, 1));
    REQUIRE(wal->Log(want.back()).ok());
    const WalStats s = wal->stats();
    CHECK(s.records == want.size());
    CHECK(s.batches == 53);
    CHECK(s.segments_created == 1);
    REQUIRE(wal->Close().ok());
    CHECK(s.bytes_written == fs->FileSize(SegmentPath(kDir, 0)).value());
  }
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records == want);
  CHECK(r.stats.records == want.size());
  CHECK(r.stats.batches == 53);
  CHECK(r.stats.torn_bytes == 0);
}

TEST_CASE("wal: empty records are rejected and empty batches are no-ops", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  auto wal = MustOpen(fs.get());
  CHECK(wal->Log(std::span<const std::string_view>()).ok());
  const std::string_view batch[] = {"a", ""};
  CHECK(wal->Log(batch).IsInvalidArgument());
  REQUIRE(wal->Close().ok());
  CHECK(wal->Log("x").code() == StatusCode::kUnavailable);
  CHECK(ReplayAll(fs.get(), kDir).records.empty());
}

TEST_CASE("wal: a missing directory replays as empty", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  const auto r = ReplayAll(fs.get(), "/nowhere");
  CHECK(r.status.ok());
  CHECK(r.records.empty());
}

TEST_CASE("wal: segments rotate at the size cap and every open starts a new one",
          "[storage][wal]") {
  auto fs = NewMemFileSystem();
  const uint64_t cap = 4 * kPageSize;
  std::vector<std::string> want;
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, cap));
    for (int i = 0; i < 40; ++i) {
      want.push_back(PatternRecord(i, 5000));
      REQUIRE(wal->Log(want.back()).ok());
    }
    // A batch larger than the cap goes whole into a fresh segment.
    want.push_back(PatternRecord(99, 2 * cap));
    REQUIRE(wal->Log(want.back()).ok());
    CHECK(wal->stats().segments_created == wal->LastSegment() + 1);
    CHECK(wal->LastSegment() >= 2);
  }
  auto segments = ListSegments(fs.get(), kDir).value();
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    CHECK(segments[i] == i);
    CHECK(fs->FileSize(SegmentPath(kDir, i)).value() <= cap);
  }
  const uint64_t last = segments.back();
  CHECK(fs->FileSize(SegmentPath(kDir, last)).value() > cap);
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, cap));
    CHECK(wal->LastSegment() == last + 1);
    want.push_back("after restart");
    REQUIRE(wal->Log(want.back()).ok());
    auto next = wal->NextSegment();
    REQUIRE(next.ok());
    CHECK(*next == last + 2);
  }
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records == want);
  CHECK(r.stats.segments == last + 3);
}

// Writes `before` records, then `last`, into one fresh segment; returns the segment bytes and
// the offset at which `last` starts.
std::pair<std::string, uint64_t> SegmentWithLast(const std::vector<std::string>& before,
                                                 const std::string& last) {
  auto fs = NewMemFileSystem();
  auto wal = MustOpen(fs.get());
  for (const auto& r : before) REQUIRE(wal->Log(r).ok());
  const uint64_t start = fs->FileSize(SegmentPath(kDir, 0)).value();
  REQUIRE(wal->Log(last).ok());
  REQUIRE(wal->Close().ok());
  return {ReadAll(fs.get(), SegmentPath(kDir, 0)), start};
}

void CheckEveryCut(const std::vector<std::string>& before, const std::string& last, size_t step) {
  const auto [seg, start] = SegmentWithLast(before, last);
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs(kDir).ok());
  for (uint64_t cut = start; cut < seg.size(); cut += (cut - start < 64 ? 1 : step)) {
    INFO("cut at " << cut << " of " << seg.size());
    REQUIRE(WriteAll(fs.get(), SegmentPath(kDir, 0), std::string_view(seg).substr(0, cut)).ok());
    const auto r = ReplayAll(fs.get(), kDir);
    REQUIRE(r.status.ok());
    REQUIRE(r.records == before);
    REQUIRE(r.stats.torn_bytes == cut - start);
  }
  REQUIRE(WriteAll(fs.get(), SegmentPath(kDir, 0), seg).ok());
  const auto whole = ReplayAll(fs.get(), kDir);
  REQUIRE(whole.status.ok());
  CHECK(whole.records.size() == before.size() + 1);
}

TEST_CASE("wal: a torn tail cut at every byte of the last record is dropped silently",
          "[storage][wal]") {
  std::vector<std::string> before;
  for (int i = 0; i < 20; ++i) before.push_back(PatternRecord(i, 1500));
  // 20 records end about 1.1 KiB before the first page boundary: the last record spans it, so
  // the cuts cover a first fragment, the padding-free boundary and a last fragment.
  CheckEveryCut(before, PatternRecord(77, 3000), /*step=*/1);
}

TEST_CASE("wal: a torn tail cut at every byte of a multi-page record", "[.][slow][storage][wal]") {
  std::vector<std::string> before = {PatternRecord(1, 100), PatternRecord(2, 40000)};
  CheckEveryCut(before, PatternRecord(3, 3 * kPageSize + 99), /*step=*/1);
}

TEST_CASE("wal: a multi-page torn record at sampled cuts", "[storage][wal]") {
  std::vector<std::string> before = {PatternRecord(1, 100), PatternRecord(2, 40000)};
  CheckEveryCut(before, PatternRecord(3, 3 * kPageSize + 99), /*step=*/997);
}

TEST_CASE("wal: a torn batch is dropped whole", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  {
    auto wal = MustOpen(fs.get());
    REQUIRE(wal->Log("first").ok());
    const std::string big = PatternRecord(5, 2 * kPageSize);
    const std::string_view batch[] = {"a", "b", big, "c"};
    REQUIRE(wal->Log(batch).ok());
  }
  const std::string path = SegmentPath(kDir, 0);
  const uint64_t size = fs->FileSize(path).value();
  REQUIRE(fs->Truncate(path, size - 1).ok());
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records == std::vector<std::string>{"first"});
}

struct ThreeSegments {
  std::unique_ptr<MemFileSystem> fs = NewMemFileSystem();
  std::vector<std::string> records;
  std::vector<std::vector<uint64_t>> starts;  // per segment: start offset of each entry

  ThreeSegments() {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, 2 * kPageSize));
    starts.resize(1);
    for (int i = 0; i < 90; ++i) {
      records.push_back(PatternRecord(i, 2000 + i));
      const uint64_t seg = wal->LastSegment();
      const uint64_t before = fs->FileSize(SegmentPath(kDir, seg)).value();
      REQUIRE(wal->Log(records.back()).ok());
      if (wal->LastSegment() != seg) {
        starts.emplace_back();
        starts.back().push_back(kSegmentHeaderSize);
      } else {
        starts.back().push_back(before);
      }
    }
    REQUIRE(wal->LastSegment() >= 2);
  }

  void Flip(uint64_t seg, uint64_t offset) {
    std::string data = ReadAll(fs.get(), SegmentPath(kDir, seg));
    data[offset] ^= 0x20;
    REQUIRE(WriteAll(fs.get(), SegmentPath(kDir, seg), data).ok());
  }
};

TEST_CASE("wal: a flipped byte mid-log is corruption naming segment and offset",
          "[storage][wal]") {
  ThreeSegments t;
  const uint64_t entry = t.starts[1][3];  // fourth entry of segment 1 (single fragment)
  REQUIRE(entry % kPageSize + 2100 < kPageSize);
  t.Flip(1, entry + kFragmentHeaderSize + 100);
  const auto r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains(SegmentPath(kDir, 1)));
  CHECK_THAT(r.status.message(), Catch::Contains("offset " + std::to_string(entry)));
  // Everything before the damaged record was replayed.
  const size_t good = t.starts[0].size() + 3;
  CHECK(r.records == std::vector<std::string>(t.records.begin(), t.records.begin() + good));
  REQUIRE(r.corruption);
  CHECK(r.corruption->segment == 1);
  CHECK(r.corruption->offset == entry);

  SECTION("repair cuts there and the log opens again") {
    REQUIRE(Repair(t.fs.get(), *r.corruption).ok());
    CHECK_FALSE(t.fs->FileExists(SegmentPath(kDir, 2)));
    CHECK(t.fs->FileSize(SegmentPath(kDir, 1)).value() == entry);
    auto after = ReplayAll(t.fs.get(), kDir);
    REQUIRE(after.status.ok());
    CHECK(after.records.size() == good);
    auto wal = MustOpen(t.fs.get());
    CHECK(wal->LastSegment() == 2);
    REQUIRE(wal->Log("new").ok());
    REQUIRE(wal->Close().ok());
    after = ReplayAll(t.fs.get(), kDir);
    REQUIRE(after.status.ok());
    CHECK(after.records.size() == good + 1);
    CHECK(after.records.back() == "new");
  }
}

TEST_CASE("wal: damage in the last segment with data after it is corruption", "[storage][wal]") {
  ThreeSegments t;
  const uint64_t last = t.starts.size() - 1;
  REQUIRE(t.starts[last].size() >= 3);
  const uint64_t entry = t.starts[last][1];
  t.Flip(last, entry + kFragmentHeaderSize + 5);
  const auto r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains(SegmentPath(kDir, last)));
  CHECK_THAT(r.status.message(), Catch::Contains("offset " + std::to_string(entry)));
}

TEST_CASE("wal: a truncated segment before the last is corruption unless a restart followed it",
          "[storage][wal]") {
  ThreeSegments t;
  const std::string path = SegmentPath(kDir, 1);
  const uint64_t size = t.fs->FileSize(path).value();
  REQUIRE(t.fs->Truncate(path, size - 10).ok());
  auto r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains(path));

  // Same damage, but segment 2 was started by a new writer session: the tail of segment 1 is a
  // torn write from before the restart.
  std::string seg2 = ReadAll(t.fs.get(), SegmentPath(kDir, 2));
  seg2[5] = static_cast<char>(kSegmentFlagSessionStart);
  REQUIRE(WriteAll(t.fs.get(), SegmentPath(kDir, 2), seg2).ok());
  r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records.size() == t.records.size() - 1);
  CHECK(r.stats.torn_bytes > 0);
  REQUIRE(r.stats.torn.size() == 1);
  CHECK_THAT(r.stats.torn[0], Catch::Contains(path));
}

TEST_CASE("wal: a missing segment is corruption after replaying what precedes it",
          "[storage][wal]") {
  ThreeSegments t;
  REQUIRE(t.fs->RemoveFile(SegmentPath(kDir, 1)).ok());
  const auto r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains("missing segment 00000001"));
  CHECK(r.records.size() == t.starts[0].size());
  REQUIRE(r.corruption);
  REQUIRE(Repair(t.fs.get(), *r.corruption).ok());
  const auto after = ReplayAll(t.fs.get(), kDir);
  REQUIRE(after.status.ok());
  CHECK(after.records.size() == t.starts[0].size());
}

TEST_CASE("wal: a bad segment header is corruption at offset 0", "[storage][wal]") {
  ThreeSegments t;
  t.Flip(1, 1);
  const auto r = ReplayAll(t.fs.get(), kDir);
  REQUIRE(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::Contains("offset 0"));
  REQUIRE(r.corruption);
  CHECK(r.corruption->offset == 0);
  REQUIRE(Repair(t.fs.get(), *r.corruption).ok());
  CHECK_FALSE(t.fs->FileExists(SegmentPath(kDir, 1)));
  CHECK(ReplayAll(t.fs.get(), kDir).status.ok());
}

TEST_CASE("wal: random damage never crashes replay", "[storage][wal]") {
  ThreeSegments t;
  std::mt19937_64 rng(7);
  const std::string seg1 = ReadAll(t.fs.get(), SegmentPath(kDir, 1));
  for (int i = 0; i < 200; ++i) {
    std::string data = seg1;
    for (int k = 0; k < 1 + i % 5; ++k) data[rng() % data.size()] = static_cast<char>(rng());
    if (i % 7 == 0) data.resize(rng() % data.size());
    REQUIRE(WriteAll(t.fs.get(), SegmentPath(kDir, 1), data).ok());
    const auto r = ReplayAll(t.fs.get(), kDir);
    REQUIRE((r.status.ok() || r.status.IsCorruption() ||
             r.status.code() == StatusCode::kNotSupported));
    if (!r.status.ok()) CHECK_THAT(r.status.message(), Catch::Contains("00000001"));
    REQUIRE(r.records.size() <= t.records.size());
    for (size_t j = 0; j < r.records.size(); ++j) REQUIRE(r.records[j] == t.records[j]);
  }
}

TEST_CASE("wal: kAlways syncs once per Log, kNever only on rotation and close",
          "[storage][wal]") {
  auto fs = NewMemFileSystem();
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kAlways));
    for (int i = 0; i < 10; ++i) REQUIRE(wal->Log("r").ok());
    CHECK(wal->stats().fsyncs == 10);
    REQUIRE(wal->Sync().ok());
    CHECK(wal->stats().fsyncs == 10);  // nothing new to sync
  }
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, kPageSize));
    for (int i = 0; i < 10; ++i) REQUIRE(wal->Log("r").ok());
    CHECK(wal->stats().fsyncs == 0);
    REQUIRE(wal->Log(PatternRecord(1, kPageSize)).ok());  // rotates
    CHECK(wal->stats().fsyncs == 1);
    REQUIRE(wal->Close().ok());
    CHECK(wal->stats().fsyncs == 2);
  }
}

// A monotonic clock that moves `step` nanoseconds at every reading, so an fsync (read before and
// after) takes exactly `step`.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(int64_t step) : step_(step) {}
  int64_t NowMillis() const override { return NowNanos() / 1'000'000; }
  int64_t NowNanos() const override { return now_.fetch_add(step_) + step_; }

 private:
  const int64_t step_;
  mutable std::atomic<int64_t> now_{0};
};

TEST_CASE("wal: fsync latency lands in its histogram bucket", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  SteppingClock clock(3'000'000);  // 3 ms: above the 2.5 ms bound, within 5 ms
  WalOptions o = Opts(SyncPolicy::kAlways);
  o.clock = &clock;
  auto wal = MustOpen(fs.get(), o);
  CHECK(wal->fsync_histogram().count == 0);
  for (int i = 0; i < 4; ++i) REQUIRE(wal->Log("r").ok());
  FsyncHistogram h = wal->fsync_histogram();
  CHECK(h.count == 4);
  CHECK(h.count == wal->stats().fsyncs);
  CHECK(h.sum_nanos == 4 * 3'000'000u);
  const size_t want = 6;
  REQUIRE(kFsyncBucketNanos[want - 1] < 3'000'000u);
  REQUIRE(kFsyncBucketNanos[want] >= 3'000'000u);
  for (size_t i = 0; i < kFsyncBucketCount; ++i) {
    INFO("bucket " << i);
    CHECK(h.buckets[i] == (i == want ? 4u : 0u));
  }
}

TEST_CASE("wal: an fsync at a bucket bound counts in that bucket, a slow one in +Inf",
          "[storage][wal]") {
  auto fs = NewMemFileSystem();
  SECTION("exactly 1 ms") {
    SteppingClock clock(1'000'000);
    WalOptions o = Opts(SyncPolicy::kAlways);
    o.clock = &clock;
    auto wal = MustOpen(fs.get(), o);
    REQUIRE(wal->Log("r").ok());
    CHECK(wal->fsync_histogram().buckets[4] == 1);  // kFsyncBucketNanos[4] == 1 ms
  }
  SECTION("20 s") {
    SteppingClock clock(20'000'000'000);
    WalOptions o = Opts(SyncPolicy::kAlways);
    o.clock = &clock;
    auto wal = MustOpen(fs.get(), o);
    REQUIRE(wal->Log("r").ok());
    CHECK(wal->fsync_histogram().buckets[kFsyncBucketCount - 1] == 1);
  }
}

TEST_CASE("wal: kInterval syncs in the background", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  WalOptions o = Opts(SyncPolicy::kInterval);
  o.sync_interval = std::chrono::milliseconds(5);
  auto wal = MustOpen(fs.get(), o);
  REQUIRE(wal->Log("r").ok());
  for (int i = 0; i < 400 && wal->stats().fsyncs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(wal->stats().fsyncs >= 1);
  // The synced batch survives a power loss.
  fs->SimulateCrash();
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records == std::vector<std::string>{"r"});
}

TEST_CASE("wal: after a power loss kAlways keeps every acknowledged batch", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  std::vector<std::string> want;
  for (int session = 0; session < 3; ++session) {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kAlways, 3 * kPageSize));
    for (int i = 0; i < 30; ++i) {
      want.push_back(PatternRecord(session * 100 + i, 700));
      REQUIRE(wal->Log(want.back()).ok());
    }
    fs->SimulateCrash();  // the Wal object is abandoned mid-segment
    wal.reset();
    const auto r = ReplayAll(fs.get(), kDir);
    REQUIRE(r.status.ok());
    REQUIRE(r.records == want);
  }
}

TEST_CASE("wal: after a power loss kNever replays a clean prefix", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  std::vector<std::string> logged;
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, 2 * kPageSize));
    for (int i = 0; i < 100; ++i) {
      logged.push_back(PatternRecord(i, 900));
      REQUIRE(wal->Log(logged.back()).ok());
    }
    fs->SimulateCrash();
  }
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  // Rotated segments were synced; only the open one is lost.
  CHECK(r.records.size() > 0);
  CHECK(r.records.size() < logged.size());
  CHECK(r.records == std::vector<std::string>(logged.begin(), logged.begin() + r.records.size()));
}

TEST_CASE("wal: many threads log concurrently", "[storage][wal]") {
  auto fs = NewMemFileSystem();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  {
    auto wal = MustOpen(fs.get(), Opts(SyncPolicy::kNever, 8 * kPageSize));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string a = "t" + std::to_string(t) + "-" + std::to_string(i);
          const std::string b = a + "-second";
          const std::string_view batch[] = {a, b};
          REQUIRE(wal->Log(batch).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wal->stats().records == 2 * kThreads * kPerThread);
  }
  const auto r = ReplayAll(fs.get(), kDir);
  REQUIRE(r.status.ok());
  REQUIRE(r.records.size() == 2 * kThreads * kPerThread);
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < r.records.size(); i += 2) {
    // Batches stay together and each thread's batches keep their order.
    const std::string& a = r.records[i];
    REQUIRE(r.records[i + 1] == a + "-second");
    const int t = a[1] - '0';
    REQUIRE(a == "t" + std::to_string(t) + "-" + std::to_string(next[t]));
    ++next[t];
  }
}

TEST_CASE("wal: a failed write abandons the segment and the next Log starts another",
          "[storage][wal]") {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fault(mem.get());
  auto wal = MustOpen(&fault);
  REQUIRE(wal->Log("one").ok());
  fault.SetWriteBudget(10);  // the next append writes 10 bytes of its fragment, then NoSpace
  CHECK(wal->Log(PatternRecord(1, 100)).IsNoSpace());
  CHECK(wal->stats().write_errors == 1);
  fault.ClearFaults();
  REQUIRE(wal->Log("two").ok());
  CHECK(wal->LastSegment() == 1);
  REQUIRE(wal->Close().ok());
  // Segment 0 ends in a partial fragment; segment 1 says a session started, so that is a torn
  // tail, not corruption.
  const auto r = ReplayAll(mem.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records == std::vector<std::string>{"one", "two"});
  CHECK(r.stats.torn_bytes == 10);
}

TEST_CASE("wal: a failed fsync is reported and the WAL moves on", "[storage][wal]") {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fault(mem.get());
  auto wal = MustOpen(&fault, Opts(SyncPolicy::kAlways));
  REQUIRE(wal->Log("one").ok());
  fault.FailNthSync(1);
  CHECK_FALSE(wal->Log("two").ok());
  REQUIRE(wal->Log("three").ok());
  CHECK(wal->LastSegment() == 1);
  REQUIRE(wal->Close().ok());
  const auto r = ReplayAll(mem.get(), kDir);
  REQUIRE(r.status.ok());
  CHECK(r.records.front() == "one");
  CHECK(r.records.back() == "three");
}

}  // namespace
}  // namespace vigil::storage::wal
