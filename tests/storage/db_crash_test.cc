// Crash tests of the Db: acknowledged batches survive a kill at any moment, and a batch is either
// whole or absent after recovery. Tagged [.][crash] so they run in their own step.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "storage/base/clock.h"
#include "storage/base/fault_injection_file_system.h"
#include "storage/base/file_system.h"
#include "storage/base/logging.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::storage {
namespace {

constexpr int kSeriesPerBatch = 8;

Labels SeriesLabels(int s) {
  return Labels::FromPairs({{"__name__", "crash_test"}, {"series", std::to_string(s)}});
}

// Deterministic, includes values that need every bit (negative, fractions, the stale marker).
double Value(int s, int64_t batch) {
  if (batch % 97 == 13) {
    uint64_t bits = 0x7ff0000000000002ULL;
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  return double(s) * 1000.25 - double(batch) / 3.0;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Appends batches start, start+1, ... (one sample per series at t = batch * 1000). Returns the
// first failing status, or OK after `count` batches. `on_ack` runs after each successful Commit().
template <typename OnAck>
Status AppendBatches(Db& db, int64_t start, int64_t count, OnAck on_ack) {
  auto app = db.NewAppender();
  std::vector<SeriesRef> refs(kSeriesPerBatch, kNoSeriesRef);
  for (int64_t b = start; b < start + count; ++b) {
    for (int s = 0; s < kSeriesPerBatch; ++s) {
      if (refs[s] == kNoSeriesRef) {
        auto r = app->Append(SeriesLabels(s), b * 1000, Value(s, b));
        if (!r.ok()) return r.status();
        refs[s] = *r;
      } else {
        VIGIL_RETURN_IF_ERROR(app->AppendByRef(refs[s], b * 1000, Value(s, b)));
      }
    }
    VIGIL_RETURN_IF_ERROR(app->Commit());
    on_ack(b);
  }
  return Status::OK();
}

// Checks that every series holds exactly batches 0..n-1 with the right values; returns n, or -1
// (with a failed CHECK) if the content is not such a prefix.
int64_t VerifyPrefix(Db& db) {
  auto q = db.NewQuerier(INT64_MIN, INT64_MAX);
  REQUIRE(q.ok());
  auto m = Matcher::Make(MatchType::kEqual, "__name__", "crash_test");
  REQUIRE(m.ok());
  std::vector<Matcher> ms;
  ms.push_back(std::move(*m));
  auto set = (*q)->Select(ms);
  int64_t n = -2;
  int series = 0;
  while (set->Next()) {
    const int s = std::atoi(std::string(set->labels().Get("series")).c_str());
    auto it = set->Samples();
    std::vector<int64_t> ts(256);
    std::vector<double> vs(256);
    int64_t count = 0;
    while (size_t k = it->Next(ts, vs)) {
      for (size_t i = 0; i < k; ++i, ++count) {
        if (ts[i] != count * 1000 || !SameBits(vs[i], Value(s, count))) {
          FAIL_CHECK("series " << s << " sample " << count << ": got t=" << ts[i] << " v=" << vs[i]);
          return -1;
        }
      }
    }
    REQUIRE(it->status().ok());
    if (n == -2) n = count;
    if (count != n) {
      FAIL_CHECK("half-written batch: series " << s << " has " << count << " samples, another " << n);
      return -1;
    }
    ++series;
  }
  REQUIRE(set->status().ok());
  if (series == 0) return 0;
  CHECK(series == kSeriesPerBatch);
  return n;
}

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-crash-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

TEST_CASE("acknowledged batches survive SIGKILL at random moments (100 kills)", "[.][crash][storage][db]") {
  SetMinLogLevel(LogLevel::kError);
  const std::string root = MakeTempDir();
  const std::string dir = root + "/data";
  std::mt19937_64 rng(20261127);
  int64_t next_batch = 0;
  int64_t total_acked_checked = 0;
  for (int round = 0; round < 100; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      DbOptions o;
      o.wal_sync = WalSyncPolicy::kAlways;
      auto db = Db::Open(o, dir);
      if (!db.ok()) _exit(3);
      Status st = AppendBatches(**db, next_batch, 1'000'000, [&](int64_t b) {
        if (write(fds[1], &b, sizeof b) != sizeof b) _exit(4);
      });
      _exit(st.ok() ? 0 : 5);
    }
    close(fds[1]);
    // Kill at a random moment: sometimes while the child is still opening and replaying.
    std::uniform_int_distribution<int> delay_us(0, 60'000);
    usleep(delay_us(rng));
    kill(pid, SIGKILL);
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    INFO("round " << round);
    REQUIRE(WIFSIGNALED(wstatus));  // exited on its own means it failed: codes 3..5
    int64_t last_acked = next_batch - 1;
    int64_t b;
    while (read(fds[0], &b, sizeof b) == sizeof b) last_acked = b;
    close(fds[0]);

    DbOptions o;
    o.wal_sync = WalSyncPolicy::kAlways;
    auto db = Db::Open(o, dir);
    REQUIRE(db.ok());
    const int64_t n = VerifyPrefix(**db);
    REQUIRE(n >= 0);
    CHECK(n >= last_acked + 1);  // nothing acknowledged is missing
    CHECK(n <= last_acked + 2);  // at most the one in-flight batch beyond the acknowledged ones
    total_acked_checked += last_acked + 1;
    next_batch = n;
    REQUIRE((*db)->Close().ok());
  }
  CHECK(next_batch > 100);  // the children did real work between kills
  std::filesystem::remove_all(root);
}

TEST_CASE("acknowledged batches survive losing unsynced data (100 injected crashes)", "[.][crash][storage][db]") {
  SetMinLogLevel(LogLevel::kError);
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fs(mem.get());
  ManualClock clock(0);
  std::mt19937_64 rng(11272026);
  int64_t next_batch = 0;
  for (int round = 0; round < 100; ++round) {
    INFO("round " << round);
    DbOptions o;
    o.fs = &fs;
    o.clock = &clock;
    o.wal_sync = WalSyncPolicy::kAlways;
    o.wal_segment_bytes = 64 << 10;  // rotate often, so crashes also hit segment starts
    int64_t last_acked = next_batch - 1;
    {
      auto db = Db::Open(o, "/data");
      REQUIRE(db.ok());
      // The crash: from a random append on, every write and sync fails, as if the power went.
      std::uniform_int_distribution<uint64_t> nth(1, 400);
      fs.FailNth(FaultOp::kAppend, nth(rng), /*sticky=*/true);
      Status st = AppendBatches(**db, next_batch, 1'000'000, [&](int64_t b) { last_acked = b; });
      CHECK_FALSE(st.ok());
      fs.FailNth(FaultOp::kSync, 1, true);
      fs.FailNth(FaultOp::kSyncDir, 1, true);
      fs.FailNth(FaultOp::kRename, 1, true);
      fs.FailNth(FaultOp::kOpenWrite, 1, true);
      (*db)->Close().IgnoreError();  // fails: the machine is "off"
    }
    mem->SimulateCrash();  // unsynced file tails and directory entries are gone
    fs.ClearFaults();
    auto db = Db::Open(o, "/data");
    REQUIRE(db.ok());
    const int64_t n = VerifyPrefix(**db);
    REQUIRE(n >= 0);
    CHECK(n >= last_acked + 1);
    CHECK(n <= last_acked + 2);
    next_batch = n;
    REQUIRE((*db)->Close().ok());
  }
  CHECK(next_batch > 100);
}

}  // namespace
}  // namespace vigil::storage
