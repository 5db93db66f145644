// The FileSystem contract (file_system.h), run against every implementation: POSIX on a temp dir,
// MemFileSystem, and the fault-injection wrapper with no faults planned.

#include "storage/base/file_system.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/base/fs_test_util.h"

namespace vigil {
namespace {

using testing::Contents;
using testing::FaultOverMemFs;
using testing::MemFs;
using testing::PosixFs;
using testing::WriteAll;

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

#define FS_CONTRACT_TEST(name, tags) \
  TEMPLATE_TEST_CASE(name, "[storage][base][fs]" tags, PosixFs, MemFs, FaultOverMemFs)

FS_CONTRACT_TEST("written bytes read back at any offset", "[rw]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "data.bin");
  // Many small appends cross the POSIX 64 KiB buffer; one big append bypasses it.
  std::string expected;
  auto file = fs->NewWritableFile(path);
  REQUIRE(file.ok());
  for (int i = 0; i < 3000; ++i) {
    std::string piece = Pattern(1 + i % 97, i);
    REQUIRE((*file)->Append(piece).ok());
    expected += piece;
    REQUIRE((*file)->Size() == expected.size());
  }
  std::string big = Pattern(200000, 7);
  REQUIRE((*file)->Append(big).ok());
  expected += big;
  REQUIRE((*file)->Append("tail").ok());
  expected += "tail";
  CHECK((*file)->Size() == expected.size());
  REQUIRE((*file)->Sync().ok());
  REQUIRE((*file)->Close().ok());
  CHECK((*file)->Close().ok());  // twice is fine
  CHECK_FALSE((*file)->Append("x").ok());

  CHECK(*fs->FileSize(path) == expected.size());
  auto reader = fs->NewRandomAccessFile(path);
  REQUIRE(reader.ok());
  CHECK(*(*reader)->Size() == expected.size());
  std::string scratch(100000, '\0');
  for (uint64_t off : {uint64_t{0}, uint64_t{1}, uint64_t{65535}, uint64_t{65536}, uint64_t{123457}}) {
    auto got = (*reader)->ReadAt(off, 5000, scratch.data());
    REQUIRE(got.ok());
    CHECK(*got == std::string_view(expected).substr(off, 5000));
  }
  auto tail = (*reader)->ReadAt(expected.size() - 3, 100, scratch.data());
  REQUIRE(tail.ok());
  CHECK(*tail == "ail");  // short at end of file
  auto past = (*reader)->ReadAt(expected.size() + 10, 100, scratch.data());
  REQUIRE(past.ok());
  CHECK(past->empty());
  auto whole = ReadFileToString(fs, path);
  REQUIRE(whole.ok());
  CHECK(*whole == expected);
  if (auto mapped = (*reader)->Mapped()) CHECK(*mapped == expected);
}

FS_CONTRACT_TEST("Mapped covers the file as of the first call", "[rw]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "m");
  REQUIRE(WriteAll(fs, path, "immutable block").ok());
  auto reader = fs->NewRandomAccessFile(path);
  REQUIRE(reader.ok());
  auto mapped = (*reader)->Mapped();
  REQUIRE(mapped.has_value());  // both implementations support it
  CHECK(*mapped == "immutable block");
  CHECK((*reader)->Mapped()->data() == mapped->data());  // same view on every call

  const std::string empty = JoinPath(fx.root, "empty");
  REQUIRE(WriteAll(fs, empty, "").ok());
  auto empty_reader = fs->NewRandomAccessFile(empty);
  REQUIRE(empty_reader.ok());
  auto empty_view = (*empty_reader)->Mapped();
  REQUIRE(empty_view.has_value());
  CHECK(empty_view->empty());
}

FS_CONTRACT_TEST("NewWritableFile truncates and NewAppendableFile appends", "[rw]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "f");
  REQUIRE(WriteAll(fs, path, "first version").ok());
  REQUIRE(WriteAll(fs, path, "2nd").ok());
  CHECK(Contents(fs, path) == "2nd");

  auto app = fs->NewAppendableFile(path);
  REQUIRE(app.ok());
  CHECK((*app)->Size() == 3);
  REQUIRE((*app)->Append("+more").ok());
  CHECK((*app)->Size() == 8);
  REQUIRE((*app)->Close().ok());
  CHECK(Contents(fs, path) == "2nd+more");

  const std::string fresh = JoinPath(fx.root, "fresh");
  auto created = fs->NewAppendableFile(fresh);
  REQUIRE(created.ok());
  CHECK((*created)->Size() == 0);
  REQUIRE((*created)->Close().ok());
  CHECK(fs->FileExists(fresh));
}

FS_CONTRACT_TEST("Flush makes appended bytes visible to readers", "[rw]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "wal");
  auto w = fs->NewWritableFile(path);
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("record-1").ok());
  REQUIRE((*w)->Flush().ok());
  auto r = fs->NewRandomAccessFile(path);
  REQUIRE(r.ok());
  char buf[32];
  auto got = (*r)->ReadAt(0, sizeof(buf), buf);
  REQUIRE(got.ok());
  CHECK(*got == "record-1");
  CHECK(*(*r)->Size() == 8);
}

FS_CONTRACT_TEST("missing paths report NotFound naming the path", "[errors]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string missing = JoinPath(fx.root, "no-such-file");
  auto r = fs->NewRandomAccessFile(missing);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsNotFound());
  CHECK_THAT(r.status().message(), Catch::Contains(missing));
  CHECK_THAT(r.status().message(), Catch::Contains("No such file or directory"));
  CHECK(fs->FileSize(missing).status().IsNotFound());
  CHECK(fs->RemoveFile(missing).IsNotFound());
  CHECK(fs->Rename(missing, missing + "2").IsNotFound());
  CHECK(fs->Truncate(missing, 0).IsNotFound());
  CHECK(fs->ListDir(missing).status().IsNotFound());
  CHECK(fs->SyncDir(missing).IsNotFound());
  CHECK_FALSE(fs->FileExists(missing));
  auto in_missing_dir = fs->NewWritableFile(JoinPath(fx.root, "no-dir/file"));
  REQUIRE_FALSE(in_missing_dir.ok());
  CHECK(in_missing_dir.status().IsNotFound());
}

