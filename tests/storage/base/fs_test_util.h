#pragma once

// Fixtures for running one file-system contract against every implementation.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "storage/base/fault_injection_file_system.h"
#include "storage/base/file_system.h"
#include "storage/base/mem_file_system.h"

namespace vigil::testing {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil-base-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path_ = p != nullptr ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct PosixFs {
  static constexpr std::string_view kName = "posix";
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  std::string root = dir.path();
};

struct MemFs {
  static constexpr std::string_view kName = "mem";
  std::unique_ptr<MemFileSystem> mem = NewMemFileSystem();
  FileSystem* fs = mem.get();
  std::string root = "/data";
  MemFs() { (void)mem->CreateDirs(root); }
};

// The fault wrapper with no faults planned must be transparent.
struct FaultOverMemFs {
  static constexpr std::string_view kName = "fault+mem";
  std::unique_ptr<MemFileSystem> mem = NewMemFileSystem();
  FaultInjectionFileSystem fault{mem.get()};
  FileSystem* fs = &fault;
  std::string root = "/data";
  FaultOverMemFs() { (void)mem->CreateDirs(root); }
};

inline Status WriteAll(FileSystem* fs, const std::string& path, std::string_view data,
                       bool sync = true) {
  VIGIL_ASSIGN_OR_RETURN(auto file, fs->NewWritableFile(path));
  VIGIL_RETURN_IF_ERROR(file->Append(data));
  if (sync) VIGIL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

// The file's content, or "<missing>" / "<error: ...>".
inline std::string Contents(FileSystem* fs, const std::string& path) {
  if (!fs->FileExists(path)) return "<missing>";
  Result<std::string> r = ReadFileToString(fs, path);
  return r.ok() ? *r : "<error: " + r.status().ToString() + ">";
}

}  // namespace vigil::testing
