#pragma once

// A FileSystem wrapper that injects faults, for tests of error paths and crash recovery. It works
// on top of any FileSystem (MemFileSystem for fast crash tests, DefaultFileSystem() for a real
// disk).
//
// Faults:
//   * FailNth(op, n): the n-th call of `op` from now fails with IOError without reaching the
//     wrapped file system; with `sticky`, every later call of `op` fails too.
//   * SetWriteBudget(bytes): appends may add `bytes` more bytes in total; the Append() that crosses
//     the budget writes the prefix that still fits (a partial write, as a nearly full disk does)
//     and returns NoSpace; every later Append() returns NoSpace without writing.
//
// DropUnsyncedData() simulates a power loss at file-content level by itself, so it also works over
// the POSIX file system. For every file opened for writing through this wrapper it remembers the
// size at the last successful Sync() (a file opened with NewAppendableFile starts at its existing
// size, NewWritableFile at 0) and whether its directory entry is durable (the file existed before
// it was opened here, or SyncDir() of its directory succeeded after it was created or renamed).
// Dropping removes files whose entry is not durable and truncates the rest to their synced size.
// Weaker than MemFileSystem::SimulateCrash(): removals, renames over an existing file and directory
// creations are treated as durable at once (an overwritten rename target cannot be restored here);
// for the full namespace model, run over MemFileSystem and call its SimulateCrash().
//
// Paths are normalised lexically ("a//./b" == "a/b") for the bookkeeping.
// Thread safety: like every FileSystem, safe to call from several threads.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/base/file_system.h"

namespace vigil {

enum class FaultOp : int {
  kAppend = 0,  // WritableFile::Append
  kSync,        // WritableFile::Sync
  kSyncDir,     // FileSystem::SyncDir
  kRename,      // FileSystem::Rename
  kOpenWrite,   // NewWritableFile, NewAppendableFile
};
inline constexpr int kNumFaultOps = 5;

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // `target` is not owned and must outlive this object and every file it opens.
  explicit FaultInjectionFileSystem(FileSystem* target);
  ~FaultInjectionFileSystem() override;

  // REQUIRES: n >= 1. Replaces any earlier plan for `op`.
  void FailNth(FaultOp op, uint64_t n, bool sticky = false);
  void FailNthAppend(uint64_t n, bool sticky = false) { FailNth(FaultOp::kAppend, n, sticky); }
  void FailNthSync(uint64_t n, bool sticky = false) { FailNth(FaultOp::kSync, n, sticky); }
  void SetWriteBudget(uint64_t bytes);
  void ClearWriteBudget();
  // Removes every planned fault and the write budget.
  void ClearFaults();

  // Calls of `op` so far, including failed ones.
  uint64_t count(FaultOp op) const;
  // Bytes that reached the wrapped file system through Append().
  uint64_t bytes_appended() const;
  // Faults injected so far (planned failures and NoSpace from the budget).
  uint64_t injected_faults() const;
  void ResetCounters();

  // Drops everything not yet durable, as described above. Fails with InvalidArgument (changing
  // nothing) while a writable file opened through this wrapper is still open, because its
  // buffered bytes would land after the truncation.
  Status DropUnsyncedData();

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return target_->NewRandomAccessFile(path);
  }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  bool DirExists(const std::string& path) override { return target_->DirExists(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_->ListDir(path);
  }
  Status CreateDir(const std::string& path) override { return target_->CreateDir(path); }
  Status CreateDirs(const std::string& path) override { return target_->CreateDirs(path); }
  Status RemoveFile(const std::string& path) override;
  Status RemoveDirAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override { return target_->FileSize(path); }
  Status Truncate(const std::string& path, uint64_t size) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }

  // Bookkeeping for one written file; shared with its open WritableFile objects.
  struct Tracked {
    uint64_t synced_size = 0;
    bool entry_durable = false;
    int open_writers = 0;
  };

 private:
  class File;
  friend class File;

  struct Plan {
    bool active = false;
    uint64_t fail_at = 0;  // the count() value whose call fails
    bool sticky = false;
  };

  // Counts one call of `op` and returns the injected error, if any. REQUIRES: mu_ held.
  Status Tick(FaultOp op, const std::string& path);
  Result<std::unique_ptr<WritableFile>> Open(const std::string& path, bool append);

  FileSystem* const target_;
  mutable std::mutex mu_;
  std::array<uint64_t, kNumFaultOps> counts_{};
  std::array<Plan, kNumFaultOps> plans_{};
  bool budget_active_ = false;
  uint64_t budget_left_ = 0;
  uint64_t bytes_appended_ = 0;
  uint64_t injected_ = 0;
  std::map<std::string, std::shared_ptr<Tracked>> tracked_;  // normalised path -> state
};

}  // namespace vigil
