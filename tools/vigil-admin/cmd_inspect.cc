// vigil-admin inspect DIR
//   What a data directory holds: every block with its time range, series, samples, chunks and
//   bytes on disk, bytes per sample by chunk encoding, the WAL (segments, bytes, records) and the
//   head it replays to, and the whole directory's bytes per sample. Read-only; takes no lock.
#include <algorithm>
#include <cinttypes>
#include <map>

#include "storage/block/block_reader.h"
#include "storage/db.h"
#include "storage/file_names.h"
#include "storage/head/head.h"
#include "tools/vigil-admin/command.h"
#include "tools/vigil-admin/data_dir.h"

namespace vigil::admin {
namespace {

using storage::BlockReader;

struct EncodingStats {
  uint64_t chunks = 0;
  uint64_t samples = 0;
  uint64_t bytes = 0;
};

double PerSample(uint64_t bytes, uint64_t samples) {
  return samples == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(samples);
}

// Counts chunks, samples and chunk bytes per encoding byte by reading every chunk of the block.
Status CountEncodings(const BlockReader& block, std::map<uint8_t, EncodingStats>* out) {
  const storage::IndexReader& ix = block.index();
  storage::Labels ls;
  std::vector<storage::ChunkMeta> chunks;
  for (storage::BlockSeriesId id = 0; id < ix.NumSeries(); ++id) {
    VIGIL_RETURN_IF_ERROR(ix.Series(id, &ls, &chunks));
    for (const storage::ChunkMeta& c : chunks) {
      VIGIL_ASSIGN_OR_RETURN(vigil::storage::block::ChunkData data, block.Chunk(c.ref));
      const std::string_view bytes = data.bytes;
      if (bytes.empty()) return Status::Corruption("empty chunk in series " + ls.ToString());
      EncodingStats& e = (*out)[static_cast<uint8_t>(bytes[0])];
      e.chunks += 1;
      e.samples += c.num_samples;
      e.bytes += bytes.size();
    }
  }
  return Status::OK();
}

void PrintEncodings(std::FILE* out, const std::map<uint8_t, EncodingStats>& encodings) {
  uint64_t total_chunks = 0;
  for (const auto& [enc, e] : encodings) total_chunks += e.chunks;
  std::fprintf(out, "    %-14s %10s %7s %12s %12s %9s\n", "encoding", "chunks", "share", "samples", "chunk bytes",
               "B/sample");
  for (const auto& [enc, e] : encodings) {
    std::fprintf(out, "    %-14s %10" PRIu64 " %6.1f%% %12" PRIu64 " %12" PRIu64 " %9.3f\n", EncodingName(enc).c_str(),
                 e.chunks, 100.0 * static_cast<double>(e.chunks) / static_cast<double>(std::max<uint64_t>(1, total_chunks)),
                 e.samples, e.bytes, PerSample(e.bytes, e.samples));
  }
}

int Usage(const AdminIo& io) {
  std::fprintf(io.err, "usage: vigil-admin inspect DIR\n");
  return 2;
}

}  // namespace

int InspectCommand(const AdminIo& io, std::span<char* const> args) {
  if (args.size() != 2 || args[1][0] == '-') return Usage(io);
  const std::string dir = args[1];
  auto listing = ListDataDir(io.fs, dir);
  if (!listing.ok()) {
    std::fprintf(io.err, "vigil-admin inspect: %s\n", listing.status().ToString().c_str());
    return 1;
  }
  int problems = 0;
  uint64_t total_samples = 0, total_series = 0, total_chunks = 0;
  int64_t blocks_end = INT64_MIN;
  std::map<uint8_t, EncodingStats> all_encodings;
  std::fprintf(io.out, "data directory %s: %zu block(s)%s\n", dir.c_str(), listing->blocks.size(),
               listing->has_wal ? ", WAL" : ", no WAL");

  for (const std::string& id : listing->blocks) {
    const std::string path = JoinPath(dir, id);
    auto block = BlockReader::Open(io.fs, path);
    std::map<uint8_t, EncodingStats> encodings;
    Status st = block.ok() ? CountEncodings(**block, &encodings) : block.status();
    auto bytes = DiskUsage(io.fs, path);
    auto index_bytes = io.fs->FileSize(JoinPath(path, "index"));
    if (st.ok() && !bytes.ok()) st = bytes.status();
    if (st.ok() && !index_bytes.ok()) st = index_bytes.status();
    if (!st.ok()) {
      ++problems;
      std::fprintf(io.out, "block %s: UNREADABLE: %s\n", id.c_str(), st.ToString().c_str());
      continue;
    }
    const storage::BlockMeta& m = (*block)->meta();
    size_t deleted = 0;
    for (const auto& [sid, ivs] : *(*block)->tombstones()) deleted += ivs.size();
    std::fprintf(io.out, "block %s  level %d\n", id.c_str(), m.compaction_level);
    std::fprintf(io.out, "  time      %s .. %s (%s)\n", FormatTime(m.min_time).c_str(), FormatTime(m.max_time).c_str(),
                 FormatDuration(m.max_time - m.min_time).c_str());
    std::fprintf(io.out, "  series    %" PRIu64 "\n  samples   %" PRIu64 "\n  chunks    %" PRIu64 "\n", m.stats.series,
                 m.stats.samples, m.stats.chunks);
    std::fprintf(io.out, "  bytes     %" PRIu64 " (index %" PRIu64 "), %.3f B/sample\n", *bytes, *index_bytes,
                 PerSample(*bytes, m.stats.samples));
    if (deleted > 0) {
      std::fprintf(io.out, "  deleted   %zu interval(s) in %zu series (tombstones)\n", deleted,
                   (*block)->tombstones()->size());
    }
    if (!m.compaction_sources.empty()) {
      std::fprintf(io.out, "  sources   %zu block(s)\n", m.compaction_sources.size());
    }
    PrintEncodings(io.out, encodings);
    blocks_end = std::max(blocks_end, m.max_time);
    total_samples += m.stats.samples;
    total_series += m.stats.series;
    total_chunks += m.stats.chunks;
    for (const auto& [enc, e] : encodings) {
      all_encodings[enc].chunks += e.chunks;
      all_encodings[enc].samples += e.samples;
      all_encodings[enc].bytes += e.bytes;
    }
  }

  if (listing->has_wal) {
    const std::string wal_dir = JoinPath(dir, storage::kWalDirName);
    storage::HeadOptions options;
    options.out_of_order_window_ms = storage::DbOptions{}.out_of_order_window_ms;
    options.chunk_range_ms = storage::DbOptions{}.block_range_ms;
    storage::Head head(options);
    // As Db::Open: WAL samples in ranges that blocks hold were flushed already and are dropped.
    if (blocks_end != INT64_MIN) head.SetMinValidTime(blocks_end);
    WalSummary wal;
    const Status st = ReadWal(io.fs, wal_dir, &head, &wal);
    auto bytes = DiskUsage(io.fs, wal_dir);
    std::fprintf(io.out, "wal %s\n", wal_dir.c_str());
    std::fprintf(io.out, "  segments  %" PRIu64 " read, %" PRIu64 " bytes (directory %" PRIu64 " bytes)%s\n", wal.segments,
                 wal.bytes, bytes.ok() ? *bytes : 0,
                 wal.checkpoint ? (", checkpoint " + std::to_string(*wal.checkpoint)).c_str() : "");
    std::fprintf(io.out, "  records   %" PRIu64 ": %" PRIu64 " series, %" PRIu64 " samples, %" PRIu64 " tombstones\n",
                 wal.records, wal.series, wal.samples, wal.tombstones);
    if (wal.torn_bytes > 0) std::fprintf(io.out, "  torn tail %" PRIu64 " bytes dropped\n", wal.torn_bytes);
    if (!st.ok()) {
      ++problems;
      std::fprintf(io.out, "  ERROR     %s (replay stops there)\n", st.ToString().c_str());
    }
    const storage::HeadStats hs = head.Stats();
    // What the head holds: replay appends, then drops flushed ranges and deleted samples.
    uint64_t held = 0;
    {
      auto q = head.NewQuerier(INT64_MIN, INT64_MAX);
      auto set = q->Select({});
      std::vector<int64_t> ts(1024);
      std::vector<double> vs(1024);
      while (set->Next()) {
        auto it = set->Samples();
        while (size_t n = it->Next(ts, vs)) held += n;
      }
    }
    std::fprintf(io.out, "head (replayed from the WAL)\n");
    std::fprintf(io.out, "  series    %" PRIu64 "\n  samples   %" PRIu64 "\n  chunks    %" PRIu64 "\n", hs.series, held,
                 hs.chunks);
    if (held > 0) {
      std::fprintf(io.out, "  time      %s .. %s (%s)\n", FormatTime(hs.min_time).c_str(),
                   FormatTime(hs.max_time).c_str(), FormatDuration(hs.max_time - hs.min_time + 1).c_str());
    }
    if (hs.rejected_samples > 0) {
      std::fprintf(io.out, "  rejected  %" PRIu64 " samples on replay\n", hs.rejected_samples);
    }
    total_samples += held;
  }
  for (const std::string& name : listing->quarantined) {
    std::fprintf(io.out, "quarantined %s (not served; `vigil-admin verify` says why)\n", name.c_str());
  }
  for (const std::string& name : listing->other) std::fprintf(io.out, "other     %s\n", name.c_str());

  auto dir_bytes = DiskUsage(io.fs, dir);
  if (!dir_bytes.ok()) {
    std::fprintf(io.err, "vigil-admin inspect: %s\n", dir_bytes.status().ToString().c_str());
    return 1;
  }
  std::fprintf(io.out, "total\n  blocks    %zu: %" PRIu64 " series, %" PRIu64 " chunks\n", listing->blocks.size(),
               total_series, total_chunks);
  std::fprintf(io.out, "  samples   %" PRIu64 " (blocks and head)\n", total_samples);
  std::fprintf(io.out, "  bytes     %" PRIu64 " (whole directory), %.3f B/sample\n", *dir_bytes,
               PerSample(*dir_bytes, total_samples));
  if (!all_encodings.empty()) PrintEncodings(io.out, all_encodings);
  if (problems > 0) std::fprintf(io.out, "%d problem(s); run `vigil-admin verify %s`\n", problems, dir.c_str());
  return problems > 0 ? 1 : 0;
}

namespace {
int Inspect(int argc, char** argv) {
  return InspectCommand(AdminIo{DefaultFileSystem(), stdout, stderr}, {argv, static_cast<size_t>(argc)});
}
const CommandRegistration kInspect{
    "inspect", "inspect DIR     blocks (time range, series, samples, chunks, bytes, B/sample by encoding), WAL and head",
    &Inspect};
}  // namespace

}  // namespace vigil::admin
