#include "storage/block/tombstones.h"

#include "storage/block/coding.h"
#include "storage/block/file_view.h"
#include "storage/block/format.h"

namespace vigil::storage {

using namespace block;  // NOLINT: the format helpers

std::string EncodeTombstones(const TombstoneMap& tombstones) {
  std::string out = FileHeader(kTombstonesMagic, kTombstonesVersion);
  AppendUvarint(tombstones.size(), &out);
  BlockSeriesId prev = 0;
  bool first = true;
  for (const auto& [id, ivs] : tombstones) {
    AppendUvarint(first ? id : id - prev, &out);
    first = false;
    prev = id;
    AppendUvarint(ivs.size(), &out);
    for (const Interval& iv : ivs) {
      AppendVarint(iv.min_t, &out);
      AppendUvarint(static_cast<uint64_t>(iv.max_t) - static_cast<uint64_t>(iv.min_t), &out);
    }
  }
  AppendFixed32(Checksum32(out), &out);
  return out;
}

Result<TombstoneMap> DecodeTombstones(std::string_view file, const std::string& path) {
  if (file.size() < kFileHeaderSize + 4) return CorruptionAt(path, file.size(), "file too short");
  if (file.substr(0, 4) != kTombstonesMagic) return CorruptionAt(path, 0, "bad magic");
  if (static_cast<uint8_t>(file[4]) != kTombstonesVersion) return CorruptionAt(path, 4, "unsupported version");
  if (file[5] != 0 || file[6] != 0 || file[7] != 0) return CorruptionAt(path, 5, "reserved header bytes not zero");
  const std::string_view body = file.substr(0, file.size() - 4);
  if (GetFixed32(file.data() + body.size()) != Checksum32(body)) {
    return CorruptionAt(path, body.size(), "checksum mismatch");
  }
  Decoder d(body);
  d.Bytes(kFileHeaderSize);
  TombstoneMap out;
  const uint64_t count = d.Uvarint();
  uint64_t id = 0;
  for (uint64_t i = 0; i < count && d.ok(); ++i) {
    const size_t entry_pos = d.pos();
    const uint64_t gap = d.Uvarint();
    if (i > 0 && gap == 0) return CorruptionAt(path, entry_pos, "series ids not increasing");
    id += gap;
    if (id > UINT32_MAX) return CorruptionAt(path, entry_pos, "series id out of range");
    const uint64_t n = d.Uvarint();
    if (n == 0 || n > d.remaining()) return CorruptionAt(path, entry_pos, "bad interval count");
    Intervals ivs;
    ivs.reserve(n);
    for (uint64_t j = 0; j < n && d.ok(); ++j) {
      Interval iv;
      iv.min_t = d.Varint();
      const uint64_t len = d.Uvarint();
      iv.max_t = static_cast<int64_t>(static_cast<uint64_t>(iv.min_t) + len);
      if (iv.max_t < iv.min_t || (!ivs.empty() && iv.min_t <= ivs.back().max_t)) {
        return CorruptionAt(path, entry_pos, "intervals out of order");
      }
      ivs.push_back(iv);
    }
    out.emplace(static_cast<BlockSeriesId>(id), std::move(ivs));
  }
  if (!d.ok()) return CorruptionAt(path, body.size(), "truncated entries");
  if (!d.done()) return CorruptionAt(path, d.pos(), "trailing bytes");
  return out;
}

Result<TombstoneMap> ReadTombstones(FileSystem* fs, const std::string& block_dir) {
  const std::string path = JoinPath(block_dir, kTombstonesFileName);
  VIGIL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(fs, path));
  return DecodeTombstones(data, path);
}

Status WriteTombstones(FileSystem* fs, const std::string& block_dir, const TombstoneMap& tombstones) {
  return WriteFileAtomic(fs, JoinPath(block_dir, kTombstonesFileName), EncodeTombstones(tombstones));
}

}  // namespace vigil::storage
