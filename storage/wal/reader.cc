#include "storage/wal/reader.h"

#include <limits>

#include "storage/base/logging.h"
#include "storage/wal/segment.h"

namespace vigil::storage::wal {
namespace {

// Reads the flags of a segment header; nullopt if the header is missing or unreadable.
std::optional<uint8_t> PeekSegmentFlags(FileSystem* fs, const std::string& path) {
  auto file = fs->NewRandomAccessFile(path);
  if (!file.ok()) return std::nullopt;
  char scratch[kSegmentHeaderSize];
  auto data = (*file)->ReadAt(0, kSegmentHeaderSize, scratch);
  if (!data.ok() || data->size() < kSegmentHeaderSize) return std::nullopt;
  SegmentHeader header;
  if (!DecodeSegmentHeader(*data, &header).ok()) return std::nullopt;
  return header.flags;
}

std::string MissingSegmentMessage(const std::string& dir, uint64_t expected, uint64_t found) {
  return "wal " + dir + ": missing segment " + SegmentFileName(expected) + " (the next one is " +
         SegmentFileName(found) + ")";
}

}  // namespace

WalReader::~WalReader() = default;

Result<std::unique_ptr<WalReader>> WalReader::Open(FileSystem* fs, std::string dir) {
  std::unique_ptr<WalReader> r(new WalReader(fs, std::move(dir)));
  if (!fs->DirExists(r->dir_)) return r;
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, r->dir_));
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, r->dir_));
  std::optional<uint64_t> expected;
  if (!checkpoints.empty()) {
    const uint64_t c = checkpoints.back();
    r->stats_.checkpoint = c;
    const std::string cdir = JoinPath(r->dir_, CheckpointDirName(c));
    VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> csegs, ListSegments(fs, cdir));
    for (size_t i = 0; i < csegs.size(); ++i) {
      if (csegs[i] != i) {
        return Status::Corruption(MissingSegmentMessage(cdir, i, csegs[i]));
      }
      r->sources_.push_back({cdir, csegs[i], /*strict=*/true});
    }
    expected = c + 1;
  }
  for (uint64_t s : segments) {
    if (r->stats_.checkpoint && s <= *r->stats_.checkpoint) continue;  // already folded
    if (expected && s != *expected) {
      // Replay what comes before the gap, then report it.
      r->gap_ = Status::Corruption(MissingSegmentMessage(r->dir_, *expected, s));
      r->gap_point_ = CorruptionPoint{r->dir_, *expected - 1, std::numeric_limits<uint64_t>::max()};
      break;
    }
    r->sources_.push_back({r->dir_, s, /*strict=*/false});
    expected = s + 1;
  }
  return r;
}

Result<std::unique_ptr<WalReader>> WalReader::OpenRange(FileSystem* fs, std::string dir,
                                                        uint64_t from, uint64_t to,
                                                        bool with_checkpoint) {
  if (from > to) return Status::InvalidArgument("wal: empty segment range");
  std::unique_ptr<WalReader> r(new WalReader(fs, std::move(dir)));
  if (with_checkpoint) {
    VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, r->dir_));
    for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
      if (*it >= to) continue;
      r->stats_.checkpoint = *it;
      const std::string cdir = JoinPath(r->dir_, CheckpointDirName(*it));
      VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> csegs, ListSegments(fs, cdir));
      for (size_t i = 0; i < csegs.size(); ++i) {
        if (csegs[i] != i) return Status::Corruption(MissingSegmentMessage(cdir, i, csegs[i]));
        r->sources_.push_back({cdir, csegs[i], /*strict=*/true});
      }
      if (*it >= from) from = *it + 1;
      break;
    }
  }
  for (uint64_t s = from; s <= to; ++s) {
    const std::string path = JoinPath(r->dir_, SegmentFileName(s));
    if (!fs->FileExists(path)) return Status::Corruption("wal: missing segment " + path);
    r->sources_.push_back({r->dir_, s, /*strict=*/false});
  }
  return r;
}

bool WalReader::TolerateTornTail(size_t i) {
  const Source& src = sources_[i];
  if (src.strict) return false;
  const std::string next = JoinPath(src.dir, SegmentFileName(src.index + 1));
  if (!fs_->FileExists(next)) return true;  // the last segment
  // A successor made by rotation means this segment was synced and closed; one made by a new
  // writer session (or after a write error) means this one may have been cut off.
  std::optional<uint8_t> flags = PeekSegmentFlags(fs_, next);
  return !flags || (*flags & kSegmentFlagSessionStart) != 0;
}

