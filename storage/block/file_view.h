#pragma once

// A read-only view of a whole immutable block file: the mmap view when the file system offers one
// (RandomAccessFile::Mapped()), otherwise the bytes read into memory. Internal to storage/block.

#include <memory>
#include <string>
#include <string_view>

#include "storage/base/file_system.h"

namespace vigil::storage::block {

class FileView {
 public:
  static Result<FileView> Open(FileSystem* fs, const std::string& path);

  std::string_view data() const { return data_; }
  const std::string& path() const { return path_; }
  bool mapped() const { return file_ != nullptr; }

 private:
  std::string path_;
  std::shared_ptr<RandomAccessFile> file_;  // set when data_ views its mapping
  std::shared_ptr<std::string> copy_;       // set when data_ views a copy
  std::string_view data_;
};

// Corruption "<path>: <what> at offset <offset>".
Status CorruptionAt(const std::string& path, uint64_t offset, std::string_view what);

// Checks the 8-byte file header: magic, version, zero reserved bytes.
Status CheckFileHeader(const FileView& file, std::string_view magic, uint8_t version);

// The 8-byte file header.
std::string FileHeader(std::string_view magic, uint8_t version);

}  // namespace vigil::storage::block
