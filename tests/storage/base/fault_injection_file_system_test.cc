#include "storage/base/fault_injection_file_system.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/storage/base/fs_test_util.h"

namespace vigil {
namespace {

using testing::Contents;
using testing::TempDir;
using testing::WriteAll;

struct Setup {
  std::unique_ptr<MemFileSystem> mem = NewMemFileSystem();
  FaultInjectionFileSystem fs{mem.get()};
  Setup() {
    REQUIRE(mem->CreateDir("/db").ok());
    REQUIRE(mem->SyncDir("/").ok());
  }
};

TEST_CASE("the Nth append fails once, or from then on when sticky",
          "[storage][base][fault]") {
  Setup s;
  auto w = s.fs.NewWritableFile("/db/wal");
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("1").ok());
  s.fs.FailNthAppend(2);  // counted from now: the 3rd append overall
  REQUIRE((*w)->Append("2").ok());
  Status failed = (*w)->Append("3");
  CHECK(failed.IsIOError());
  CHECK_THAT(failed.message(), Catch::Contains("injected"));
  CHECK_THAT(failed.message(), Catch::Contains("/db/wal"));
  REQUIRE((*w)->Append("4").ok());
  CHECK(Contents(&s.fs, "/db/wal") == "124");  // the failed append wrote nothing

