#include "storage/block/chunks.h"

#include <algorithm>
#include <cstdio>

#include "storage/block/coding.h"
#include "storage/block/format.h"
#include "storage/block/piece_cache.h"

namespace vigil::storage::block {

namespace {

using compression::BlockCodec;

bool Compressed(const ChunkWriterOptions& o) { return o.codec != BlockCodec::kNone; }

// Version 2 chunk refs: segment << 32 | piece << 16 | offset of the frame in the piece.
constexpr uint32_t MakePieceOffset(uint32_t piece, uint32_t offset) { return piece << 16 | offset; }
constexpr uint32_t PieceOf(uint32_t low) { return low >> 16; }
constexpr uint32_t OffsetInPiece(uint32_t low) { return low & 0xffff; }

}  // namespace

std::string SegmentName(uint32_t segment) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%0*u", kSegmentNameDigits, segment);
  return buf;
}

// ---- writer ---------------------------------------------------------------------------------

ChunkWriter::ChunkWriter(FileSystem* fs, std::string dir, ChunkWriterOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {
  options_.max_segment_size = std::min(options_.max_segment_size, kMaxSegmentSize);
}

ChunkWriter::~ChunkWriter() = default;

Status ChunkWriter::Cut() {
  VIGIL_RETURN_IF_ERROR(Finish());
  ++segment_;
  VIGIL_ASSIGN_OR_RETURN(file_, fs_->NewWritableFile(JoinPath(dir_, SegmentName(segment_))));
  piece_offsets_.clear();
  return file_->Append(FileHeader(kChunksMagic, Compressed(options_) ? kChunksVersionCompressed
                                                                      : kChunksVersion));
}

Result<ChunkRef> ChunkWriter::Write(std::string_view chunk) {
  frame_.clear();
  AppendUvarint(chunk.size(), &frame_);
  frame_.append(chunk);
  if (!Compressed(options_)) {
    AppendFixed32(Checksum32(chunk), &frame_);
    if (file_ == nullptr ||
        (file_->Size() > kFileHeaderSize && file_->Size() + frame_.size() > options_.max_segment_size)) {
      VIGIL_RETURN_IF_ERROR(Cut());
    }
    const uint64_t offset = file_->Size();
    if (offset > UINT32_MAX) return Status::InvalidArgument("chunk larger than a segment may hold");
    VIGIL_RETURN_IF_ERROR(file_->Append(frame_));
    return MakeChunkRef(segment_, static_cast<uint32_t>(offset));
  }
  // Version 2: the frame joins the open piece unless it would overflow it.
  if (!piece_.empty() && piece_.size() + frame_.size() > kPieceSize) {
    VIGIL_RETURN_IF_ERROR(FlushPiece());
  }
  if (piece_.empty()) {
    // A new piece: cut the segment first if it has every piece number in use or is full (the
    // piece's uncompressed size bounds what it adds).
    if (file_ == nullptr || piece_offsets_.size() >= kMaxPiecesPerSegment ||
        (!piece_offsets_.empty() &&
         file_->Size() + frame_.size() + 4 * (piece_offsets_.size() + 8) > options_.max_segment_size)) {
      VIGIL_RETURN_IF_ERROR(Cut());
    }
  }
  const uint32_t piece = static_cast<uint32_t>(piece_offsets_.size());
  const uint32_t offset = static_cast<uint32_t>(piece_.size());  // < kPieceSize <= 65536
  piece_.append(frame_);
  return MakeChunkRef(segment_, MakePieceOffset(piece, offset));
}

Status ChunkWriter::FlushPiece() {
  if (piece_.empty()) return Status::OK();
  compressed_.clear();
  compression::BlockStatus s = compression::CompressBlock(options_.codec, piece_, options_.level,
                                                          &compressed_);
  if (!s.ok()) return Status::Internal("compressing a chunk piece: " + s.message());
  if (compressed_.size() >= piece_.size() + 1) {
    // Incompressible (random values): stored as a kNone frame, still checksummed.
    compressed_.clear();
    s = compression::CompressBlock(BlockCodec::kNone, piece_, 0, &compressed_);
    if (!s.ok()) return Status::Internal("framing a chunk piece: " + s.message());
  }
  const uint64_t offset = file_->Size();
  if (offset + kPieceHeaderSize + compressed_.size() > UINT32_MAX) {
    return Status::InvalidArgument("chunk piece beyond the 4 GiB a segment may hold");
  }
  std::string header;
  AppendFixed32(static_cast<uint32_t>(compressed_.size()), &header);
  AppendFixed32(Checksum32(compressed_), &header);
  VIGIL_RETURN_IF_ERROR(file_->Append(header));
  VIGIL_RETURN_IF_ERROR(file_->Append(compressed_));
  piece_offsets_.push_back(static_cast<uint32_t>(offset));
  piece_.clear();
  return Status::OK();
}

Status ChunkWriter::FinishSegment() {
  VIGIL_RETURN_IF_ERROR(FlushPiece());
  std::string table;
  for (uint32_t off : piece_offsets_) AppendFixed32(off, &table);
  AppendFixed32(static_cast<uint32_t>(piece_offsets_.size()), &table);
  AppendFixed32(Checksum32(table), &table);
  return file_->Append(table);
}

Status ChunkWriter::Finish() {
  if (file_ == nullptr) return Status::OK();
  if (Compressed(options_)) VIGIL_RETURN_IF_ERROR(FinishSegment());
  VIGIL_RETURN_IF_ERROR(file_->Sync());
  VIGIL_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  return Status::OK();
}

// ---- reader ---------------------------------------------------------------------------------

ChunkReader::ChunkReader() : cache_(std::make_unique<PieceCache>(kChunkPieceCacheSize)) {}
ChunkReader::~ChunkReader() = default;
uint64_t ChunkReader::pieces_decompressed() const { return cache_->puts(); }

ChunkReader::ChunkReader(ChunkReader&&) noexcept = default;
ChunkReader& ChunkReader::operator=(ChunkReader&&) noexcept = default;

namespace {

// Checks the header of a chunk segment, either version. Sets *version.
Status CheckChunksHeader(const FileView& view, uint8_t* version) {
  const std::string_view d = view.data();
  if (d.size() >= kFileHeaderSize && static_cast<uint8_t>(d[4]) == kChunksVersionCompressed) {
    *version = kChunksVersionCompressed;
    return CheckFileHeader(view, kChunksMagic, kChunksVersionCompressed);
  }
  *version = kChunksVersion;
  return CheckFileHeader(view, kChunksMagic, kChunksVersion);
}

// Reads the piece table at the end of a version 2 segment.
Status ReadPieceTable(const FileView& view, std::vector<uint32_t>* pieces, uint64_t* table_start) {
  const std::string_view d = view.data();
  if (d.size() < kFileHeaderSize + 8) {
    return CorruptionAt(view.path(), d.size(), "compressed segment too short for its piece table");
  }
  const uint64_t count = GetFixed32(d.data() + d.size() - 8);
  const uint32_t checksum = GetFixed32(d.data() + d.size() - 4);
  if (count > kMaxPiecesPerSegment || 4 * count + 8 > d.size() - kFileHeaderSize) {
    return CorruptionAt(view.path(), d.size() - 8, "bad piece count");
  }
  *table_start = d.size() - 8 - 4 * count;
  if (Checksum32(d.substr(*table_start, 4 * count + 4)) != checksum) {
    return CorruptionAt(view.path(), *table_start, "piece table checksum mismatch");
  }
  pieces->resize(count);
  uint64_t prev_end = kFileHeaderSize;
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t off = GetFixed32(d.data() + *table_start + 4 * i);
    if (off != prev_end || off + kPieceHeaderSize > *table_start) {
      return CorruptionAt(view.path(), *table_start + 4 * i, "piece offset out of order or range");
    }
    const uint64_t len = GetFixed32(d.data() + off);
    if (len > *table_start - off - kPieceHeaderSize) {
      return CorruptionAt(view.path(), off, "piece runs into the piece table");
    }
    (*pieces)[i] = off;
    prev_end = off + kPieceHeaderSize + len;
  }
  if (prev_end != *table_start) {
    return CorruptionAt(view.path(), prev_end, "bytes between the last piece and the piece table");
  }
  return Status::OK();
}

// Parses the version 1 frame at `offset`; on success sets *chunk and *next.
Status ReadFrameV1(const FileView& seg, uint64_t offset, std::string_view* chunk, uint64_t* next) {
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

// Parses the frame at `offset` of a decompressed piece; sets *chunk and *next.
Status ReadFrameInPiece(const std::string& path, uint64_t piece_offset, std::string_view piece,
                        uint64_t offset, std::string_view* chunk, uint64_t* next) {
  if (offset >= piece.size()) {
    return CorruptionAt(path, piece_offset, "chunk offset " + std::to_string(offset) + " outside its piece");
  }
  uint64_t len = 0;
  const char* body = GetUvarint(piece.data() + offset, piece.data() + piece.size(), &len);
  if (body == nullptr) return CorruptionAt(path, piece_offset, "truncated chunk length in piece");
  const uint64_t start = static_cast<uint64_t>(body - piece.data());
  if (len == 0 || len > kMaxChunkSize || len > piece.size() - start) {
    return CorruptionAt(path, piece_offset, "bad chunk length in piece");
  }
  *chunk = piece.substr(start, len);
  *next = start + len;
  return Status::OK();
}

// Checks and decompresses piece `index` of a version 2 segment.
Result<std::shared_ptr<const std::string>> LoadPiece(const FileView& view,
                                                     const std::vector<uint32_t>& pieces,
                                                     uint32_t index) {
  if (index >= pieces.size()) {
    return CorruptionAt(view.path(), 0, "chunk ref names missing piece " + std::to_string(index));
  }
  const std::string_view d = view.data();
  const uint32_t off = pieces[index];
  const uint32_t len = GetFixed32(d.data() + off);  // bounds checked by ReadPieceTable
  const std::string_view framed = d.substr(off + kPieceHeaderSize, len);
  if (Checksum32(framed) != GetFixed32(d.data() + off + 4)) {
    return CorruptionAt(view.path(), off, "piece checksum mismatch");
  }
  std::shared_ptr<std::string> out = NewPieceBuffer();
  const compression::BlockStatus s = compression::DecompressBlock(framed, out.get(), kMaxPieceRawSize);
  if (!s.ok()) return CorruptionAt(view.path(), off, "piece does not decompress: " + s.message());
  return std::shared_ptr<const std::string>(std::move(out));
}

}  // namespace

Result<ChunkReader> ChunkReader::Open(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  ChunkReader reader;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != SegmentName(static_cast<uint32_t>(i + 1))) {
      return Status::Corruption(JoinPath(dir, names[i]) + ": unexpected file; want segment " +
                                SegmentName(static_cast<uint32_t>(i + 1)));
    }
    Segment seg;
    VIGIL_ASSIGN_OR_RETURN(seg.view, FileView::Open(fs, JoinPath(dir, names[i])));
    VIGIL_RETURN_IF_ERROR(CheckChunksHeader(seg.view, &seg.version));
    if (seg.version == kChunksVersionCompressed) {
      VIGIL_RETURN_IF_ERROR(ReadPieceTable(seg.view, &seg.pieces, &seg.table_start));
      seg.piece_state = std::make_unique<std::atomic<uint8_t>[]>(seg.pieces.size());
    }
    reader.segments_.push_back(std::move(seg));
  }
  return reader;
}

