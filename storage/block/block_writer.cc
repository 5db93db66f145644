#include "storage/block/block_writer.h"

#include <algorithm>
#include <unordered_map>

#include "storage/block/block_id.h"
#include "storage/block/chunks.h"
#include "storage/block/index_writer.h"
#include "storage/block/tombstones.h"

namespace vigil::storage {

using namespace block;  // NOLINT: the format helpers

BlockWriter::BlockWriter(FileSystem* fs, std::string parent_dir, BlockWriterOptions options, std::string id)
    : fs_(fs),
      parent_dir_(std::move(parent_dir)),
      options_(std::move(options)),
      id_(std::move(id)),
      tmp_dir_(JoinPath(parent_dir_, id_ + ".tmp")) {}

std::string BlockWriter::final_dir() const { return JoinPath(parent_dir_, id_); }

Result<std::unique_ptr<BlockWriter>> BlockWriter::Create(FileSystem* fs, std::string parent_dir,
                                                         BlockWriterOptions options) {
  std::string id = options.id;
  if (id.empty()) id = NewBlockId((options.clock != nullptr ? options.clock : SystemClock())->NowMillis());
  if (!IsValidBlockId(id)) return Status::InvalidArgument("invalid block id '" + id + "'");
  if (options.min_time && options.max_time && *options.min_time >= *options.max_time) {
    return Status::InvalidArgument("block range is empty");
  }
  std::unique_ptr<BlockWriter> w(new BlockWriter(fs, std::move(parent_dir), std::move(options), std::move(id)));
  if (fs->FileExists(w->final_dir())) return Status::AlreadyExists("block " + w->final_dir() + " exists");
  VIGIL_RETURN_IF_ERROR(fs->RemoveDirAll(w->tmp_dir_));
  VIGIL_RETURN_IF_ERROR(fs->CreateDir(w->tmp_dir_));
  const std::string chunks_dir = JoinPath(w->tmp_dir_, kChunksDirName);
  VIGIL_RETURN_IF_ERROR(fs->CreateDir(chunks_dir));
  w->chunks_ = std::make_unique<ChunkWriter>(
      fs, chunks_dir,
      block::ChunkWriterOptions{w->options_.max_segment_size, w->options_.chunk_compression,
                                w->options_.chunk_compression_level});
  return w;
}

BlockWriter::~BlockWriter() {
  chunks_.reset();
  if (!finished_) fs_->RemoveDirAll(tmp_dir_).IgnoreError();
}

Status BlockWriter::AddSeries(const Labels& labels, std::span<const ChunkMeta> chunks) {
  if (!status_.ok()) return status_;
  if (finished_) return Status::InvalidArgument("AddSeries after Finish");
  auto fail = [this, &labels](std::string what) {
    status_ = Status::InvalidArgument("block writer: series " + labels.ToString() + ": " + what);
    return status_;
  };
  if (labels.empty()) return fail("no labels");
  if (!series_.empty() && !(series_.back().labels < labels)) return fail("not after the previous series");
  if (chunks.empty()) return Status::OK();
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkMeta& c = chunks[i];
    if (c.data.empty() || c.min_t > c.max_t || c.num_samples == 0) return fail("chunk " + std::to_string(i) + " is malformed");
    if (i > 0 && c.min_t <= chunks[i - 1].max_t) return fail("chunks overlap or are out of order");
    if ((options_.min_time && c.min_t < *options_.min_time) || (options_.max_time && c.max_t >= *options_.max_time)) {
      return fail("chunk outside the block range");
    }
  }
  // Uncompressed segments (version 1) gain nothing from grouping: each series is its own group.
  const bool grouped = options_.chunk_compression != compression::BlockCodec::kNone;
  const std::string_view name = labels.MetricName();
  size_t bytes = 0;
  for (const ChunkMeta& c : chunks) bytes += c.data.size();
  if (name != group_name_ || pending_bytes_.size() + bytes > kMaxGroupBytes) {
    if (Status st = FlushGroup(); !st.ok()) {
      status_ = st;
      return status_;
    }
    group_name_.assign(name);
  }
  IndexSeries s;
  s.labels = labels;
  s.chunks.reserve(chunks.size());
  // FNV-1a over the chunk times: equal for series scraped together.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint64_t v) {
    for (int b = 0; b < 64; b += 8) h = (h ^ ((v >> b) & 0xff)) * 1099511628211ull;
  };
  const size_t first_byte = pending_bytes_.size();
  const size_t first_size = pending_sizes_.size();
  for (const ChunkMeta& c : chunks) {
    mix(static_cast<uint64_t>(c.min_t));
    mix(static_cast<uint64_t>(c.max_t));
    mix(c.num_samples);
    pending_bytes_.append(c.data);
    pending_sizes_.push_back(static_cast<uint32_t>(c.data.size()));
    s.chunks.push_back({c.min_t, c.max_t, c.num_samples, 0, {}});  // ref set by FlushGroup
    stats_.samples += c.num_samples;
  }
  pending_.push_back({series_.size(), h, first_byte, first_size});
  stats_.chunks += chunks.size();
  ++stats_.series;
  min_t_ = std::min(min_t_, chunks.front().min_t);
  max_t_ = std::max(max_t_, chunks.back().max_t);
  series_.push_back(std::move(s));
  if (!grouped) {
    if (Status st = FlushGroup(); !st.ok()) {
      status_ = st;
      return status_;
    }
  }
  return Status::OK();
}