  s.fs.FailNthAppend(1, /*sticky=*/true);
  CHECK_FALSE((*w)->Append("5").ok());
  CHECK_FALSE((*w)->Append("6").ok());
  s.fs.ClearFaults();
  REQUIRE((*w)->Append("7").ok());
  CHECK(Contents(&s.fs, "/db/wal") == "1247");
  CHECK(s.fs.count(FaultOp::kAppend) == 7);
  CHECK(s.fs.injected_faults() == 3);
  CHECK(s.fs.bytes_appended() == 4);
}

TEST_CASE("the Nth sync fails and leaves the synced size unchanged", "[storage][base][fault]") {
  Setup s;
  auto w = s.fs.NewWritableFile("/db/wal");
  REQUIRE(w.ok());
  REQUIRE(s.fs.SyncDir("/db").ok());
  REQUIRE((*w)->Append("aa").ok());
  REQUIRE((*w)->Sync().ok());
  s.fs.FailNthSync(1);
  REQUIRE((*w)->Append("bb").ok());
  CHECK((*w)->Sync().IsIOError());
  REQUIRE((*w)->Close().ok());
  CHECK(s.fs.count(FaultOp::kSync) == 2);
  REQUIRE(s.fs.DropUnsyncedData().ok());
  CHECK(Contents(&s.fs, "/db/wal") == "aa");
}

TEST_CASE("a write budget gives a partial write and then NoSpace", "[storage][base][fault]") {
  Setup s;
  auto w = s.fs.NewWritableFile("/db/seg");
  REQUIRE(w.ok());
  s.fs.SetWriteBudget(10);
  REQUIRE((*w)->Append("123456").ok());
  Status full = (*w)->Append("789abc");
  CHECK(full.IsNoSpace());
  CHECK_THAT(full.message(), Catch::Contains("/db/seg"));
  CHECK((*w)->Size() == 10);
  CHECK((*w)->Append("z").IsNoSpace());
  CHECK(Contents(&s.fs, "/db/seg") == "123456789a");
  CHECK(s.fs.bytes_appended() == 10);
  CHECK(s.fs.injected_faults() == 2);
  s.fs.ClearWriteBudget();
  CHECK((*w)->Append("!").ok());
}

TEST_CASE("failed publish steps leave the old file in place", "[storage][base][fault]") {
  Setup s;
  REQUIRE(WriteFileAtomic(&s.fs, "/db/meta", "v1").ok());
  s.fs.FailNth(FaultOp::kRename, 1);
  CHECK(WriteFileAtomic(&s.fs, "/db/meta", "v2").IsIOError());
  CHECK(Contents(&s.fs, "/db/meta") == "v1");
  CHECK_FALSE(s.fs.FileExists("/db/meta.tmp"));  // cleaned up

  s.fs.FailNth(FaultOp::kOpenWrite, 1);
  CHECK(WriteFileAtomic(&s.fs, "/db/meta", "v3").IsIOError());

  // If only the final directory sync fails, the new content is visible but not promised durable.
  s.fs.FailNth(FaultOp::kSyncDir, 1);
  CHECK(WriteFileAtomic(&s.fs, "/db/meta", "v4").IsIOError());
  CHECK(Contents(&s.fs, "/db/meta") == "v4");
  s.mem->SimulateCrash();
  CHECK(Contents(&s.fs, "/db/meta") == "v1");
}

TEST_CASE("counters count every call and can be reset", "[storage][base][fault]") {
  Setup s;
  REQUIRE(WriteAll(&s.fs, "/db/a", "xyz").ok());
  REQUIRE(s.fs.Rename("/db/a", "/db/b").ok());
  REQUIRE(s.fs.SyncDir("/db").ok());
  CHECK(s.fs.count(FaultOp::kOpenWrite) == 1);
  CHECK(s.fs.count(FaultOp::kAppend) == 1);
  CHECK(s.fs.count(FaultOp::kSync) == 1);
  CHECK(s.fs.count(FaultOp::kRename) == 1);
  CHECK(s.fs.count(FaultOp::kSyncDir) == 1);
  CHECK(s.fs.bytes_appended() == 3);

  s.fs.FailNthAppend(2);
  s.fs.ResetCounters();
  CHECK(s.fs.count(FaultOp::kAppend) == 0);
  auto w = s.fs.NewAppendableFile("/db/b");
  REQUIRE(w.ok());
  CHECK((*w)->Append("1").ok());
  CHECK_FALSE((*w)->Append("2").ok());  // the plan kept its place across the reset
}

TEST_CASE("DropUnsyncedData truncates to synced sizes and removes unsynced creations",
          "[storage][base][fault][crash]") {
  Setup s;
  REQUIRE(WriteAll(s.mem.get(), "/db/old", "pre-existing").ok());  // not through the wrapper
  REQUIRE(s.mem->SyncDir("/db").ok());

  auto wal = s.fs.NewWritableFile("/db/wal");
  REQUIRE(wal.ok());
  REQUIRE(s.fs.SyncDir("/db").ok());
  REQUIRE((*wal)->Append("synced|").ok());
  REQUIRE((*wal)->Sync().ok());
  REQUIRE((*wal)->Append("lost").ok());

  auto old = s.fs.NewAppendableFile("/db/old");
  REQUIRE(old.ok());
  REQUIRE((*old)->Append("+lost").ok());

  REQUIRE(WriteAll(&s.fs, "/db/new", "synced but name not").ok());
  CHECK(s.fs.DropUnsyncedData().code() == StatusCode::kInvalidArgument);  // files still open
  REQUIRE((*wal)->Close().ok());
  REQUIRE((*old)->Close().ok());

  REQUIRE(s.fs.DropUnsyncedData().ok());
  CHECK(Contents(&s.fs, "/db/wal") == "synced|");
  CHECK(Contents(&s.fs, "/db/old") == "pre-existing");
  CHECK(Contents(&s.fs, "/db/new") == "<missing>");
  // Every surviving file is exactly what MemFileSystem's own crash model keeps.
  s.mem->SimulateCrash();
  CHECK(Contents(&s.fs, "/db/wal") == "synced|");
  CHECK(Contents(&s.fs, "/db/old") == "pre-existing");
}

TEST_CASE("DropUnsyncedData follows renames", "[storage][base][fault][crash]") {
  Setup s;
  // Renamed onto a durable name: the rename result stays.
  REQUIRE(WriteAll(&s.fs, "/db/meta", "v1").ok());
  REQUIRE(s.fs.SyncDir("/db").ok());
  REQUIRE(WriteAll(&s.fs, "/db/meta.tmp", "v2").ok());
  REQUIRE(s.fs.Rename("/db/meta.tmp", "/db/meta").ok());
  // Created, renamed to a fresh name, never dir-synced: gone.
  REQUIRE(WriteAll(&s.fs, "/db/x.tmp", "x").ok());
  REQUIRE(s.fs.Rename("/db/x.tmp", "/db/x").ok());
  // Created, renamed, then dir-synced: durable.
  REQUIRE(WriteAll(&s.fs, "/db/y.tmp", "y").ok());
  REQUIRE(s.fs.Rename("/db/y.tmp", "/db/y").ok());
  REQUIRE(s.fs.SyncDir("/db").ok());
  REQUIRE(WriteAll(&s.fs, "/db/z.tmp", "z").ok());
  REQUIRE(s.fs.Rename("/db/z.tmp", "/db/z").ok());

  REQUIRE(s.fs.DropUnsyncedData().ok());
  CHECK(Contents(&s.fs, "/db/meta") == "v2");
  CHECK(Contents(&s.fs, "/db/x") == "x");  // the later SyncDir covered it as well
  CHECK(Contents(&s.fs, "/db/y") == "y");
  CHECK(Contents(&s.fs, "/db/z") == "<missing>");
}

TEST_CASE("fault injection works over the POSIX file system", "[storage][base][fault][posix]") {
  TempDir dir;
  FaultInjectionFileSystem fs(DefaultFileSystem());
  const std::string wal = JoinPath(dir.path(), "wal");
  const std::string fresh = JoinPath(dir.path(), "fresh");
  auto w = fs.NewWritableFile(wal);
  REQUIRE(w.ok());
  REQUIRE(fs.SyncDir(dir.path()).ok());
  REQUIRE((*w)->Append(std::string(100000, 'a')).ok());
  REQUIRE((*w)->Sync().ok());
  REQUIRE((*w)->Append(std::string(5000, 'b')).ok());  // buffered in user space
  REQUIRE((*w)->Close().ok());
  REQUIRE(WriteAll(&fs, fresh, "f").ok());
  CHECK(*fs.FileSize(wal) == 105000);

  REQUIRE(fs.DropUnsyncedData().ok());
  CHECK(*fs.FileSize(wal) == 100000);
  CHECK_FALSE(fs.FileExists(fresh));

  fs.SetWriteBudget(3);
  auto w2 = fs.NewAppendableFile(wal);
  REQUIRE(w2.ok());
  CHECK((*w2)->Append("xyzw").IsNoSpace());
  REQUIRE((*w2)->Close().ok());
  CHECK(*fs.FileSize(wal) == 100003);
}

}  // namespace
}  // namespace vigil
