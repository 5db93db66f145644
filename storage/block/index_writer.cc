#include "storage/block/index_writer.h"

#include <algorithm>
#include <unordered_map>

#include "storage/block/coding.h"
#include "storage/block/file_view.h"
#include "storage/block/format.h"
#include "storage/block/postings.h"

namespace vigil::storage::block {

namespace {

Status TooLarge(std::string_view section) {
  return Status::InvalidArgument("block index " + std::string(section) +
                                 " section exceeds 4 GiB; write a smaller block");
}

void EncodeSeries(const IndexSeries& s, const std::unordered_map<std::string_view, uint32_t>& refs,
                  std::string* out) {
  AppendUvarint(s.labels.size(), out);
  for (const Label& l : s.labels) {
    AppendUvarint(refs.at(l.name), out);
    AppendUvarint(refs.at(l.value), out);
  }
  AppendUvarint(s.chunks.size(), out);
  for (size_t i = 0; i < s.chunks.size(); ++i) {
    const ChunkMeta& c = s.chunks[i];
    if (i == 0) {
      AppendVarint(c.min_t, out);
    } else {
      // Chunks are sorted and disjoint: the gap to the previous chunk's end is >= 1.
      AppendUvarint(static_cast<uint64_t>(c.min_t) - static_cast<uint64_t>(s.chunks[i - 1].max_t), out);
    }
    AppendUvarint(static_cast<uint64_t>(c.max_t) - static_cast<uint64_t>(c.min_t), out);
    AppendUvarint(c.num_samples, out);
    if (i == 0) {
      AppendUvarint(c.ref, out);
    } else {
      AppendVarint(static_cast<int64_t>(c.ref - s.chunks[i - 1].ref), out);
    }
  }
}

// Version 2 series section: the entries of `raw` (entry i starts at raw_offsets[i]) gathered into
// pieces of at most kIndexPieceSize bytes, each compressed on its own, after the piece table.
Result<std::string> CompressSeries(std::string_view raw, std::span<const uint32_t> raw_offsets,
                                   const IndexWriterOptions& options) {
  std::vector<uint32_t> starts;  // uncompressed start of each piece
  for (size_t i = 0; i < raw_offsets.size(); ++i) {
    const uint64_t end = i + 1 < raw_offsets.size() ? raw_offsets[i + 1] : raw.size();
    if (starts.empty() || end - starts.back() > kIndexPieceSize) starts.push_back(raw_offsets[i]);
  }
  std::string frames, frame;
  std::vector<uint32_t> frame_offsets;
  const uint64_t table_size = kIndexPieceHeaderSize + kIndexPieceEntrySize * starts.size();
  for (size_t p = 0; p < starts.size(); ++p) {
    const uint64_t end = p + 1 < starts.size() ? starts[p + 1] : raw.size();
    const std::string_view piece = raw.substr(starts[p], end - starts[p]);
    frame.clear();
    compression::BlockStatus s = compression::CompressBlock(options.series_compression, piece, options.level, &frame);
    if (!s.ok()) return Status::Internal("compressing an index piece: " + s.message());
    if (frame.size() > piece.size()) {
      // Incompressible: the frame stores the bytes as they are.
      frame.clear();
      s = compression::CompressBlock(compression::BlockCodec::kNone, piece, 0, &frame);
      if (!s.ok()) return Status::Internal("framing an index piece: " + s.message());
    }
    if (table_size + frames.size() > UINT32_MAX) return TooLarge("series");
    frame_offsets.push_back(static_cast<uint32_t>(table_size + frames.size()));
    frames.append(frame);
  }
  std::string out;
  out.reserve(table_size + frames.size());
  AppendFixed32(static_cast<uint32_t>(starts.size()), &out);
  AppendFixed32(static_cast<uint32_t>(raw.size()), &out);
  for (size_t p = 0; p < starts.size(); ++p) {
    AppendFixed32(starts[p], &out);
    AppendFixed32(frame_offsets[p], &out);
  }
  out.append(frames);
  return out;
}

}  // namespace

Result<std::string> BuildIndex(std::span<const IndexSeries> series, const IndexWriterOptions& options) {
  const bool compressed = options.series_compression != compression::BlockCodec::kNone;
  if (series.size() > UINT32_MAX) return Status::InvalidArgument("too many series for one block");
  std::string sections[kNumIndexSections];

  // Symbols: every name and value, sorted, so that comparing refs compares strings.
  std::vector<std::string_view> symbols;
  for (const IndexSeries& s : series) {
    for (const Label& l : s.labels) {
      symbols.push_back(l.name);
      symbols.push_back(l.value);
    }
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  std::unordered_map<std::string_view, uint32_t> refs;
  refs.reserve(symbols.size());
  std::string& sym = sections[kSymbols];
  AppendUvarint(symbols.size(), &sym);
  for (size_t i = 0; i < symbols.size(); ++i) {
    refs.emplace(symbols[i], static_cast<uint32_t>(i));
    AppendUvarint(symbols[i].size(), &sym);
    sym.append(symbols[i]);
  }

  // Series and their offsets; postings gathered on the way.
  std::unordered_map<uint64_t, PostingsList> postings;
  std::string& ser = sections[kSeries];
  std::string& offsets = sections[kSeriesOffsets];
  offsets.reserve(series.size() * 4);
  std::vector<uint32_t> raw_offsets;
  if (compressed) raw_offsets.reserve(series.size());
  for (size_t id = 0; id < series.size(); ++id) {
    if (ser.size() > UINT32_MAX) return TooLarge("series");
    AppendFixed32(static_cast<uint32_t>(ser.size()), &offsets);
    if (compressed) raw_offsets.push_back(static_cast<uint32_t>(ser.size()));
    EncodeSeries(series[id], refs, &ser);
    for (const Label& l : series[id].labels) {
      const uint64_t key = uint64_t{refs.at(l.name)} << 32 | refs.at(l.value);
      postings[key].push_back(static_cast<BlockSeriesId>(id));
    }
  }
  if (ser.size() > UINT32_MAX) return TooLarge("series");
  if (compressed) {
    VIGIL_ASSIGN_OR_RETURN(std::string pieces, CompressSeries(ser, raw_offsets, options));
    ser = std::move(pieces);
  }

  std::vector<uint64_t> keys;
  keys.reserve(postings.size());
  for (const auto& [key, ids] : postings) keys.push_back(key);
  std::sort(keys.begin(), keys.end());

  // Label values: per name, uvarint name ref, uvarint count, value refs as gaps.
  std::string& lv = sections[kLabelValues];
  std::vector<uint32_t> names;
  for (size_t i = 0; i < keys.size();) {
    const uint32_t name = static_cast<uint32_t>(keys[i] >> 32);
    size_t j = i;
    while (j < keys.size() && (keys[j] >> 32) == name) ++j;
    names.push_back(name);
    i = j;
  }
  AppendUvarint(names.size(), &lv);
  for (size_t i = 0; i < keys.size();) {
    const uint32_t name = static_cast<uint32_t>(keys[i] >> 32);
    size_t j = i;
    while (j < keys.size() && (keys[j] >> 32) == name) ++j;
    AppendUvarint(name, &lv);
    AppendUvarint(j - i, &lv);
    uint32_t prev = 0;
    for (size_t k = i; k < j; ++k) {
      const auto value = static_cast<uint32_t>(keys[k]);
      AppendUvarint(k == i ? value : value - prev, &lv);
      prev = value;
    }
    i = j;
  }

  // Postings lists and the table pointing at them.
  std::string& post = sections[kPostings];
  std::string& table = sections[kPostingsTable];
  table.reserve(keys.size() * kPostingsTableEntrySize);
  for (uint64_t key : keys) {
    if (post.size() > UINT32_MAX) return TooLarge("postings");
    AppendFixed32(static_cast<uint32_t>(key >> 32), &table);
    AppendFixed32(static_cast<uint32_t>(key), &table);
    AppendFixed32(static_cast<uint32_t>(post.size()), &table);
    EncodePostings(postings[key], &post);
  }
  if (post.size() > UINT32_MAX) return TooLarge("postings");

  const uint8_t version = !compressed ? kIndexVersion
                         : options.version == 2 ? kIndexVersionCompressed
                                                : kIndexVersionFramed;
  if (version == kIndexVersionFramed) {
    // Every other section gets a leading byte: 1 and one compressed frame when the section is
    // small enough for readers to hold decompressed and shrinks, 0 and its bytes otherwise.
    std::string frame;
    for (int i = 0; i < kNumIndexSections; ++i) {
      if (i == kSeries) continue;
      frame.clear();
      if (sections[i].size() <= kMaxFramedSectionSize) {
        frame.push_back(static_cast<char>(kSectionFramed));
        const compression::BlockStatus st =
            compression::CompressBlock(options.series_compression, sections[i], options.level, &frame);
        if (!st.ok()) {
          return Status::Internal("compressing the index " + std::string(kIndexSectionNames[i]) + ": " + st.message());
        }
      }
      if (frame.empty() || frame.size() > sections[i].size()) {
        frame.assign(1, static_cast<char>(kSectionPlain));
        frame.append(sections[i]);
      }
      sections[i].swap(frame);
    }
  }
  std::string out = FileHeader(kIndexMagic, version);
  std::string toc;
  for (const std::string& section : sections) {
    AppendFixed64(out.size(), &toc);
    AppendFixed64(section.size(), &toc);
    AppendFixed32(Checksum32(section), &toc);
    out.append(section);
  }
  AppendFixed32(Checksum32(toc), &toc);
  out.append(toc);
  return out;
}

Status WriteIndex(FileSystem* fs, const std::string& path, std::span<const IndexSeries> series,
                  const IndexWriterOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(std::string bytes, BuildIndex(series, options));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs->NewWritableFile(path));
  VIGIL_RETURN_IF_ERROR(file->Append(bytes));
  VIGIL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace vigil::storage::block
