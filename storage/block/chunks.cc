#include "storage/block/chunks.h"

#include <cstdio>

#include "storage/block/coding.h"
#include "storage/block/format.h"

namespace vigil::storage::block {

std::string SegmentName(uint32_t segment) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%0*u", kSegmentNameDigits, segment);
  return buf;
}

ChunkWriter::ChunkWriter(FileSystem* fs, std::string dir, uint64_t max_segment_size)
    : fs_(fs), dir_(std::move(dir)), max_segment_size_(std::min(max_segment_size, kMaxSegmentSize)) {}

ChunkWriter::~ChunkWriter() = default;

Status ChunkWriter::Cut() {
  VIGIL_RETURN_IF_ERROR(Finish());
  ++segment_;
  VIGIL_ASSIGN_OR_RETURN(file_, fs_->NewWritableFile(JoinPath(dir_, SegmentName(segment_))));
  return file_->Append(FileHeader(kChunksMagic, kChunksVersion));
}

Result<ChunkRef> ChunkWriter::Write(std::string_view chunk) {
  frame_.clear();
  AppendUvarint(chunk.size(), &frame_);
  frame_.append(chunk);
  AppendFixed32(Checksum32(chunk), &frame_);
  if (file_ == nullptr ||
      (file_->Size() > kFileHeaderSize && file_->Size() + frame_.size() > max_segment_size_)) {
    VIGIL_RETURN_IF_ERROR(Cut());
  }
  const uint64_t offset = file_->Size();
  if (offset > UINT32_MAX) return Status::InvalidArgument("chunk larger than a segment may hold");
  VIGIL_RETURN_IF_ERROR(file_->Append(frame_));
  return MakeChunkRef(segment_, static_cast<uint32_t>(offset));
}

Status ChunkWriter::Finish() {
  if (file_ == nullptr) return Status::OK();
  VIGIL_RETURN_IF_ERROR(file_->Sync());
  VIGIL_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  return Status::OK();
}

Result<ChunkReader> ChunkReader::Open(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  ChunkReader reader;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != SegmentName(static_cast<uint32_t>(i + 1))) {
      return Status::Corruption(JoinPath(dir, names[i]) + ": unexpected file; want segment " +
                                SegmentName(static_cast<uint32_t>(i + 1)));
    }
    VIGIL_ASSIGN_OR_RETURN(FileView view, FileView::Open(fs, JoinPath(dir, names[i])));
    VIGIL_RETURN_IF_ERROR(CheckFileHeader(view, kChunksMagic, kChunksVersion));
    reader.segments_.push_back(std::move(view));
  }
  return reader;
}

namespace {

// Parses the frame at `offset`; on success sets *chunk and *next (offset after the frame).
Status ReadFrame(const FileView& seg, uint64_t offset, std::string_view* chunk, uint64_t* next) {
  const std::string_view d = seg.data();
  if (offset < kFileHeaderSize || offset >= d.size()) {
    return CorruptionAt(seg.path(), offset, "chunk offset outside the segment");
  }
  uint64_t len = 0;
  const char* body = GetUvarint(d.data() + offset, d.data() + d.size(), &len);
  if (body == nullptr) return CorruptionAt(seg.path(), offset, "truncated chunk length");
  const uint64_t start = static_cast<uint64_t>(body - d.data());
  if (len == 0 || len > kMaxChunkSize) return CorruptionAt(seg.path(), offset, "bad chunk length");
  if (len + kChunkChecksumSize > d.size() - start) {
    return CorruptionAt(seg.path(), offset, "chunk runs past the end of the segment");
  }
  *chunk = d.substr(start, len);
  if (GetFixed32(d.data() + start + len) != Checksum32(*chunk)) {
    return CorruptionAt(seg.path(), offset, "chunk checksum mismatch");
  }
  *next = start + len + kChunkChecksumSize;
  return Status::OK();
}

}  // namespace

Result<std::string_view> ChunkReader::Chunk(ChunkRef ref) const {
  const uint32_t seg = ChunkRefSegment(ref);
  if (seg == 0 || seg > segments_.size()) {
    return Status::Corruption("chunk ref " + std::to_string(ref) + " names missing segment " +
                              std::to_string(seg));
  }
  std::string_view chunk;
  uint64_t next = 0;
  VIGIL_RETURN_IF_ERROR(ReadFrame(segments_[seg - 1], ChunkRefOffset(ref), &chunk, &next));
  return chunk;
}

Result<uint64_t> ChunkReader::Verify() const {
  uint64_t count = 0;
  for (const FileView& seg : segments_) {
    uint64_t offset = kFileHeaderSize;
    while (offset < seg.data().size()) {
      std::string_view chunk;
      VIGIL_RETURN_IF_ERROR(ReadFrame(seg, offset, &chunk, &offset));
      ++count;
    }
  }
  return count;
}

}  // namespace vigil::storage::block
