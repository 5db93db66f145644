// Behaviour specific to the POSIX file system: process-level locking, descriptor hygiene, the
// user-space write buffer and errno mapping. The shared contract lives in file_system_test.cc.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "storage/base/file_system.h"
#include "tests/storage/base/fs_test_util.h"

namespace vigil {
namespace {

using testing::Contents;
using testing::TempDir;

// Whether some descriptor of this process that points at `path` lacks FD_CLOEXEC; -1 if none
// points at it.
int OpenWithoutCloexec(const std::string& path) {
  int found = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string() != path) continue;
    int fd = std::stoi(entry.path().filename().string());
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) continue;
    found = (flags & FD_CLOEXEC) ? 0 : 1;
    if (found == 1) return 1;
  }
  return found;
}

TEST_CASE("lock held by a child process is reported with its pid", "[storage][base][posix][lock]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string path = JoinPath(dir.path(), "LOCK");
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(release[1]);  // or the read below would never see end-of-file
    auto lock = fs->LockFile(path);
    char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);  // hold the lock until the parent closes the pipe
    ::_exit(lock.ok() ? 0 : 1);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');

  auto mine = fs->LockFile(path);
  REQUIRE_FALSE(mine.ok());
  CHECK(mine.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(mine.status().message(), Catch::Contains(path));
  CHECK_THAT(mine.status().message(), Catch::Contains("pid " + std::to_string(child)));

  ::close(release[1]);
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  CHECK(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);
  ::close(ready[0]);

  // The lock died with its holder.
  auto after = fs->LockFile(path);
  REQUIRE(after.ok());
  CHECK(Contents(fs, path) == std::to_string(::getpid()) + "\n");
}

TEST_CASE("a child process cannot take a lock this process holds", "[storage][base][posix][lock]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string path = JoinPath(dir.path(), "LOCK");
  auto mine = fs->LockFile(path);
  REQUIRE(mine.ok());
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto theirs = fs->LockFile(path);
    bool names_parent = !theirs.ok() && theirs.status().code() == StatusCode::kUnavailable &&
                        theirs.status().message().find(std::to_string(::getppid())) !=
                            std::string::npos;
    ::_exit(names_parent ? 0 : 1);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  REQUIRE(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);
}

TEST_CASE("descriptors are opened close-on-exec", "[storage][base][posix]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string data = JoinPath(dir.path(), "data");
  const std::string lock_path = JoinPath(dir.path(), "LOCK");
  auto w = fs->NewWritableFile(data);
  REQUIRE(w.ok());
  CHECK(OpenWithoutCloexec(data) == 0);
  auto r = fs->NewRandomAccessFile(data);
  REQUIRE(r.ok());
  CHECK(OpenWithoutCloexec(data) == 0);
  auto lock = fs->LockFile(lock_path);
  REQUIRE(lock.ok());
  CHECK(OpenWithoutCloexec(lock_path) == 0);
  REQUIRE((*w)->Close().ok());
  r->reset();
  CHECK(OpenWithoutCloexec(data) == -1);  // nothing leaked
}

TEST_CASE("small appends stay buffered until Flush, Sync or Close", "[storage][base][posix]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string path = JoinPath(dir.path(), "wal");
  auto w = fs->NewWritableFile(path);
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("abc").ok());
  CHECK((*w)->Size() == 3);
  CHECK(*fs->FileSize(path) == 0);  // still in the 64 KiB user-space buffer
  REQUIRE((*w)->Flush().ok());
  CHECK(*fs->FileSize(path) == 3);

  // Filling the buffer hands it to the kernel without an explicit flush.
  std::string chunk(70 * 1024, 'x');
  REQUIRE((*w)->Append(chunk).ok());
  CHECK(*fs->FileSize(path) == 3 + chunk.size());
  REQUIRE((*w)->Append("tail").ok());
  REQUIRE((*w)->Sync().ok());
  CHECK(*fs->FileSize(path) == 3 + chunk.size() + 4);

  // The destructor closes (and so flushes) an unclosed file.
  auto w2 = fs->NewWritableFile(JoinPath(dir.path(), "unclosed"));
  REQUIRE(w2.ok());
  REQUIRE((*w2)->Append("kept").ok());
  w2->reset();
  CHECK(Contents(fs, JoinPath(dir.path(), "unclosed")) == "kept");
}

TEST_CASE("ENOSPC maps to NoSpace naming the path", "[storage][base][posix][errors]") {
  FileSystem* fs = DefaultFileSystem();
  if (!fs->FileExists("/dev/full")) {
    WARN("/dev/full is not available; skipped");
    return;
  }
  auto w = fs->NewAppendableFile("/dev/full");
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("buffered").ok());
  Status st = (*w)->Flush();
  CHECK(st.IsNoSpace());
  CHECK_THAT(st.message(), Catch::Contains("/dev/full"));
  CHECK_THAT(st.message(), Catch::Contains("No space left on device"));
  CHECK((*w)->Sync().IsNoSpace());  // the unwritten bytes are retried, not dropped
  // A big append goes straight to the device and fails the same way.
  CHECK((*w)->Append(std::string(128 * 1024, 'z')).IsNoSpace());
  CHECK((*w)->Close().IsNoSpace());  // the buffered bytes still cannot be written
}

TEST_CASE("POSIX errors carry strerror text", "[storage][base][posix][errors]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string file = JoinPath(dir.path(), "plain");
  REQUIRE(testing::WriteAll(fs, file, "x").ok());
  auto under_file = fs->NewWritableFile(JoinPath(file, "child"));
  REQUIRE_FALSE(under_file.ok());
  CHECK(under_file.status().IsIOError());
  CHECK_THAT(under_file.status().message(), Catch::Contains("Not a directory"));
  CHECK_THAT(under_file.status().message(), Catch::Contains(file));
}

TEST_CASE("SyncDir and Truncate succeed on a real directory", "[storage][base][posix]") {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  const std::string path = JoinPath(dir.path(), "f");
  REQUIRE(testing::WriteAll(fs, path, "hello world").ok());
  CHECK(fs->SyncDir(dir.path()).ok());
  CHECK_FALSE(fs->SyncDir(path).ok());  // not a directory
  REQUIRE(fs->Truncate(path, 5).ok());
  CHECK(Contents(fs, path) == "hello");
}

}  // namespace
}  // namespace vigil
