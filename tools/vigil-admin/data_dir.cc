#include "tools/vigil-admin/data_dir.h"

#include <ctime>

#include "compression/chunk.h"
#include "storage/file_names.h"
#include "storage/head/head.h"
#include "storage/wal/reader.h"
#include "storage/wal/records.h"

namespace vigil::admin {

Result<DataDirListing> ListDataDir(FileSystem* fs, const std::string& dir) {
  if (!fs->DirExists(dir)) return Status::NotFound("data directory " + dir + " does not exist");
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  DataDirListing out;
  for (std::string& name : names) {
    const std::string path = JoinPath(dir, name);
    if (name == storage::kWalDirName && fs->DirExists(path)) {
      out.has_wal = true;
    } else if (storage::IsBlockDirName(name) && fs->DirExists(path)) {
      out.blocks.push_back(std::move(name));
    } else if (name == storage::kQuarantineDirName && fs->DirExists(path)) {
      VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> q, fs->ListDir(path));
      for (const std::string& entry : q) out.quarantined.push_back(JoinPath(name, entry));
    } else {
      out.other.push_back(std::move(name));
    }
  }
  return out;
}

Result<uint64_t> DiskUsage(FileSystem* fs, const std::string& path) {
  if (!fs->DirExists(path)) return fs->FileSize(path);
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(path));
  uint64_t total = 0;
  for (const std::string& name : names) {
    VIGIL_ASSIGN_OR_RETURN(uint64_t n, DiskUsage(fs, JoinPath(path, name)));
    total += n;
  }
  return total;
}

Status ReadWal(FileSystem* fs, const std::string& wal_dir, storage::Head* head, WalSummary* summary) {
  namespace wal = storage::wal;
  *summary = WalSummary{};
  VIGIL_ASSIGN_OR_RETURN(auto reader, wal::WalReader::Open(fs, wal_dir));
  std::string_view record;
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  std::vector<wal::RefTombstone> tombstones;
  Status st;
  while (st.ok() && reader->Next(&record)) {
    ++summary->records;
    const std::string where = "WAL " + wal_dir + ": record " + std::to_string(summary->records) +
                              " (segment " + std::to_string(reader->stats().segments) + " read)";
    auto type = wal::PeekRecordType(record);
    if (!type.ok()) {
      st = type.status().WithContext(where);
      break;
    }
    switch (*type) {
      case wal::RecordType::kSeries:
        st = wal::DecodeSeries(record, &series);
        if (st.ok()) {
          summary->series += series.size();
          if (head != nullptr) st = head->ReplaySeries(series);
        }
        break;
      case wal::RecordType::kSamples:
        st = wal::DecodeSamples(record, &samples);
        if (st.ok()) {
          summary->samples += samples.size();
          for (const wal::RefSample& s : samples) {
            summary->min_t = std::min(summary->min_t, s.t);
            summary->max_t = std::max(summary->max_t, s.t);
          }
          if (head != nullptr) st = head->ReplaySamples(samples);
        }
        break;
      case wal::RecordType::kTombstones:
        st = wal::DecodeTombstones(record, &tombstones);
        if (st.ok()) {
          summary->tombstones += tombstones.size();
          if (head != nullptr) head->ReplayTombstones(tombstones);
        }
        break;
    }
    if (!st.ok()) st = st.WithContext(where);
  }
  const wal::ReplayStats& rs = reader->stats();
  summary->checkpoint = rs.checkpoint;
  summary->segments = rs.segments;
  summary->bytes = rs.bytes;
  summary->torn_bytes = rs.torn_bytes;
  summary->torn = rs.torn;
  if (!st.ok()) return st;
  return reader->status();
}

std::string FormatTime(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t milli = ms % 1000;
  if (milli < 0) {
    milli += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(milli));
  return buf;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s) + "s";
  return out;
}

std::string EncodingName(uint8_t encoding) {
  using compression::Encoding;
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kXor: return "xor";
    case Encoding::kConstant: return "constant";
    case Encoding::kIntDoubleDelta: return "int-dod";
    case Encoding::kDecimal: return "decimal";
    case Encoding::kXorColumnar: return "xor-columnar";
  }
  return "unknown(" + std::to_string(encoding) + ")";
}

}  // namespace vigil::admin
