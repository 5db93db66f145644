#pragma once

// The file-system interface through which all of Vigil's file I/O goes (STYLE.md §7), so tests can
// swap in an in-memory file system that models crashes (mem_file_system.h) or a wrapper that fails
// writes and fills the disk (fault_injection_file_system.h).
//
// Paths are plain strings joined with '/'. Every error names the operation and the path; POSIX
// errors carry strerror text. Error codes are the same for every implementation:
//   missing file or directory        -> NotFound
//   ENOSPC / EDQUOT / write budget   -> NoSpace
//   lock held by someone else        -> Unavailable
//   anything else                    -> IOError (or AlreadyExists where stated)
//
// Durability contract (what survives a power loss), shared by every implementation:
//   * File contents are durable up to the last WritableFile::Sync() of that file.
//   * A directory entry (creation, rename, removal of a name) is durable only after SyncDir() of the
//     directory that holds it. A rename across directories needs SyncDir() of both.
//   * Truncate() is durable when it returns.
// Nothing else is promised; Close() does not sync.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil {

// A file opened for writing at its end.
// Thread safety: not thread-safe; callers serialise access to one WritableFile.
// The destructor closes the file if Close() was not called (errors are logged, not returned).
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;

  // Appends `data`. Implementations may buffer in user space (PosixFileSystem buffers 64 KiB), so
  // other readers see the data only after Flush(), Sync() or Close(). On error a prefix of `data`
  // may have been written; Size() counts it.
  virtual Status Append(std::string_view data) = 0;

  // Hands buffered data to the operating system (visible to readers, not durable).
  virtual Status Flush() = 0;

  // Makes every byte appended so far durable (fdatasync on POSIX). Does not sync the directory
  // entry; see SyncDir().
  virtual Status Sync() = 0;

  // Flushes and closes. Further calls other than Size() fail. Calling Close() twice is OK.
  virtual Status Close() = 0;

  // Bytes in the file including those still buffered.
  virtual uint64_t Size() const = 0;

  virtual const std::string& path() const = 0;
};

// A file opened for reading at arbitrary offsets.
// Thread safety: all methods are safe to call concurrently.
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile() = default;

  // Reads up to `n` bytes at `offset`. The result views either `scratch` (which must hold `n`
  // bytes and outlive the view) or memory owned by this file; it is shorter than `n` only at end of
  // file (empty at or past it).
  virtual Result<std::string_view> ReadAt(uint64_t offset, size_t n, char* scratch) const = 0;

  // Current size of the file (it may still be growing if a writer has it open).
  virtual Result<uint64_t> Size() const = 0;

  // The whole file as one view, when the implementation supports it (POSIX: a read-only mmap made
  // on the first call; MemFileSystem: a snapshot). The view covers the file as it was on the first
  // call and stays valid until this object is destroyed. Meant for immutable files: on POSIX,
  // touching a mapped page after another writer truncated the file raises SIGBUS.
  virtual std::optional<std::string_view> Mapped() const { return std::nullopt; }

  virtual const std::string& path() const = 0;
};

// An exclusive lock on a file, released when the object is destroyed.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  virtual ~FileLock() = default;
  virtual const std::string& path() const = 0;
};

// Thread safety: every implementation is safe to call from several threads.
// Objects returned by a FileSystem must not outlive it.
class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // Creates `path`, or truncates it to zero if it exists. The parent directory must exist.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;

  // True if `path` names a file or a directory.
  virtual bool FileExists(const std::string& path) = 0;
  // True if `path` names a directory.
  virtual bool DirExists(const std::string& path) = 0;
  // Names of the entries of directory `path` (no "." or ".."), sorted bytewise.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

  // Creates one directory; OK if it already exists as a directory, AlreadyExists if a file has
  // that name. Not durable until SyncDir() of the parent.
  virtual Status CreateDir(const std::string& path) = 0;
  // Creates `path` and every missing ancestor.
  virtual Status CreateDirs(const std::string& path) = 0;

  // Removes a file (not a directory).
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes `path` and everything below it; OK if it does not exist.
  virtual Status RemoveDirAll(const std::string& path) = 0;

  // Atomically renames `from` to `to`, replacing `to` if it is a file (or an empty directory when
  // `from` is a directory).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;

  // Makes the entries of directory `path` durable (creations, renames and removals in it).
  virtual Status SyncDir(const std::string& path) = 0;

  virtual Result<uint64_t> FileSize(const std::string& path) = 0;

  // Cuts (or zero-extends) the file to `size` bytes, durably.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;

  // Takes an exclusive lock on `path` (created if missing) and writes the holder's pid into it.
  // Fails with Unavailable, naming the path and the holder's pid when known, if another process or
  // another LockFile() call in this process holds it. The lock is released when the returned
  // object is destroyed or the process exits.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The process-wide POSIX file system. Never destroyed.
FileSystem* DefaultFileSystem();

// Reads the whole file.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path);

// Publishes `data` at `path` so that after a crash `path` holds either its old content or `data`,
// never a mix: writes `path + ".tmp"`, syncs and closes it, renames it over `path`, then syncs the
// parent directory. The temporary file is removed on failure.
// REQUIRES: no other writer publishes the same `path` concurrently (they would share the tmp name).
Status WriteFileAtomic(FileSystem* fs, const std::string& path, std::string_view data);

// Creates `path` and its missing parents so that they survive a crash: each directory created is
// synced into its parent. OK if `path` exists already (nothing is synced then).
Status CreateDirsDurably(FileSystem* fs, const std::string& path);

// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string DirName(std::string_view path);
// "a/b/c" -> "c".
std::string_view BaseName(std::string_view path);
// JoinPath("a", "b") -> "a/b" (no doubled separator).
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace vigil