FS_CONTRACT_TEST("directories: create, list sorted, exist, remove recursively", "[dirs]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string d = JoinPath(fx.root, "blocks");
  REQUIRE(fs->CreateDir(d).ok());
  REQUIRE(fs->CreateDir(d).ok());  // already there is fine
  CHECK(fs->DirExists(d));
  CHECK(fs->FileExists(d));
  for (const char* name : {"b", "a", "Z", "a.tmp", "10", "9"}) {
    REQUIRE(WriteAll(fs, JoinPath(d, name), name).ok());
  }
  REQUIRE(fs->CreateDirs(JoinPath(d, "sub/deeper/deepest")).ok());
  REQUIRE(WriteAll(fs, JoinPath(d, "sub/deeper/deepest/x"), "x").ok());
  CHECK(fs->DirExists(JoinPath(d, "sub/deeper")));
  CHECK_FALSE(fs->DirExists(JoinPath(d, "a")));

  auto names = fs->ListDir(d);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"10", "9", "Z", "a", "a.tmp", "b", "sub"});

  Status over_file = fs->CreateDir(JoinPath(d, "a"));
  CHECK(over_file.code() == StatusCode::kAlreadyExists);
  CHECK_FALSE(fs->RemoveFile(JoinPath(d, "sub")).ok());  // RemoveFile refuses directories
  CHECK_FALSE(fs->NewWritableFile(d).ok());              // a directory is not a file
  CHECK_FALSE(fs->NewRandomAccessFile(d).ok());

  REQUIRE(fs->RemoveFile(JoinPath(d, "a")).ok());
  CHECK_FALSE(fs->FileExists(JoinPath(d, "a")));
  REQUIRE(fs->RemoveDirAll(d).ok());
  CHECK_FALSE(fs->FileExists(d));
  CHECK(fs->RemoveDirAll(d).ok());  // already gone is fine
  CHECK(fs->ListDir(fx.root)->empty());
}

