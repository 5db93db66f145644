#pragma once

// Opens a published block directory (storage/docs/format/block.md) for reading. Files are read
// through mmap when the file system offers it (RandomAccessFile::Mapped()), else into memory.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/base/file_system.h"
#include "storage/block/chunks.h"
#include "storage/block/index_reader.h"
#include "storage/block/meta.h"
#include "storage/block/tombstones.h"
#include "storage/block/types.h"

namespace vigil::storage {

// Thread safety: every method may be called concurrently. Views returned by index() and Chunk()
// are valid while the reader lives; queriers hold a shared_ptr to it.
class BlockReader {
 public:
  // Reads meta.json, the index (magic, version, TOC and every section checksum), the headers of
  // every chunk segment and the tombstones. Any defect, a missing file included, is Corruption
  // naming the file (and the offset where there is one); NotFound only if `dir` does not exist.
  // `fs` must outlive the reader.
  static Result<std::shared_ptr<BlockReader>> Open(FileSystem* fs, const std::string& dir);

  const BlockMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  const IndexReader& index() const { return *index_; }

  // The bytes of the chunk at `ref` (frame bounds and checksum checked), valid while the reader
  // lives and the returned ChunkData (which may own the decompressed piece holding them) is kept.
  Result<block::ChunkData> Chunk(ChunkRef ref) const { return chunks_.Chunk(ref); }
  // Chunk pieces of compressed segments, and how many this reader has decompressed so far.
  size_t chunk_pieces() const { return chunks_.num_pieces(); }
  uint64_t chunk_pieces_decompressed() const { return chunks_.pieces_decompressed(); }

  // The current tombstones; the snapshot stays valid while the caller holds it.
  std::shared_ptr<const TombstoneMap> tombstones() const;
  // Re-reads the tombstones file after WriteTombstones() replaced it.
  Status ReloadTombstones();

  // Checks everything: every index structure, every chunk frame and checksum, that every chunk
  // ref resolves and decodes to its recorded sample count within its time range, and that the
  // meta's stats agree.
  Status Verify() const;

 private:
  BlockReader() = default;
  static Result<std::shared_ptr<BlockReader>> OpenFiles(FileSystem* fs, const std::string& dir);

  FileSystem* fs_ = nullptr;
  std::string dir_;
  BlockMeta meta_;
  std::unique_ptr<IndexReader> index_;
  block::ChunkReader chunks_;
  mutable std::mutex mu_;
  std::shared_ptr<const TombstoneMap> tombstones_;  // guarded by mu_
};

}  // namespace vigil::storage
