#include "storage/compact/block_set.h"

#include <algorithm>
#include <set>

#include "storage/base/logging.h"
#include "storage/file_names.h"

namespace vigil::storage {

LiveBlock::~LiveBlock() {
  if (!deleted()) return;
  const std::string id = reader_->meta().id;
  reader_.reset();
  Status st = RemoveBlockDir(fs_, data_dir_, id);
  if (!st.ok()) VIGIL_LOG(ERROR) << "removing block " << id << ": " << st.ToString();
}

void SortBlocks(BlockList* blocks) {
  std::sort(blocks->begin(), blocks->end(), [](const auto& a, const auto& b) {
    if (a->meta().min_time != b->meta().min_time) return a->meta().min_time < b->meta().min_time;
    return a->meta().id < b->meta().id;
  });
}

Status RemoveBlockDir(FileSystem* fs, const std::string& dir, const std::string& id) {
  const std::string from = BlockDirName(dir, id);
  const std::string to = JoinPath(dir, id + std::string(kDeletedSuffix));
  VIGIL_RETURN_IF_ERROR(fs->RemoveDirAll(to));
  VIGIL_RETURN_IF_ERROR(fs->Rename(from, to));
  VIGIL_RETURN_IF_ERROR(fs->SyncDir(dir));
  return fs->RemoveDirAll(to);
}

Result<uint64_t> DirBytes(FileSystem* fs, const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(path));
  uint64_t total = 0;
  for (const std::string& name : names) {
    const std::string p = JoinPath(path, name);
    if (fs->DirExists(p)) {
      VIGIL_ASSIGN_OR_RETURN(uint64_t n, DirBytes(fs, p));
      total += n;
    } else {
      Result<uint64_t> n = fs->FileSize(p);
      if (n.ok()) total += *n;  // a file removed meanwhile counts nothing
    }
  }
  return total;
}

namespace {

Status Quarantine(FileSystem* fs, const std::string& dir, const std::string& name) {
  const std::string qdir = JoinPath(dir, kQuarantineDirName);
  VIGIL_RETURN_IF_ERROR(CreateDirsDurably(fs, qdir));
  std::string target = JoinPath(qdir, name);
  for (int i = 1; fs->FileExists(target); ++i) target = JoinPath(qdir, name + "." + std::to_string(i));
  VIGIL_RETURN_IF_ERROR(fs->Rename(BlockDirName(dir, name), target));
  VIGIL_RETURN_IF_ERROR(fs->SyncDir(qdir));
  return fs->SyncDir(dir);
}

}  // namespace

Result<OpenedBlocks> OpenBlocks(FileSystem* fs, const std::string& dir) {
  OpenedBlocks out;
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  for (const std::string& name : names) {
    if (!IsBlockDirName(name)) {
      if (name != kLockFileName && name != kWalDirName && name != kQuarantineDirName &&
          name != kSnapshotsDirName && name != kContinuousQueriesDirName &&
          name != kMetricMetadataFileName) {
        VIGIL_LOG(WARN) << "ignoring unknown entry " << JoinPath(dir, name) << " in the data directory";
      }
      continue;
    }
    const std::string path = BlockDirName(dir, name);
    if (!fs->DirExists(path)) {
      VIGIL_LOG(WARN) << "ignoring file " << path << " named like a block";
      continue;
    }
    Result<std::shared_ptr<BlockReader>> r = BlockReader::Open(fs, path);
    if (!r.ok()) {
      if (!r.status().IsCorruption()) return r.status().WithContext("opening block " + path);
      VIGIL_LOG(ERROR) << "block " << path << " is corrupt, moving it to " << kQuarantineDirName
                       << "/: " << r.status().ToString();
      out.errors.push_back(path + ": " + r.status().ToString());
      ++out.quarantined;
      Status st = Quarantine(fs, dir, name);
      if (!st.ok()) {
        VIGIL_LOG(ERROR) << "could not move " << path << " to quarantine: " << st.ToString()
                         << "; it stays in place and is not served";
      }
      continue;
    }
    VIGIL_ASSIGN_OR_RETURN(uint64_t bytes, DirBytes(fs, path));
    out.blocks.push_back(std::make_shared<LiveBlock>(fs, dir, std::move(r).value(), bytes));
  }
  // A compacted block is published before its parents are removed; a crash in between leaves both.
  std::set<std::string> sources;
  for (const auto& b : out.blocks) {
    sources.insert(b->meta().compaction_sources.begin(), b->meta().compaction_sources.end());
  }
  std::erase_if(out.blocks, [&](const std::shared_ptr<LiveBlock>& b) {
    if (!sources.contains(b->meta().id)) return false;
    VIGIL_LOG(INFO) << "removing block " << b->meta().id << ", superseded by a compacted block";
    b->MarkDeleted();
    ++out.superseded_removed;
    return true;
  });
  SortBlocks(&out.blocks);
  return out;
}

}  // namespace vigil::storage
