// vigil-admin verify DIR
//   Checks every checksum of a data directory: for each block the meta, every index section and
//   structure, every chunk frame and chunk (decoded and compared with the index) and the
//   tombstones (BlockReader::Verify); for the WAL every fragment checksum and record of the
//   checkpoint and segments a restart would replay. Prints one line per block and for the WAL,
//   naming the file and byte offset of any damage, and exits 1 if anything is damaged.
//   Read-only; takes no lock.
#include <cinttypes>

#include "storage/block/block_reader.h"
#include "storage/file_names.h"
#include "tools/vigil-admin/command.h"
#include "tools/vigil-admin/data_dir.h"

namespace vigil::admin {

int VerifyCommand(const AdminIo& io, std::span<char* const> args) {
  if (args.size() != 2 || args[1][0] == '-') {
    std::fprintf(io.err, "usage: vigil-admin verify DIR\n");
    return 2;
  }
  const std::string dir = args[1];
  auto listing = ListDataDir(io.fs, dir);
  if (!listing.ok()) {
    std::fprintf(io.err, "vigil-admin verify: %s\n", listing.status().ToString().c_str());
    return 1;
  }
  int problems = 0;
  for (const std::string& id : listing->blocks) {
    auto block = storage::BlockReader::Open(io.fs, JoinPath(dir, id));
    const Status st = block.ok() ? (*block)->Verify() : block.status();
    if (st.ok()) {
      const storage::BlockStats& s = (*block)->meta().stats;
      std::fprintf(io.out, "ok       block %s: %" PRIu64 " series, %" PRIu64 " chunks, %" PRIu64 " samples\n",
                   id.c_str(), s.series, s.chunks, s.samples);
    } else {
      ++problems;
      std::fprintf(io.out, "CORRUPT  block %s: %s\n", id.c_str(), st.ToString().c_str());
    }
  }
  if (listing->has_wal) {
    WalSummary wal;
    const Status st = ReadWal(io.fs, JoinPath(dir, storage::kWalDirName), nullptr, &wal);
    if (st.ok()) {
      std::fprintf(io.out, "ok       wal: %" PRIu64 " segment(s), %" PRIu64 " bytes, %" PRIu64 " records\n",
                   wal.segments, wal.bytes, wal.records);
    } else {
      ++problems;
      std::fprintf(io.out, "CORRUPT  wal: %s\n", st.ToString().c_str());
    }
    // A torn tail is what a crash leaves; the next open drops it. Not damage, but worth a line.
    for (const std::string& t : wal.torn) std::fprintf(io.out, "note     wal torn tail: %s\n", t.c_str());
  }
  // Blocks the Db moved aside are not served; say whether they are still damaged.
  for (const std::string& name : listing->quarantined) {
    auto block = storage::BlockReader::Open(io.fs, JoinPath(dir, name));
    const Status st = block.ok() ? (*block)->Verify() : block.status();
    std::fprintf(io.out, "note     %s: quarantined, not served (%s)\n", name.c_str(),
                 st.ok() ? "its checksums pass now" : st.ToString().c_str());
  }
  for (const std::string& name : listing->other) {
    if (storage::IsTmpName(name)) {
      std::fprintf(io.out, "note     %s: unfinished work of a crashed process, removed at the next open\n",
                   name.c_str());
    }
  }
  if (problems > 0) {
    std::fprintf(io.out, "verify %s: %d problem(s)\n", dir.c_str(), problems);
    return 1;
  }
  std::fprintf(io.out, "verify %s: %zu block(s)%s, all checksums ok\n", dir.c_str(), listing->blocks.size(),
               listing->has_wal ? " and the WAL" : "");
  return 0;
}

namespace {
int Verify(int argc, char** argv) {
  return VerifyCommand(AdminIo{DefaultFileSystem(), stdout, stderr}, {argv, static_cast<size_t>(argc)});
}
const CommandRegistration kVerify{
    "verify", "verify DIR      every checksum of every block and WAL segment; exit 1 naming file and offset",
    &Verify};
}  // namespace

}  // namespace vigil::admin