FS_CONTRACT_TEST("Rename replaces files and moves directories", "[rename]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string a = JoinPath(fx.root, "a"), b = JoinPath(fx.root, "b");
  REQUIRE(WriteAll(fs, a, "new").ok());
  REQUIRE(WriteAll(fs, b, "old").ok());
  REQUIRE(fs->Rename(a, b).ok());
  CHECK_FALSE(fs->FileExists(a));
  CHECK(Contents(fs, b) == "new");

  const std::string tmp = JoinPath(fx.root, "block.tmp"), fin = JoinPath(fx.root, "block");
  REQUIRE(fs->CreateDir(tmp).ok());
  REQUIRE(WriteAll(fs, JoinPath(tmp, "chunks"), "c").ok());
  REQUIRE(fs->Rename(tmp, fin).ok());
  CHECK_FALSE(fs->FileExists(tmp));
  CHECK(Contents(fs, JoinPath(fin, "chunks")) == "c");

  // A directory cannot replace a non-empty directory, nor move below itself.
  const std::string other = JoinPath(fx.root, "other");
  REQUIRE(fs->CreateDir(other).ok());
  REQUIRE(WriteAll(fs, JoinPath(other, "f"), "f").ok());
  CHECK_FALSE(fs->Rename(fin, other).ok());
  CHECK_FALSE(fs->Rename(fin, JoinPath(fin, "inside")).ok());
  CHECK(Contents(fs, JoinPath(fin, "chunks")) == "c");
}

FS_CONTRACT_TEST("Truncate shrinks and zero-extends", "[rw]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "seg");
  REQUIRE(WriteAll(fs, path, "0123456789").ok());
  REQUIRE(fs->Truncate(path, 4).ok());
  CHECK(Contents(fs, path) == "0123");
  REQUIRE(fs->Truncate(path, 6).ok());
  CHECK(Contents(fs, path) == std::string("0123\0\0", 6));
  CHECK(*fs->FileSize(path) == 6);
}

FS_CONTRACT_TEST("LockFile excludes a second holder until released", "[lock]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "LOCK");
  auto first = fs->LockFile(path);
  REQUIRE(first.ok());
  CHECK((*first)->path() == path);
  CHECK(Contents(fs, path) == std::to_string(::getpid()) + "\n");

  auto second = fs->LockFile(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(second.status().message(), Catch::Contains(path));
  CHECK_THAT(second.status().message(), Catch::Contains("pid " + std::to_string(::getpid())));

  first->reset();
  auto third = fs->LockFile(path);
  CHECK(third.ok());
}

FS_CONTRACT_TEST("WriteFileAtomic publishes and leaves no temporary file", "[atomic]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "meta.json");
  REQUIRE(WriteFileAtomic(fs, path, "{\"v\":1}").ok());
  REQUIRE(WriteFileAtomic(fs, path, "{\"v\":2}").ok());
  CHECK(Contents(fs, path) == "{\"v\":2}");
  CHECK(*fs->ListDir(fx.root) == std::vector<std::string>{"meta.json"});

  Status bad = WriteFileAtomic(fs, JoinPath(fx.root, "missing-dir/meta"), "x");
  CHECK(bad.IsNotFound());
}

FS_CONTRACT_TEST("concurrent ReadAt on one file", "[rw][threads]") {
  TestType fx;
  FileSystem* fs = fx.fs;
  const std::string path = JoinPath(fx.root, "shared");
  const std::string data = Pattern(1 << 16, 3);
  REQUIRE(WriteAll(fs, path, data).ok());
  auto reader = fs->NewRandomAccessFile(path);
  REQUIRE(reader.ok());
  RandomAccessFile* r = reader->get();
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      char buf[512];
      for (int i = 0; i < 500; ++i) {
        uint64_t off = static_cast<uint64_t>((t * 7919 + i * 131) % (data.size() - 512));
        auto got = r->ReadAt(off, sizeof(buf), buf);
        if (!got.ok() || *got != std::string_view(data).substr(off, sizeof(buf))) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
}

TEST_CASE("path helpers", "[storage][base][fs]") {
  CHECK(DirName("a/b/c") == "a/b");
  CHECK(DirName("c") == ".");
  CHECK(DirName("/c") == "/");
  CHECK(DirName("/a/b/") == "/a");
  CHECK(DirName("a//b") == "a");
  CHECK(BaseName("a/b/c") == "c");
  CHECK(BaseName("c") == "c");
  CHECK(BaseName("/a/b/") == "b");
  CHECK(JoinPath("a", "b") == "a/b");
  CHECK(JoinPath("a/", "/b") == "a/b");
  CHECK(JoinPath("", "b") == "b");
}

}  // namespace
}  // namespace vigil