Result<ChunkData> ChunkReader::Chunk(ChunkRef ref) const {
  const uint32_t seg = ChunkRefSegment(ref);
  if (seg == 0 || seg > segments_.size()) {
    return Status::Corruption("chunk ref " + std::to_string(ref) + " names missing segment " +
                              std::to_string(seg));
  }
  const Segment& s = segments_[seg - 1];
  ChunkData out;
  uint64_t next = 0;
  if (s.version != kChunksVersionCompressed) {
    VIGIL_RETURN_IF_ERROR(ReadFrameV1(s.view, ChunkRefOffset(ref), &out.bytes, &next));
    return out;
  }
  const uint32_t piece = PieceOf(ChunkRefOffset(ref));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string_view> plain, PlainPiece(s, piece));
  if (plain) {
    VIGIL_RETURN_IF_ERROR(ReadFrameInPiece(s.view.path(), s.pieces[piece], *plain,
                                           OffsetInPiece(ChunkRefOffset(ref)), &out.bytes, &next));
    return out;
  }
  const uint64_t key = uint64_t{seg} << 32 | piece;
  out.piece = cache_->Get(key);
  if (out.piece == nullptr) {
    VIGIL_ASSIGN_OR_RETURN(out.piece, LoadPiece(s.view, s.pieces, piece));
    cache_->Put(key, out.piece);
  }
  VIGIL_RETURN_IF_ERROR(ReadFrameInPiece(s.view.path(), s.pieces[piece], *out.piece,
                                         OffsetInPiece(ChunkRefOffset(ref)), &out.bytes, &next));
  return out;
}

