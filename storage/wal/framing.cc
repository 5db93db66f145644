#include "storage/wal/framing.h"

#include <algorithm>
#include <cassert>

#include "storage/wal/varint.h"

namespace vigil::storage::wal {

void AppendRecordToEntry(std::string_view record, std::string* entry) {
  detail::AppendUvarint64(record.size(), entry);
  entry->append(record);
}

bool EntryReader::Next(std::string_view* record, bool* bad) {
  *bad = false;
  if (p_ == end_) return false;
  uint64_t len = 0;
  const char* q = detail::GetUvarint64(p_, end_, &len);
  if (q == nullptr || len == 0 || len > static_cast<uint64_t>(end_ - q)) {
    *bad = true;
    return false;
  }
  *record = std::string_view(q, len);
  p_ = q + len;
  return true;
}

void FrameWriter::Append(std::string_view entry, std::string* out) {
  assert(!entry.empty());
  const char* p = entry.data();
  size_t left = entry.size();
  bool first = true;
  while (left > 0) {
    const uint64_t room = kPageSize - offset_ % kPageSize;
    if (room < kFragmentHeaderSize + 1) {
      out->append(room, '\0');
      offset_ += room;
      continue;
    }
    const size_t n = std::min<uint64_t>(left, room - kFragmentHeaderSize);
    const bool last = n == left;
    FragmentType type = first ? (last ? FragmentType::kFull : FragmentType::kFirst)
                              : (last ? FragmentType::kLast : FragmentType::kMiddle);
    char header[kFragmentHeaderSize];
    header[0] = static_cast<char>(type);
    detail::PutFixed16(header + 1, static_cast<uint16_t>(n));
    detail::PutFixed32(header + 3, Checksum32(std::string_view(p, n)));
    out->append(header, kFragmentHeaderSize);
    out->append(p, n);
    offset_ += kFragmentHeaderSize + n;
    p += n;
    left -= n;
    first = false;
  }
}

uint64_t FrameWriter::FramedSize(uint64_t entry_size) const {
  uint64_t offset = offset_;
  uint64_t left = entry_size;
  while (left > 0) {
    const uint64_t room = kPageSize - offset % kPageSize;
    if (room < kFragmentHeaderSize + 1) {
      offset += room;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(left, room - kFragmentHeaderSize);
    offset += kFragmentHeaderSize + n;
    left -= n;
  }
  return offset - offset_;
}

bool SegmentDecoder::AllZero(uint64_t from, uint64_t to) const {
  to = std::min<uint64_t>(to, data_.size());
  for (uint64_t i = from; i < to; ++i) {
    if (data_[i] != '\0') return false;
  }
  return true;
}

Status SegmentDecoder::ReadHeader() {
  if (data_.size() < kSegmentHeaderSize || (tolerate_torn_tail_ && AllZero(0, data_.size()))) {
    done_ = true;
    if (tolerate_torn_tail_) {
      torn_bytes_ = data_.size();
      return Status::OK();
    }
    status_ = Status::Corruption("offset 0: segment is shorter than its 8-byte header");
    return status_;
  }
  Status st = DecodeSegmentHeader(data_, &header_);
  if (!st.ok()) {
    done_ = true;
    status_ = st.WithContext("offset 0");
  }
  return st.WithContext("offset 0");
}

bool SegmentDecoder::Fail(uint64_t at, uint64_t damage_end, const std::string& what) {
  done_ = true;
  cut_offset_ = assembling_ ? entry_offset_ : at;
  if (tolerate_torn_tail_ && AllZero(damage_end, data_.size())) {
    torn_bytes_ = data_.size() - cut_offset_;
    return false;
  }
  status_ = Status::Corruption("offset " + std::to_string(at) + ": " + what);
  return false;
}

bool SegmentDecoder::Truncated(uint64_t at, const std::string& what) {
  done_ = true;
  cut_offset_ = assembling_ ? entry_offset_ : at;
  if (tolerate_torn_tail_) {
    torn_bytes_ = data_.size() - cut_offset_;
    return false;
  }
  status_ = Status::Corruption("offset " + std::to_string(at) + ": " + what);
  return false;
}

bool SegmentDecoder::Next(std::string_view* entry) {
  const uint64_t size = data_.size();
  while (!done_) {
    if (pos_ >= size) {
      if (assembling_) {
        return Truncated(size, "segment ends inside the entry that began at offset " +
                                   std::to_string(entry_offset_));
      }
      done_ = true;
      return false;
    }
    const uint64_t page_end = (pos_ / kPageSize + 1) * kPageSize;
    const uint64_t room = page_end - pos_;
    const auto type = static_cast<uint8_t>(data_[pos_]);
    if (room < kFragmentHeaderSize + 1 || type == 0) {
      if (!AllZero(pos_, page_end)) {
        // Torn writes leave zeros, so non-zero padding is never a torn tail.
        return Fail(pos_, pos_, "non-zero bytes in page padding");
      }
      pos_ = page_end;
      continue;
    }
    if (size - pos_ < kFragmentHeaderSize) {
      return Truncated(pos_, "fragment header cut off by the end of the segment");
    }
    const uint64_t frag = pos_;
    const uint16_t len = detail::GetFixed16(data_.data() + pos_ + 1);
    const uint32_t crc = detail::GetFixed32(data_.data() + pos_ + 3);
    if (type > static_cast<uint8_t>(FragmentType::kLast)) {
      return Fail(frag, frag + kFragmentHeaderSize,
                  "unknown fragment type " + std::to_string(type));
    }
    if (len == 0 || len > room - kFragmentHeaderSize) {
      return Fail(frag, frag + kFragmentHeaderSize,
                  "fragment length " + std::to_string(len) + " does not fit its page");
    }
    if (size - pos_ - kFragmentHeaderSize < len) {
      return Truncated(frag, "fragment payload cut off by the end of the segment");
    }
    const std::string_view payload = data_.substr(pos_ + kFragmentHeaderSize, len);
    if (Checksum32(payload) != crc) {
      return Fail(frag, frag + kFragmentHeaderSize + len, "fragment checksum mismatch");
    }
    pos_ += kFragmentHeaderSize + len;
    switch (static_cast<FragmentType>(type)) {
      case FragmentType::kFull:
        if (assembling_) return Fail(frag, pos_, "full fragment inside an unfinished entry");
        entry_offset_ = frag;
        *entry = payload;
        return true;
      case FragmentType::kFirst:
        if (assembling_) return Fail(frag, pos_, "first fragment inside an unfinished entry");
        assembling_ = true;
        entry_offset_ = frag;
        scratch_.assign(payload);
        break;
      case FragmentType::kMiddle:
        if (!assembling_) return Fail(frag, pos_, "middle fragment without a first fragment");
        scratch_.append(payload);
        break;
      case FragmentType::kLast:
        if (!assembling_) return Fail(frag, pos_, "last fragment without a first fragment");
        scratch_.append(payload);
        assembling_ = false;
        *entry = scratch_;
        return true;
      case FragmentType::kPadding:
        break;  // handled above
    }
  }
  return false;
}

}  // namespace vigil::storage::wal