Status BlockWriter::FlushGroup() {
  if (pending_.empty()) return Status::OK();
  // Groups in the order of their first member; members in label order.
  std::unordered_map<uint64_t, size_t> rank;
  std::vector<std::pair<size_t, size_t>> order;  // (group rank, position in pending_)
  order.reserve(pending_.size());
  for (size_t i = 0; i < pending_.size(); ++i) {
    const size_t r = rank.try_emplace(pending_[i].times, rank.size()).first->second;
    order.emplace_back(r, i);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [r, i] : order) {
    const PendingSeries& p = pending_[i];
    size_t byte = p.first_byte;
    size_t size_index = p.first_size;
    for (ChunkMeta& c : series_[p.index].chunks) {
      const uint32_t size = pending_sizes_[size_index++];
      VIGIL_ASSIGN_OR_RETURN(c.ref, chunks_->Write(std::string_view(pending_bytes_).substr(byte, size)));
      byte += size;
    }
  }
  pending_.clear();
  pending_bytes_.clear();
  pending_sizes_.clear();
  return Status::OK();
}

Status BlockWriter::WriteSmallFile(const std::string& path, std::string_view data) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, fs_->NewWritableFile(path));
  VIGIL_RETURN_IF_ERROR(f->Append(data));
  VIGIL_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Status BlockWriter::Publish(BlockMeta* meta) {
  VIGIL_RETURN_IF_ERROR(FlushGroup());
  VIGIL_RETURN_IF_ERROR(chunks_->Finish());
  block::IndexWriterOptions index_options;
  index_options.series_compression = options_.index_compression;
  index_options.level = options_.index_compression_level;
  index_options.version = options_.index_version;
  VIGIL_RETURN_IF_ERROR(WriteIndex(fs_, JoinPath(tmp_dir_, kIndexFileName), series_, index_options));
  VIGIL_RETURN_IF_ERROR(WriteSmallFile(JoinPath(tmp_dir_, kTombstonesFileName), EncodeTombstones({})));
  VIGIL_RETURN_IF_ERROR(WriteSmallFile(JoinPath(tmp_dir_, kMetaFileName), EncodeBlockMeta(*meta)));
  VIGIL_RETURN_IF_ERROR(fs_->SyncDir(JoinPath(tmp_dir_, kChunksDirName)));
  VIGIL_RETURN_IF_ERROR(fs_->SyncDir(tmp_dir_));
  VIGIL_RETURN_IF_ERROR(fs_->Rename(tmp_dir_, final_dir()));
  Status st = fs_->SyncDir(parent_dir_);
  if (!st.ok()) {
    // The block may or may not survive a crash; remove it so that the state matches the error.
    fs_->RemoveDirAll(final_dir()).IgnoreError();
    return st;
  }
  return Status::OK();
}

Result<BlockMeta> BlockWriter::Finish() {
  if (finished_) return Status::InvalidArgument("Finish called twice");
  if (!status_.ok()) return status_;
  BlockMeta meta;
  meta.version = kMetaVersion;
  meta.id = id_;
  if (series_.empty()) {
    min_t_ = 0;
    max_t_ = -1;
  }
  meta.min_time = options_.min_time.value_or(min_t_);
  meta.max_time = options_.max_time.value_or(max_t_ == INT64_MAX ? max_t_ : max_t_ + 1);
  meta.stats = stats_;
  meta.compaction_level = options_.compaction_level;
  meta.compaction_sources = options_.compaction_sources;
  status_ = Publish(&meta);
  if (!status_.ok()) return status_;
  finished_ = true;
  series_.clear();
  return meta;
}

}  // namespace vigil::storage