Result<std::optional<std::string_view>> ChunkReader::PlainPiece(const Segment& s, uint32_t piece) const {
  if (piece >= s.pieces.size()) {
    return CorruptionAt(s.view.path(), 0, "chunk ref names missing piece " + std::to_string(piece));
  }
  // Incompressible pieces (random values) are stored as kNone frames: copying them into the cache
  // would cost a copy, fresh pages and cache room, for nothing.
  enum PieceState : uint8_t { kUnread = 0, kPlainChecked = 1, kCompressed = 2 };
  std::atomic<uint8_t>& state = s.piece_state[piece];
  const uint8_t known = state.load(std::memory_order_acquire);
  if (known == kCompressed) return std::optional<std::string_view>();
  const std::string_view d = s.view.data();
  const uint32_t off = s.pieces[piece];
  const uint32_t len = GetFixed32(d.data() + off);  // bounds checked by ReadPieceTable
  const std::string_view framed = d.substr(off + kPieceHeaderSize, len);
  compression::BlockHeader h;
  if (compression::BlockStatus st = compression::ReadBlockHeader(framed, &h, kMaxPieceRawSize); !st.ok()) {
    return CorruptionAt(s.view.path(), off, "piece does not decompress: " + st.message());
  }
  if (h.codec != BlockCodec::kNone) {
    state.store(kCompressed, std::memory_order_release);  // LoadPiece checks it at each decompression
    return std::optional<std::string_view>();
  }
  if (known != kPlainChecked) {
    if (Checksum32(framed) != GetFixed32(d.data() + off + 4)) {
      return CorruptionAt(s.view.path(), off, "piece checksum mismatch");
    }
    state.store(kPlainChecked, std::memory_order_release);
  }
  const std::string_view payload = framed.substr(h.header_size);
  if (payload.size() != h.uncompressed_size) {
    return CorruptionAt(s.view.path(), off, "piece does not decompress: uncompressed block payload size differs from header");
  }
  return std::optional<std::string_view>(payload);
}

Result<uint64_t> ChunkReader::Verify() const {
  uint64_t count = 0;
  for (const Segment& seg : segments_) {
    if (seg.version != kChunksVersionCompressed) {
      uint64_t offset = kFileHeaderSize;
      while (offset < seg.view.data().size()) {
        std::string_view chunk;
        VIGIL_RETURN_IF_ERROR(ReadFrameV1(seg.view, offset, &chunk, &offset));
        ++count;
      }
      continue;
    }
    for (uint32_t p = 0; p < seg.pieces.size(); ++p) {
      VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> piece,
                             LoadPiece(seg.view, seg.pieces, p));
      if (piece->empty()) return CorruptionAt(seg.view.path(), seg.pieces[p], "empty piece");
      uint64_t offset = 0;
      while (offset < piece->size()) {
        std::string_view chunk;
        VIGIL_RETURN_IF_ERROR(
            ReadFrameInPiece(seg.view.path(), seg.pieces[p], *piece, offset, &chunk, &offset));
        ++count;
      }
    }
  }
  return count;
}

}  // namespace vigil::storage::block
