#pragma once

// WAL framing (storage/docs/format/wal.md §3): how entries are cut into checksummed fragments
// that never cross a 32 KiB page boundary, and how they are read back from a segment. An entry is
// one Log() batch: a sequence of uvarint-length-prefixed records. Internal to storage/wal.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/wal/segment.h"

namespace vigil::storage::wal {

inline constexpr size_t kPageSize = 32 * 1024;
// type (1) + payload length (2, LE) + checksum of the payload (4, LE).
inline constexpr size_t kFragmentHeaderSize = 7;
// Largest fragment payload: a whole page minus one header.
inline constexpr size_t kMaxFragmentPayload = kPageSize - kFragmentHeaderSize;

enum class FragmentType : uint8_t {
  kPadding = 0,  // zero bytes up to the end of the page
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};

// Appends `record` to an entry under construction.
void AppendRecordToEntry(std::string_view record, std::string* entry);

// Walks the records of an entry. Views point into the entry.
class EntryReader {
 public:
  explicit EntryReader(std::string_view entry) : p_(entry.data()), end_(p_ + entry.size()) {}
  // False at the end; sets *bad when the entry is malformed.
  bool Next(std::string_view* record, bool* bad);

 private:
  const char* p_;
  const char* end_;
};

// Cuts entries into fragments. Tracks the file offset so that it knows where pages end.
// Thread safety: none.
class FrameWriter {
 public:
  // `offset` is the segment file size (kSegmentHeaderSize for a fresh segment).
  explicit FrameWriter(uint64_t offset = kSegmentHeaderSize) : offset_(offset) {}
  void Reset(uint64_t offset) { offset_ = offset; }

  // Appends the fragments of `entry` (plus any page padding before them) to *out, which continues
  // the segment at offset(). REQUIRES: !entry.empty().
  void Append(std::string_view entry, std::string* out);

  uint64_t offset() const { return offset_; }

  // Bytes Append() would add for an entry of `entry_size` bytes at the current offset.
  uint64_t FramedSize(uint64_t entry_size) const;

 private:
  uint64_t offset_;
};

// Reads the entries of one segment held in memory.
//
// Errors: framing errors and checksum mismatches end the read with Corruption whose message names
// the byte offset; cut_offset() is then the start of the damaged entry (where Repair cuts). With
// `tolerate_torn_tail`, an error after which the segment holds only zero bytes, a fragment or entry
// cut off by the end of the file, or a short/zeroed header, ends the read with OK instead and
// torn_bytes() says how many bytes were dropped.
// Thread safety: none. Lifetime: `data` must outlive the decoder and the entries it returns.
class SegmentDecoder {
 public:
  SegmentDecoder(std::string_view data, bool tolerate_torn_tail)
      : data_(data), tolerate_torn_tail_(tolerate_torn_tail) {}

  // Checks the header; must be called first. OK with header() unset if the segment is a torn
  // (short or zero) header that was tolerated.
  Status ReadHeader();
  const SegmentHeader& header() const { return header_; }

  // The next entry, or false at the end or on error (see status()). The view is into `data` for
  // single-fragment entries and into an internal buffer otherwise; valid until the next call.
  bool Next(std::string_view* entry);

  const Status& status() const { return status_; }
  // Offset of the first byte of the entry last returned by Next().
  uint64_t entry_offset() const { return entry_offset_; }
  // After an error: where the segment should be cut so that it ends with whole entries.
  uint64_t cut_offset() const { return cut_offset_; }
  // Bytes dropped as a torn tail (0 when the segment ended cleanly).
  uint64_t torn_bytes() const { return torn_bytes_; }

 private:
  // Ends the read at a problem found at `at` (a fragment or padding start). `damage_end` is the
  // end of the bytes that the problem covers; later bytes decide torn tail versus corruption.
  bool Fail(uint64_t at, uint64_t damage_end, const std::string& what);
  bool Truncated(uint64_t at, const std::string& what);
  bool AllZero(uint64_t from, uint64_t to) const;

  std::string_view data_;
  bool tolerate_torn_tail_;
  SegmentHeader header_;
  uint64_t pos_ = kSegmentHeaderSize;
  bool done_ = false;
  bool assembling_ = false;
  uint64_t entry_offset_ = 0;
  uint64_t cut_offset_ = 0;
  uint64_t torn_bytes_ = 0;
  std::string scratch_;
  Status status_;
};

}  // namespace vigil::storage::wal
