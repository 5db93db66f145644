// The crash model of MemFileSystem (mem_file_system.h): what exactly survives SimulateCrash().

#include "storage/base/mem_file_system.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/storage/base/fs_test_util.h"

namespace vigil {
namespace {

using testing::Contents;
using testing::WriteAll;

// A memory file system with a durable directory "/db".
std::unique_ptr<MemFileSystem> FreshFs() {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDir("/db").ok());
  REQUIRE(fs->SyncDir("/").ok());
  return fs;
}

TEST_CASE("crash keeps synced bytes and drops the unsynced tail", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  auto w = fs->NewWritableFile("/db/wal");
  REQUIRE(w.ok());
  REQUIRE(fs->SyncDir("/db").ok());
  REQUIRE((*w)->Append("aaaa").ok());
  REQUIRE((*w)->Sync().ok());
  REQUIRE((*w)->Append("bbbb").ok());
  REQUIRE((*w)->Sync().ok());
  REQUIRE((*w)->Append("cccc").ok());  // never synced
  CHECK(Contents(fs.get(), "/db/wal") == "aaaabbbbcccc");

  fs->SimulateCrash();
  CHECK(fs->crash_count() == 1);
  CHECK(Contents(fs.get(), "/db/wal") == "aaaabbbb");
  // The old handle belongs to the dead process.
  Status stale = (*w)->Append("dddd");
  CHECK(stale.IsIOError());
  CHECK_THAT(stale.message(), Catch::Contains("simulated crash"));
  CHECK(Contents(fs.get(), "/db/wal") == "aaaabbbb");
}

TEST_CASE("a new file vanishes unless its directory was synced", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(WriteAll(fs.get(), "/db/synced-data-only", "data").ok());
  auto w = fs->NewWritableFile("/db/dir-synced-only");
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("not synced").ok());
  REQUIRE(fs->SyncDir("/db").ok());  // makes both names durable, no file data
  REQUIRE(WriteAll(fs.get(), "/db/created-after-syncdir", "data").ok());

  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/synced-data-only") == "data");  // name was covered by SyncDir
  CHECK(Contents(fs.get(), "/db/dir-synced-only") == "");       // name durable, bytes not
  CHECK(Contents(fs.get(), "/db/created-after-syncdir") == "<missing>");
  CHECK(*fs->ListDir("/db") == std::vector<std::string>{"dir-synced-only", "synced-data-only"});
}

TEST_CASE("an unsynced directory takes its synced contents with it", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(fs->CreateDirs("/db/a/b").ok());
  REQUIRE(WriteAll(fs.get(), "/db/a/b/f", "x").ok());
  REQUIRE(fs->SyncDir("/db/a/b").ok());
  REQUIRE(fs->SyncDir("/db/a").ok());
  // "/db" itself was never synced after "a" was created.
  fs->SimulateCrash();
  CHECK_FALSE(fs->FileExists("/db/a"));
  CHECK(fs->DirExists("/db"));
}

