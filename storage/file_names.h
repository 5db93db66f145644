#pragma once

// Every file and directory name inside a Vigil data directory, in one place.
//
//   <dir>/LOCK                      held (fcntl lock) while a process has the directory open;
//                                   holds the owner's pid as text
//   <dir>/wal/                      write-ahead log (storage/docs/format/wal.md)
//   <dir>/wal/NNNNNNNN              WAL segment, 8-digit zero-padded index
//   <dir>/wal/checkpoint.NNNNNNNN/  checkpoint folding segments up to NNNNNNNN
//   <dir>/*.tmp                     unfinished work of a crashed process; removed on open

#include <string>
#include <string_view>

namespace vigil::storage {

inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kWalDirName = "wal";
inline constexpr std::string_view kTmpSuffix = ".tmp";

inline std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace vigil::storage
