// The POSIX FileSystem behind DefaultFileSystem().
//
// Notes on the implementation:
//  * Every descriptor is opened with O_CLOEXEC so that a forked helper process cannot keep a data
//    file or the directory lock alive after exec.
//  * read/write/open/fsync calls are retried on EINTR, and writes loop until every byte is written
//    (write(2) may return short counts on pipes, signals and nearly full disks).
//  * WritableFile keeps a 64 KiB user-space buffer. Appends smaller than the free space are
//    copied into it; it is handed to the kernel when full, on Flush(), Sync() and Close(). An
//    append at least as large as the buffer is written directly after the buffer is flushed. This
//    turns the WAL's many small record appends into few syscalls.
//  * Sync() is fdatasync(2): data and the metadata needed to read it back (the size), not mtime.
//  * LockFile uses flock(2), whose locks belong to the open file description: a second LockFile()
//    in the same process opens a new description and conflicts, like another process would.

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "storage/base/file_system.h"
#include "storage/base/logging.h"

namespace vigil {
namespace {

constexpr size_t kWriteBufferSize = 64 << 10;

// strerror_r comes in a GNU flavour (returns char*) and an XSI flavour (returns int); accept both.
[[maybe_unused]] const char* StrErrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char* StrErrorResult(const char* msg, const char*) { return msg; }

std::string ErrnoText(int err) {
  char buf[128];
  buf[0] = '\0';
  return StrErrorResult(strerror_r(err, buf, sizeof(buf)), buf);
}

Status PosixError(std::string_view op, const std::string& path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += ErrnoText(err);
  switch (err) {
    case ENOENT: return Status::NotFound(std::move(msg));
    case ENOSPC:
    case EDQUOT: return Status::NoSpace(std::move(msg));
    default: return Status::IOError(std::move(msg));
  }
}

int OpenRetry(const char* path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all of [data, data + n). Returns the bytes written and sets *err on failure.
size_t WriteFully(int fd, const char* data, size_t n, int* err) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return done;
    }
    done += static_cast<size_t>(w);
  }
  *err = 0;
  return done;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t initial_size)
      : path_(std::move(path)), fd_(fd), size_(initial_size) {
    buf_.reserve(kWriteBufferSize);
  }

  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      Status st = Close();
      if (!st.ok()) VIGIL_LOG(WARN) << "closing unclosed file: " << st.ToString();
    }
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Closed("append");
    if (data.size() <= kWriteBufferSize - buf_.size()) {
      buf_.append(data);
      size_ += data.size();
      return Status::OK();
    }
    VIGIL_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() < kWriteBufferSize) {
      buf_.append(data);
      size_ += data.size();
      return Status::OK();
    }
    int err;
    size_t n = WriteFully(fd_, data.data(), data.size(), &err);
    size_ += n;
    return err == 0 ? Status::OK() : PosixError("write", path_, err);
  }

  Status Flush() override {
    if (fd_ < 0) return Closed("flush");
    return FlushBuffer();
  }

  Status Sync() override {
    if (fd_ < 0) return Closed("sync");
    VIGIL_RETURN_IF_ERROR(FlushBuffer());
    int rc;
    do {
      rc = ::fdatasync(fd_);
    } while (rc < 0 && errno == EINTR);
    return rc == 0 ? Status::OK() : PosixError("fdatasync", path_, errno);
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status st = FlushBuffer();
    // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
    if (::close(fd_) < 0 && st.ok()) st = PosixError("close", path_, errno);
    fd_ = -1;
    buf_.clear();
    return st;
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  Status Closed(std::string_view op) const {
    return Status::IOError(std::string(op) + " " + path_ + ": file is closed");
  }

  // On failure the unwritten tail stays buffered so that a later Flush/Sync can retry it.
  Status FlushBuffer() {
    if (buf_.empty()) return Status::OK();
    int err;
    size_t n = WriteFully(fd_, buf_.data(), buf_.size(), &err);
    buf_.erase(0, n);
    return err == 0 ? Status::OK() : PosixError("write", path_, err);
  }

  const std::string path_;
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  ~PosixRandomAccessFile() override {
    if (map_ != nullptr && map_ != MAP_FAILED) ::munmap(map_, map_size_);
    ::close(fd_);
  }

  Result<std::string_view> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return std::string_view(scratch, done);
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) < 0) return PosixError("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  std::optional<std::string_view> Mapped() const override {
    std::call_once(map_once_, [this] {
      struct stat st;
      if (::fstat(fd_, &st) < 0) return;
      map_size_ = static_cast<size_t>(st.st_size);
      if (map_size_ == 0) {
        mapped_ok_ = true;  // mmap(2) rejects length 0; an empty view is the right answer
        return;
      }
      map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_SHARED, fd_, 0);
      if (map_ == MAP_FAILED) {
        VIGIL_LOG(WARN) << "mmap " << path_ << ": " << ErrnoText(errno);
        return;
      }
      mapped_ok_ = true;
    });
    if (!mapped_ok_) return std::nullopt;
    if (map_size_ == 0) return std::string_view();
    return std::string_view(static_cast<const char*>(map_), map_size_);
  }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
  mutable std::once_flag map_once_;
  mutable void* map_ = nullptr;
  mutable size_t map_size_ = 0;
  mutable bool mapped_ok_ = false;
};

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_WRONLY | O_CREAT | O_APPEND);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      Status s = PosixError("fstat", path, errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_RDONLY);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return PosixError("open", path, EISDIR);
    }
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  bool FileExists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  bool DirExists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return PosixError("opendir", path, errno);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      struct dirent* ent = ::readdir(dir);
      if (ent == nullptr) {
        int err = errno;
        ::closedir(dir);
        if (err != 0) return PosixError("readdir", path, err);
        break;
      }
      std::string_view name(ent->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
    int err = errno;
    if (err == EEXIST) {
      if (DirExists(path)) return Status::OK();
      return Status::AlreadyExists("mkdir " + path + ": exists and is not a directory");
    }
    return PosixError("mkdir", path, err);
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty() || DirExists(path)) return Status::OK();
    std::string parent = DirName(path);
    if (parent != path) VIGIL_RETURN_IF_ERROR(CreateDirs(parent));
    return CreateDir(path);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) < 0) return PosixError("unlink", path, errno);
    return Status::OK();
  }

  Status RemoveDirAll(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return PosixError("remove_all", path, ec.value());
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) < 0) {
      return PosixError("rename", from + " -> " + to, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError("open directory", path, errno);
    int rc;
    do {
      rc = ::fsync(fd);
    } while (rc < 0 && errno == EINTR);
    Status st = rc == 0 ? Status::OK() : PosixError("fsync directory", path, errno);
    ::close(fd);
    return st;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return PosixError("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return PosixError("stat", path, EISDIR);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    int fd = OpenRetry(path.c_str(), O_WRONLY);
    if (fd < 0) return PosixError("open", path, errno);
    Status st;
    int rc;
    do {
      rc = ::ftruncate(fd, static_cast<off_t>(size));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) st = PosixError("ftruncate", path, errno);
    if (st.ok()) {
      do {
        rc = ::fsync(fd);
      } while (rc < 0 && errno == EINTR);
      if (rc < 0) st = PosixError("fsync", path, errno);
    }
    ::close(fd);
    return st;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_RDWR | O_CREAT);
    if (fd < 0) return PosixError("open lock file", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      int err = errno;
      std::string holder = ReadHolder(fd);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        std::string msg = "lock " + path + " is held";
        msg += holder.empty() ? " by another process or handle" : " by pid " + holder;
        return Status::Unavailable(std::move(msg));
      }
      return PosixError("flock", path, err);
    }
    // Record the holder for whoever fails to take the lock next. Failure to write is harmless.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      int err;
      (void)WriteFully(fd, pid.data(), pid.size(), &err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(path, fd));
  }

 private:
  static std::string ReadHolder(int fd) {
    char buf[32];
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) return "";
    std::string s(buf, static_cast<size_t>(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "";
    }
    return s;
  }
};

}  // namespace

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* fs = new PosixFileSystem();  // never destroyed: used until exit
  return fs;
}

}  // namespace vigil
