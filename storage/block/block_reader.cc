#include "storage/block/block_reader.h"

#include <vector>

#include "compression/chunk.h"
#include "storage/block/format.h"

namespace vigil::storage {

using namespace block;  // NOLINT: the format helpers

namespace {

// Inside an existing block directory a missing file is damage, not a missing block.
Status MissingIsCorruption(const Status& st) {
  return st.IsNotFound() ? Status::Corruption(st.message()) : st;
}

}  // namespace

Result<std::shared_ptr<BlockReader>> BlockReader::Open(FileSystem* fs, const std::string& dir) {
  if (!fs->DirExists(dir)) return Status::NotFound("block directory " + dir + " does not exist");
  Result<std::shared_ptr<BlockReader>> r = OpenFiles(fs, dir);
  if (!r.ok()) return MissingIsCorruption(r.status());
  return r;
}

Result<std::shared_ptr<BlockReader>> BlockReader::OpenFiles(FileSystem* fs, const std::string& dir) {
  std::shared_ptr<BlockReader> r(new BlockReader());
  r->fs_ = fs;
  r->dir_ = dir;
  const std::string meta_path = JoinPath(dir, kMetaFileName);
  VIGIL_ASSIGN_OR_RETURN(std::string meta_json, ReadFileToString(fs, meta_path));
  Result<BlockMeta> meta = ParseBlockMeta(meta_json);
  if (!meta.ok()) return meta.status().WithContext(dir);
  r->meta_ = std::move(meta).value();
  std::string base(BaseName(dir));
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (BaseName(base) != r->meta_.id) {
    return Status::Corruption(meta_path + ": id " + r->meta_.id + " does not match the directory name");
  }
  VIGIL_ASSIGN_OR_RETURN(FileView index_file, FileView::Open(fs, JoinPath(dir, kIndexFileName)));
  VIGIL_ASSIGN_OR_RETURN(r->index_, IndexReader::Open(std::move(index_file)));
  if (r->index_->NumSeries() != r->meta_.stats.series) {
    return Status::Corruption(meta_path + ": stats.series " + std::to_string(r->meta_.stats.series) +
                              " but the index holds " + std::to_string(r->index_->NumSeries()));
  }
  VIGIL_ASSIGN_OR_RETURN(r->chunks_, ChunkReader::Open(fs, JoinPath(dir, kChunksDirName)));
  VIGIL_RETURN_IF_ERROR(r->ReloadTombstones());
  return r;
}

std::shared_ptr<const TombstoneMap> BlockReader::tombstones() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tombstones_;
}

Status BlockReader::ReloadTombstones() {
  VIGIL_ASSIGN_OR_RETURN(TombstoneMap t, ReadTombstones(fs_, dir_));
  for (const auto& [id, ivs] : t) {
    if (id >= index_->NumSeries()) {
      return Status::Corruption(JoinPath(dir_, kTombstonesFileName) + ": series id " + std::to_string(id) +
                                " out of range");
    }
  }
  auto snapshot = std::make_shared<const TombstoneMap>(std::move(t));
  std::lock_guard<std::mutex> lock(mu_);
  tombstones_ = std::move(snapshot);
  return Status::OK();
}

Status BlockReader::Verify() const {
  VIGIL_ASSIGN_OR_RETURN(uint64_t index_chunks, index_->Verify());
  VIGIL_ASSIGN_OR_RETURN(uint64_t file_chunks, chunks_.Verify());
  const std::string meta_path = JoinPath(dir_, kMetaFileName);
  if (index_chunks != meta_.stats.chunks) {
    return Status::Corruption(meta_path + ": stats.chunks " + std::to_string(meta_.stats.chunks) +
                              " but the index refers to " + std::to_string(index_chunks));
  }
  uint64_t samples = 0;
  Labels ls;
  std::vector<ChunkMeta> metas;
  int64_t ts[256];
  double vs[256];
  for (BlockSeriesId id = 0; id < index_->NumSeries(); ++id) {
    VIGIL_RETURN_IF_ERROR(index_->Series(id, &ls, &metas));
    for (const ChunkMeta& m : metas) {
      VIGIL_ASSIGN_OR_RETURN(block::ChunkData data, Chunk(m.ref));
      compression::ChunkDecoder dec(data.bytes);
      uint64_t n = 0;
      bool in_range = true;
      for (size_t got; (got = dec.Next(ts, vs)) > 0;) {
        for (size_t i = 0; i < got; ++i) in_range &= ts[i] >= m.min_t && ts[i] <= m.max_t;
        n += got;
      }
      if (!dec.ok() || n != m.num_samples || !in_range) {
        return Status::Corruption(JoinPath(JoinPath(dir_, kChunksDirName), SegmentName(ChunkRefSegment(m.ref))) +
                                  ": chunk of series " + ls.ToString() + " does not match its meta at offset " +
                                  std::to_string(ChunkRefOffset(m.ref)));
      }
      samples += n;
    }
  }
  // After the walk above, so that a ref into a cut segment is reported with its file and offset.
  if (file_chunks != index_chunks) {
    return Status::Corruption(JoinPath(dir_, kChunksDirName) + ": the segments hold " + std::to_string(file_chunks) +
                              " chunks but the index refers to " + std::to_string(index_chunks));
  }
  if (samples != meta_.stats.samples) {
    return Status::Corruption(meta_path + ": stats.samples " + std::to_string(meta_.stats.samples) + " but the chunks hold " +
                              std::to_string(samples));
  }
  return Status::OK();
}

}  // namespace vigil::storage
