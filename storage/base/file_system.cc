#include "storage/base/file_system.h"

namespace vigil {

Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs->NewRandomAccessFile(path));
  VIGIL_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string out;
  out.resize(size);
  uint64_t offset = 0;
  // Loop until a short read: the file may have grown since Size().
  constexpr size_t kChunk = 64 << 10;
  while (true) {
    if (offset == out.size()) out.resize(out.size() + kChunk);
    size_t want = out.size() - offset;
    VIGIL_ASSIGN_OR_RETURN(std::string_view got, file->ReadAt(offset, want, out.data() + offset));
    if (got.data() != out.data() + offset) out.replace(offset, got.size(), got);
    offset += got.size();
    if (got.size() < want) break;
  }
  out.resize(offset);
  return out;
}

Status CreateDirsDurably(FileSystem* fs, const std::string& path) {
  std::vector<std::string> created;
  for (std::string d = path; !fs->DirExists(d); d = DirName(d)) {
    created.push_back(d);
    if (DirName(d) == d) break;
  }
  if (created.empty()) return Status::OK();
  VIGIL_RETURN_IF_ERROR(fs->CreateDirs(path));
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    VIGIL_RETURN_IF_ERROR(fs->SyncDir(DirName(*it)));
  }
  return Status::OK();
}

Status WriteFileAtomic(FileSystem* fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  Status st = [&]() -> Status {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs->NewWritableFile(tmp));
    VIGIL_RETURN_IF_ERROR(file->Append(data));
    VIGIL_RETURN_IF_ERROR(file->Sync());
    VIGIL_RETURN_IF_ERROR(file->Close());
    return fs->Rename(tmp, path);
  }();
  if (!st.ok()) {
    fs->RemoveFile(tmp).IgnoreError();  // best effort; the original error is what matters
    return st;
  }
  return fs->SyncDir(DirName(path));
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  while (slash > 0 && path[slash - 1] == '/') --slash;
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path.size() == 1) return path;
  return path.substr(slash + 1);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty()) return std::string(name);
  if (out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

}  // namespace vigil