Status WalReader::OpenSource(size_t i) {
  const Source& src = sources_[i];
  path_ = JoinPath(src.dir, SegmentFileName(src.index));
  decoder_.reset();
  file_.reset();
  VIGIL_ASSIGN_OR_RETURN(file_, fs_->NewRandomAccessFile(path_));
  std::string_view data;
  if (std::optional<std::string_view> mapped = file_->Mapped()) {
    data = *mapped;
  } else {
    VIGIL_ASSIGN_OR_RETURN(uint64_t size, file_->Size());
    buffer_.resize(size);
    VIGIL_ASSIGN_OR_RETURN(data, file_->ReadAt(0, size, buffer_.data()));
  }
  ++stats_.segments;
  stats_.bytes += data.size();
  decoder_ = std::make_unique<SegmentDecoder>(data, TolerateTornTail(i));
  return decoder_->ReadHeader();
}

bool WalReader::Stop(Status st, std::optional<CorruptionPoint> point) {
  done_ = true;
  status_ = std::move(st);
  corruption_ = std::move(point);
  entry_.reset();
  return false;
}

bool WalReader::Next(std::string_view* record) {
  while (!done_) {
    if (entry_) {
      bool bad = false;
      if (entry_->Next(record, &bad)) {
        ++stats_.records;
        return true;
      }
      entry_.reset();
      if (bad) {
        const uint64_t at = decoder_->entry_offset();
        return Stop(Status::Corruption("wal segment " + path_ + ": offset " + std::to_string(at) +
                                       ": malformed batch"),
                    CorruptionPoint{sources_[next_source_ - 1].dir,
                                    sources_[next_source_ - 1].index, at});
      }
    }
    if (decoder_) {
      std::string_view batch;
      if (decoder_->Next(&batch)) {
        entry_.emplace(batch);
        ++stats_.batches;
        continue;
      }
      const Source& src = sources_[next_source_ - 1];
      const Status& st = decoder_->status();
      if (!st.ok()) {
        std::optional<CorruptionPoint> point;
        if (st.IsCorruption()) point = CorruptionPoint{src.dir, src.index, decoder_->cut_offset()};
        return Stop(Status(st.code(), "wal segment " + path_ + ": " + st.message()), point);
      }
      if (decoder_->torn_bytes() > 0) {
        stats_.torn_bytes += decoder_->torn_bytes();
        stats_.torn.push_back(path_ + " at offset " + std::to_string(decoder_->cut_offset()) +
                              ": " + std::to_string(decoder_->torn_bytes()) + " bytes");
        VIGIL_LOG(WARN) << "wal: dropped a torn tail of " << decoder_->torn_bytes()
                        << " bytes at offset " << decoder_->cut_offset() << " of " << path_;
      }
      decoder_.reset();
      file_.reset();
    }
    if (next_source_ >= sources_.size()) {
      if (gap_) return Stop(*gap_, gap_point_);
      done_ = true;
      return false;
    }
    const size_t i = next_source_++;
    Status st = OpenSource(i);
    if (!st.ok()) {
      std::optional<CorruptionPoint> point;
      if (st.IsCorruption()) point = CorruptionPoint{sources_[i].dir, sources_[i].index, 0};
      return Stop(Status(st.code(), "wal segment " + path_ + ": " + st.message()), point);
    }
  }
  return false;
}

Status Repair(FileSystem* fs, const CorruptionPoint& at) {
  const std::string path = JoinPath(at.dir, SegmentFileName(at.segment));
  if (fs->FileExists(path)) {
    VIGIL_ASSIGN_OR_RETURN(uint64_t size, fs->FileSize(path));
    if (at.offset < kSegmentHeaderSize) {
      VIGIL_RETURN_IF_ERROR(fs->RemoveFile(path));
    } else if (at.offset < size) {
      VIGIL_RETURN_IF_ERROR(fs->Truncate(path, at.offset));
    }
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, at.dir));
  for (uint64_t s : segments) {
    if (s > at.segment) VIGIL_RETURN_IF_ERROR(fs->RemoveFile(JoinPath(at.dir, SegmentFileName(s))));
  }
  VIGIL_LOG(WARN) << "wal: repaired " << at.dir << ": cut segment " << SegmentFileName(at.segment)
                  << " at offset " << at.offset;
  return fs->SyncDir(at.dir);
}

}  // namespace vigil::storage::wal
