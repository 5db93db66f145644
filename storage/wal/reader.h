#pragma once

// Replays a WAL directory: the latest checkpoint, then every segment after it, in order, yielding
// whole records (storage/docs/format/wal.md §5).
//
//   VIGIL_ASSIGN_OR_RETURN(auto reader, WalReader::Open(fs, dir));
//   std::string_view rec;
//   while (reader->Next(&rec)) { ...decode with storage/wal/records.h... }
//   if (!reader->status().ok()) {
//     if (reader->corruption()) { report; VIGIL_RETURN_IF_ERROR(Repair(fs, dir, *reader->corruption())); }
//     else return reader->status();
//   }
//
// A torn tail (a batch cut off by a crash) at the end of the last segment, or of a segment that a
// restarted writer left behind, is dropped and counted in stats().torn_bytes; every other damage
// stops the replay with Corruption naming the segment file and byte offset.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/base/status.h"
#include "storage/wal/framing.h"

namespace vigil::storage::wal {

struct ReplayStats {
  std::optional<uint64_t> checkpoint;  // index of the checkpoint replayed first, if any
  uint64_t segments = 0;               // segment files read (checkpoint ones included)
  uint64_t bytes = 0;                  // segment bytes read
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t torn_bytes = 0;             // bytes dropped at torn tails
  std::vector<std::string> torn;       // "<segment path> at offset N: M bytes", one per torn tail
};

// Where the log should be cut after Corruption: every byte of segment `segment` in `dir` before
// `offset` is whole entries. `dir` is the WAL directory or a checkpoint directory inside it.
struct CorruptionPoint {
  std::string dir;
  uint64_t segment = 0;
  uint64_t offset = 0;
};

// Thread safety: none; one reader per thread. Do not replay a directory a Wal is writing.
class WalReader {
 public:
  // Lists `dir` (a missing directory replays as empty). `fs` must outlive the reader.
  static Result<std::unique_ptr<WalReader>> Open(FileSystem* fs, std::string dir);

  // Reads the latest checkpoint with index < `from` (if `with_checkpoint`) and then segments
  // [from, to] of `dir`; every one of them must exist. Used by Checkpoint().
  static Result<std::unique_ptr<WalReader>> OpenRange(FileSystem* fs, std::string dir,
                                                      uint64_t from, uint64_t to,
                                                      bool with_checkpoint);

  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;
  ~WalReader();

  // The next record, valid until the next call. False at the end or on error (see status()).
  bool Next(std::string_view* record);

  // OK after a clean end (torn tails included); Corruption, NotSupported or IOError otherwise.
  const Status& status() const { return status_; }
  // Set when status() is Corruption: the point Repair() cuts at.
  const std::optional<CorruptionPoint>& corruption() const { return corruption_; }
  const ReplayStats& stats() const { return stats_; }

 private:
  struct Source {
    std::string dir;
    uint64_t index;
    bool strict;  // checkpoint segments never end torn
  };

  WalReader(FileSystem* fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  Status OpenSource(size_t i);
  bool TolerateTornTail(size_t i);
  bool Stop(Status st, std::optional<CorruptionPoint> point);

  FileSystem* fs_;
  std::string dir_;
  std::vector<Source> sources_;
  size_t next_source_ = 0;
  std::optional<Status> gap_;  // a missing segment after the last source, reported at the end
  std::optional<CorruptionPoint> gap_point_;
  bool done_ = false;

  std::unique_ptr<RandomAccessFile> file_;
  std::string buffer_;  // segment contents when the file system cannot map
  std::string path_;
  std::unique_ptr<SegmentDecoder> decoder_;
  std::optional<EntryReader> entry_;

  Status status_;
  std::optional<CorruptionPoint> corruption_;
  ReplayStats stats_;
};

// Cuts the log at `at`: truncates that segment to `at.offset` (removes it if the header is
// damaged) and deletes every later segment in `at.dir`, so the next replay ends cleanly there.
// Records after the point are lost; callers report the corruption first.
Status Repair(FileSystem* fs, const CorruptionPoint& at);

}  // namespace vigil::storage::wal
