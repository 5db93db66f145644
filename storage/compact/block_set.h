#pragma once

// The blocks a Db serves: opening them at start (leftovers, quarantine, superseded parents),
// reference counting while queriers use them, and crash-safe removal (storage/README.md,
// "Data directory").

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/block/block_reader.h"

namespace vigil::storage {

// One published block, shared by the Db's block list and every querier that reads it. When the
// Db drops it (compaction, retention) it calls MarkDeleted(); the directory is removed when the
// last reference goes, so running queries keep reading it.
// Thread safety: all methods may be called concurrently.
class LiveBlock {
 public:
  LiveBlock(FileSystem* fs, std::string data_dir, std::shared_ptr<BlockReader> reader,
            uint64_t bytes)
      : fs_(fs), data_dir_(std::move(data_dir)), reader_(std::move(reader)), bytes_(bytes) {}
  ~LiveBlock();
  LiveBlock(const LiveBlock&) = delete;
  LiveBlock& operator=(const LiveBlock&) = delete;

  const BlockMeta& meta() const { return reader_->meta(); }
  const std::shared_ptr<BlockReader>& reader() const { return reader_; }
  uint64_t bytes() const { return bytes_; }
  bool Overlaps(int64_t min_t, int64_t max_t) const {  // [min_t, max_t] inclusive
    return meta().min_time <= max_t && meta().max_time > min_t;
  }

  void MarkDeleted() { deleted_.store(true, std::memory_order_release); }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

 private:
  FileSystem* const fs_;
  const std::string data_dir_;
  std::shared_ptr<BlockReader> reader_;
  const uint64_t bytes_;
  std::atomic<bool> deleted_{false};
};

using BlockList = std::vector<std::shared_ptr<LiveBlock>>;

// Sorts by (min_time, id): oldest range first, ties in creation order.
void SortBlocks(BlockList* blocks);

// Removes <dir>/<id>/ so that a crash never leaves half a block under its name: renames it to
// <id>.deleted.tmp, syncs <dir>, then removes the renamed tree (a leftover is removed at open).
Status RemoveBlockDir(FileSystem* fs, const std::string& dir, const std::string& id);

// Total bytes of the files below `path`.
Result<uint64_t> DirBytes(FileSystem* fs, const std::string& path);

struct OpenedBlocks {
  BlockList blocks;                 // sorted
  std::vector<std::string> errors;  // "<block dir>: <error>" per quarantined block
  uint64_t quarantined = 0;
  uint64_t superseded_removed = 0;
};

// At open: opens every block directory of `dir`. A block that fails with Corruption is logged and
// moved to <dir>/quarantine/ (its error listed); blocks named in another block's
// compaction.sources are removed. Other errors (I/O) fail the call. REQUIRES: *.tmp entries are
// already removed.
Result<OpenedBlocks> OpenBlocks(FileSystem* fs, const std::string& dir);

}  // namespace vigil::storage