TEST_CASE("unsynced renames and removals are undone", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(WriteAll(fs.get(), "/db/a", "A").ok());
  REQUIRE(WriteAll(fs.get(), "/db/b", "B").ok());
  REQUIRE(WriteAll(fs.get(), "/db/gone", "G").ok());
  REQUIRE(fs->SyncDir("/db").ok());

  REQUIRE(fs->Rename("/db/a", "/db/b").ok());
  REQUIRE(fs->RemoveFile("/db/gone").ok());
  CHECK(Contents(fs.get(), "/db/b") == "A");
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/a") == "A");
  CHECK(Contents(fs.get(), "/db/b") == "B");
  CHECK(Contents(fs.get(), "/db/gone") == "G");

  REQUIRE(fs->Rename("/db/a", "/db/b").ok());
  REQUIRE(fs->RemoveFile("/db/gone").ok());
  REQUIRE(fs->SyncDir("/db").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/a") == "<missing>");
  CHECK(Contents(fs.get(), "/db/b") == "A");
  CHECK(Contents(fs.get(), "/db/gone") == "<missing>");
}

TEST_CASE("WriteFileAtomic survives a crash right after it returns", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(WriteFileAtomic(fs.get(), "/db/meta", "v1").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/meta") == "v1");
  REQUIRE(WriteFileAtomic(fs.get(), "/db/meta", "v2").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/meta") == "v2");
  CHECK(*fs->ListDir("/db") == std::vector<std::string>{"meta"});
}

TEST_CASE("a rename published without syncing the data is empty after a crash",
          "[storage][base][mem][crash]") {
  // The classic bug WriteFileAtomic avoids: rename a file whose bytes were never synced.
  auto fs = FreshFs();
  REQUIRE(WriteFileAtomic(fs.get(), "/db/meta", "v1").ok());
  REQUIRE(WriteAll(fs.get(), "/db/meta.tmp", "v2", /*sync=*/false).ok());
  REQUIRE(fs->Rename("/db/meta.tmp", "/db/meta").ok());
  REQUIRE(fs->SyncDir("/db").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/meta") == "");
}

TEST_CASE("a block directory published by rename keeps its files", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  for (bool sync_tmp_dir : {true, false}) {
    INFO("sync_tmp_dir=" << sync_tmp_dir);
    REQUIRE(fs->RemoveDirAll("/db/block").ok());
    REQUIRE(fs->CreateDir("/db/block.tmp").ok());
    REQUIRE(WriteAll(fs.get(), "/db/block.tmp/index", "idx").ok());
    REQUIRE(WriteAll(fs.get(), "/db/block.tmp/chunks", "chk").ok());
    if (sync_tmp_dir) REQUIRE(fs->SyncDir("/db/block.tmp").ok());
    REQUIRE(fs->Rename("/db/block.tmp", "/db/block").ok());
    REQUIRE(fs->SyncDir("/db").ok());
    fs->SimulateCrash();
    CHECK(fs->DirExists("/db/block"));
    CHECK_FALSE(fs->FileExists("/db/block.tmp"));
    if (sync_tmp_dir) {
      CHECK(*fs->ListDir("/db/block") == std::vector<std::string>{"chunks", "index"});
      CHECK(Contents(fs.get(), "/db/block/index") == "idx");
    } else {
      CHECK(fs->ListDir("/db/block")->empty());  // names inside were never made durable
    }
  }
}

TEST_CASE("a cross-directory rename synced only at the target leaves two names",
          "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(fs->CreateDir("/db/x").ok());
  REQUIRE(fs->CreateDir("/db/y").ok());
  REQUIRE(fs->SyncDir("/db").ok());
  REQUIRE(WriteAll(fs.get(), "/db/x/f", "data").ok());
  REQUIRE(fs->SyncDir("/db/x").ok());
  REQUIRE(fs->Rename("/db/x/f", "/db/y/f").ok());
  REQUIRE(fs->SyncDir("/db/y").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/x/f") == "data");
  CHECK(Contents(fs.get(), "/db/y/f") == "data");
  // Renaming one name onto the other (same inode) is a no-op, as on POSIX.
  REQUIRE(fs->Rename("/db/x/f", "/db/y/f").ok());
  CHECK(fs->FileExists("/db/x/f"));
}

TEST_CASE("truncation by reopening is undone, Truncate() is durable", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(WriteAll(fs.get(), "/db/f", "0123456789").ok());
  REQUIRE(fs->SyncDir("/db").ok());
  REQUIRE(WriteAll(fs.get(), "/db/f", "new", /*sync=*/false).ok());
  CHECK(Contents(fs.get(), "/db/f") == "new");
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/f") == "0123456789");

  auto app = fs->NewAppendableFile("/db/f");
  REQUIRE(app.ok());
  REQUIRE((*app)->Append("XYZ").ok());  // unsynced...
  REQUIRE(fs->Truncate("/db/f", 12).ok());  // ...but Truncate syncs the whole file
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/f") == "0123456789XY");
}

TEST_CASE("a file synced, shrunk and regrown keeps exactly its last synced bytes",
          "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  auto w = fs->NewWritableFile("/db/f");
  REQUIRE(w.ok());
  REQUIRE(fs->SyncDir("/db").ok());
  REQUIRE((*w)->Append("abcdef").ok());
  REQUIRE((*w)->Sync().ok());
  REQUIRE(fs->Truncate("/db/f", 2).ok());
  REQUIRE((*w)->Append("XY").ok());
  REQUIRE((*w)->Sync().ok());
  REQUIRE((*w)->Append("unsynced").ok());
  fs->SimulateCrash();
  CHECK(Contents(fs.get(), "/db/f") == "abXY");
}

TEST_CASE("a crash releases locks and invalidates readers", "[storage][base][mem][crash]") {
  auto fs = FreshFs();
  REQUIRE(WriteAll(fs.get(), "/db/f", "abc").ok());
  REQUIRE(fs->SyncDir("/db").ok());
  auto lock = fs->LockFile("/db/LOCK");
  REQUIRE(lock.ok());
  auto r = fs->NewRandomAccessFile("/db/f");
  REQUIRE(r.ok());
  CHECK_FALSE(fs->LockFile("/db/./LOCK").ok());  // same lock under another spelling
  fs->SimulateCrash();
  auto relock = fs->LockFile("/db/LOCK");
  CHECK(relock.ok());
  char buf[4];
  CHECK((*r)->ReadAt(0, 3, buf).status().IsIOError());
  lock->reset();  // the dead holder's release must not free the new holder's lock
  CHECK_FALSE(fs->LockFile("/db/LOCK").ok());
}

TEST_CASE("Mapped is a snapshot unaffected by later writes", "[storage][base][mem]") {
  auto fs = FreshFs();
  auto w = fs->NewWritableFile("/db/f");
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("before").ok());
  auto r = fs->NewRandomAccessFile("/db/f");
  REQUIRE(r.ok());
  auto view = (*r)->Mapped();
  REQUIRE(view.has_value());
  REQUIRE((*w)->Append(std::string(1 << 20, 'x')).ok());  // forces the live buffer to move
  CHECK(*view == "before");
  CHECK(*(*r)->Size() == 6 + (1 << 20));
}

TEST_CASE("paths are resolved lexically from the root", "[storage][base][mem]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("a/b").ok());
  REQUIRE(WriteAll(fs.get(), "/a//b/./f", "x").ok());
  CHECK(Contents(fs.get(), "a/b/f") == "x");
  CHECK(Contents(fs.get(), "/a/b/../b/f") == "x");
  CHECK(*fs->ListDir("/") == std::vector<std::string>{"a"});
  CHECK(*fs->ListDir("") == std::vector<std::string>{"a"});
  CHECK(fs->DirExists("."));
}

}  // namespace
}  // namespace vigil
