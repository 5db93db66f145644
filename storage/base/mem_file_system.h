#pragma once

// An in-memory FileSystem that models what a power loss keeps, for crash tests.
//
// Model. Files and directories are inodes. Each file inode holds its live bytes and its durable
// bytes; each directory inode holds its live entries (name -> inode) and its durable entries.
//   * WritableFile::Sync() copies the file's live bytes to its durable bytes.
//   * Truncate() changes live and durable bytes (it is durable when it returns, as on POSIX).
//   * SyncDir(d) copies d's live entries to its durable entries: every creation, removal and
//     rename into or out of d becomes durable at once. Nothing else touches durable entries.
//   * The root directory always exists. Paths are resolved from it; "", "." and "/" all name it,
//     empty and "." components are ignored and ".." is resolved lexically.
// SimulateCrash() replaces, from the root down, every directory's live entries by its durable
// entries and every reachable file's bytes by its durable bytes. Consequences:
//   * unsynced tails of files are dropped, and a file truncated by NewWritableFile() and not
//     synced since comes back with its old durable bytes;
//   * a file or directory whose creation was not followed by SyncDir() of its parent disappears
//     with everything below it, even if its own data was synced;
//   * an unsynced rename is undone (the old name comes back, the new one disappears or shows its
//     previous inode); a rename across directories where only the target directory was synced
//     leaves the inode under both names, as a journaling file system may;
//   * a renamed directory carries its own durable entries with it, so "write into tmp dir, sync
//     files, sync tmp dir, rename, sync parent" publishes the directory with its files;
//   * removals that were not followed by SyncDir() are undone;
//   * all locks are released and every file object opened before the crash fails with IOError.
// This is stricter than ext4 or xfs in practice (they often persist more), never more lenient than
// POSIX promises, so code that survives it follows the durability contract in file_system.h.
//
// Thread safety: all operations take one internal mutex. File objects stay usable (or report the
// crash) even after the MemFileSystem is destroyed, because they share its state.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/base/file_system.h"

namespace vigil {

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem();
  ~MemFileSystem() override;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  bool DirExists(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDirAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Reverts to the durable state described above, as if the machine lost power.
  void SimulateCrash();

  // Number of SimulateCrash() calls so far.
  uint64_t crash_count() const;

  struct State;  // shared with the file objects; defined in mem_file_system.cc

 private:
  std::shared_ptr<State> state_;
};

std::unique_ptr<MemFileSystem> NewMemFileSystem();

}  // namespace vigil
