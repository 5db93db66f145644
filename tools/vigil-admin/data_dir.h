#pragma once

// Read-only access to a Vigil data directory for the offline commands (inspect, verify, dump).
// Nothing here takes the directory lock, creates, repairs or deletes a file: the tools may run
// beside a live vigild (they then see a moment's state) and on a copy of a broken directory.
//
// Layout (storage/file_names.h, storage/docs/format/block.md): `<dir>/<block id>/` is a block,
// `<dir>/wal/` the write-ahead log, `<dir>/quarantine/<entry>/` a block the Db moved aside,
// everything else (LOCK, *.tmp leftovers, snapshots/, ...) is listed as "other".

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/base/status.h"

namespace vigil::storage {
class Head;
}  // namespace vigil::storage

namespace vigil::admin {

// Where a command writes, and the file system it reads: tests pass an in-memory file system and
// memory streams; the registered commands pass DefaultFileSystem(), stdout and stderr.
struct AdminIo {
  FileSystem* fs = nullptr;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// The entry points behind `vigil-admin inspect|verify|dump`; args[0] is the command name. Exit
// codes as in command.h: 0 ok, 1 failure or corruption found, 2 usage error.
int InspectCommand(const AdminIo& io, std::span<char* const> args);
int VerifyCommand(const AdminIo& io, std::span<char* const> args);
int DumpCommand(const AdminIo& io, std::span<char* const> args);

struct DataDirListing {
  std::vector<std::string> blocks;  // sub-directories named by a valid block id, sorted (= by age)
  bool has_wal = false;
  std::vector<std::string> quarantined;  // entries of quarantine/, as "quarantine/<name>"
  std::vector<std::string> other;   // every other top-level entry (LOCK, *.tmp leftovers, ...)
};

// NotFound if `dir` is not a directory.
Result<DataDirListing> ListDataDir(FileSystem* fs, const std::string& dir);

// Sum of the sizes of every file under `path` (a file or a directory).
Result<uint64_t> DiskUsage(FileSystem* fs, const std::string& path);

struct WalSummary {
  std::optional<uint64_t> checkpoint;  // index of the checkpoint replayed first
  uint64_t segments = 0;               // segment files read (checkpoint ones included)
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t series = 0;      // series definitions
  uint64_t samples = 0;
  uint64_t tombstones = 0;  // tombstone entries (deletes of head series)
  int64_t min_t = INT64_MAX, max_t = INT64_MIN;
  uint64_t torn_bytes = 0;
  std::vector<std::string> torn;  // one line per torn tail
};

// Reads `wal_dir` as Db::Open would replay it (latest checkpoint, then the segments after it),
// decoding every record, and replays series, samples and tombstones into `head` when it is not
// null (set its min valid time to the end of the newest block first, as Db::Open does). A torn
// tail is not an error (it is counted). Corruption -- a bad checksum or framing before the tail, a
// record that does not decode -- is returned naming the segment file and byte offset; the WAL is
// never repaired. A missing directory reads as empty.
Status ReadWal(FileSystem* fs, const std::string& wal_dir, storage::Head* head, WalSummary* summary);

// "2026-11-26T10:00:00.000Z" for Unix milliseconds.
std::string FormatTime(int64_t ms);
// "2h0m0s", "1m30s", "250ms".
std::string FormatDuration(int64_t ms);
// Short name of a chunk encoding byte ("xor", "int-dod", ...; "unknown(N)" otherwise).
std::string EncodingName(uint8_t encoding);

}  // namespace vigil::admin
