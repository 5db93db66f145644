#pragma once

// Every file and directory name inside a Vigil data directory, in one place (storage/README.md,
// "Data directory").
//
//   <dir>/LOCK                        held (fcntl lock) while a process has the directory open;
//                                     holds the owner's pid as text
//   <dir>/wal/                        write-ahead log of the head (storage/docs/format/wal.md)
//   <dir>/wal/NNNNNNNN                WAL segment, 8-digit zero-padded index
//   <dir>/wal/checkpoint.NNNNNNNN/    checkpoint folding segments up to NNNNNNNN
//   <dir>/<block id>/                 a published, immutable block (storage/docs/format/block.md):
//                                     meta.json, index, tombstones, chunks/000001...; the id is 26
//                                     Crockford base32 characters (storage/block/block_id.h)
//   <dir>/<block id>.tmp/             a block being written (head flush or compaction)
//   <dir>/<block id>.deleted.tmp/     a block being removed (renamed first, so a half-removed
//                                     block is never opened as a block)
//   <dir>/*.tmp                       any of the above left by a crashed process: removed on open
//   <dir>/quarantine/<block id>/      a block that failed its checks at open, moved aside with all
//                                     its files for an operator to inspect; never read by the Db.
//                                     A second quarantined block with the same id gets the suffix
//                                     ".1", ".2", ...
//   <dir>/snapshots/                  the conventional parent of Db::Snapshot() targets (the server
//                                     names them <unix ms>-<random hex>); not read by the Db
//   <dir>/cq/                         continuous-query definitions and model state, owned by vigild
//                                     (server/docs/continuous-queries.md); storage leaves it alone
//   <dir>/metadata                    metric metadata (type, help, unit per family), owned by
//                                     vigild (server/docs/format/metadata.md); storage leaves it
//                                     alone
//
// Any other entry at the top level (an operator's notes, a directory without a valid id) is left
// alone and logged once at open. A block directory whose id is listed in another block's
// meta.json "compaction.sources" was superseded by that compacted block and is removed at open
// (the crash window between publishing a compacted block and deleting its parents).

#include <string>
#include <string_view>

#include "storage/block/block_id.h"

namespace vigil::storage {

inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kWalDirName = "wal";
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kDeletedSuffix = ".deleted.tmp";
inline constexpr std::string_view kQuarantineDirName = "quarantine";
inline constexpr std::string_view kSnapshotsDirName = "snapshots";
// Owned by the server's continuous queries (definitions and model state); storage leaves it alone.
inline constexpr std::string_view kContinuousQueriesDirName = "cq";
// Owned by the server's remote-write metadata store; storage leaves it alone.
inline constexpr std::string_view kMetricMetadataFileName = "metadata";

inline std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

// <dir>/<id>: where a published block lives.
inline std::string BlockDirName(std::string_view dir, std::string_view block_id) {
  return JoinPath(dir, block_id);
}

// Whether a top-level entry name is a published block directory (a valid block id, no suffix).
inline bool IsBlockDirName(std::string_view name) { return IsValidBlockId(name); }

// Whether a top-level entry is unfinished work of a crashed process (removed at open).
inline bool IsTmpName(std::string_view name) {
  return name.size() > kTmpSuffix.size() && name.ends_with(kTmpSuffix);
}

}  // namespace vigil::storage
