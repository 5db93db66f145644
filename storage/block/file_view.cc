#include "storage/block/file_view.h"

#include "storage/block/format.h"

namespace vigil::storage::block {

Result<FileView> FileView::Open(FileSystem* fs, const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs->NewRandomAccessFile(path));
  FileView view;
  view.path_ = path;
  if (std::optional<std::string_view> mapped = file->Mapped()) {
    view.data_ = *mapped;
    view.file_ = std::move(file);
    return view;
  }
  VIGIL_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  auto copy = std::make_shared<std::string>(size, '\0');
  uint64_t done = 0;
  while (done < size) {
    VIGIL_ASSIGN_OR_RETURN(std::string_view got, file->ReadAt(done, size - done, copy->data() + done));
    if (got.empty()) break;
    if (got.data() != copy->data() + done) std::copy(got.begin(), got.end(), copy->data() + done);
    done += got.size();
  }
  copy->resize(done);
  view.data_ = *copy;
  view.copy_ = std::move(copy);
  return view;
}

Status CorruptionAt(const std::string& path, uint64_t offset, std::string_view what) {
  return Status::Corruption(path + ": " + std::string(what) + " at offset " + std::to_string(offset));
}

std::string FileHeader(std::string_view magic, uint8_t version) {
  std::string h(magic);
  h.push_back(static_cast<char>(version));
  h.append(3, '\0');
  return h;
}

Status CheckFileHeader(const FileView& file, std::string_view magic, uint8_t version) {
  const std::string_view d = file.data();
  if (d.size() < kFileHeaderSize) return CorruptionAt(file.path(), d.size(), "file shorter than its header");
  if (d.substr(0, 4) != magic) return CorruptionAt(file.path(), 0, "bad magic");
  if (static_cast<uint8_t>(d[4]) != version) {
    return CorruptionAt(file.path(), 4, "unsupported version " + std::to_string(static_cast<uint8_t>(d[4])));
  }
  if (d[5] != 0 || d[6] != 0 || d[7] != 0) return CorruptionAt(file.path(), 5, "reserved header bytes not zero");
  return Status::OK();
}

}  // namespace vigil::storage::block
