#include "storage/block/index_reader.h"

#include <algorithm>

#include "compression/block_codec.h"
#include "storage/block/coding.h"
#include "storage/block/postings.h"
#include "storage/labels/encoding.h"

namespace vigil::storage {

using namespace block;  // NOLINT: the format helpers

Status IndexReader::Corrupt(int section, uint64_t pos, std::string_view what) const {
  if (!owned_[section].empty()) {
    // A decompressed section: name the position in its bytes, and the frame's offset in the file.
    return CorruptionAt(path(), sections_[section].offset,
                        std::string(kIndexSectionNames[section]) + " section (compressed): " + std::string(what) +
                            " at uncompressed offset " + std::to_string(pos) + ", frame");
  }
  return CorruptionAt(path(), sections_[section].offset + pos,
                      std::string(kIndexSectionNames[section]) + " section: " + std::string(what));
}

Status IndexReader::UnframeSections() {
  for (int i = 0; i < kNumIndexSections; ++i) {
    if (i == kSeries) continue;
    Section& sec = sections_[i];
    if (sec.data.empty()) return Corrupt(i, 0, "missing storage byte");
    const uint8_t how = static_cast<uint8_t>(sec.data[0]);
    const std::string_view body = sec.data.substr(1);
    if (how == kSectionPlain) {
      sec = {sec.offset + 1, body};
      continue;
    }
    if (how != kSectionFramed) return Corrupt(i, 0, "unknown storage byte " + std::to_string(how));
    std::string out;
    const compression::BlockStatus st = compression::DecompressBlock(body, &out, kMaxFramedSectionSize);
    if (!st.ok()) return Corrupt(i, 1, "does not decompress: " + st.message());
    if (out.empty()) return Corrupt(i, 1, "compressed frame of an empty section");
    sec.offset += 1;
    owned_[i] = std::move(out);
    sec.data = owned_[i];
  }
  return Status::OK();
}

Result<std::unique_ptr<IndexReader>> IndexReader::Open(FileView file) {
  std::unique_ptr<IndexReader> r(new IndexReader());
  r->file_ = std::move(file);
  const std::string_view d = r->file_.data();
  const uint8_t stored = d.size() > 4 ? static_cast<uint8_t>(d[4]) : 0;
  r->version_ = stored == kIndexVersionCompressed || stored == kIndexVersionFramed ? stored : kIndexVersion;
  VIGIL_RETURN_IF_ERROR(CheckFileHeader(r->file_, kIndexMagic, r->version_));
  if (d.size() < kFileHeaderSize + kTocSize) {
    return CorruptionAt(r->path(), d.size(), "index shorter than header and table of contents");
  }
  const uint64_t toc_pos = d.size() - kTocSize;
  const std::string_view toc = d.substr(toc_pos, kTocSize - 4);
  if (GetFixed32(d.data() + d.size() - 4) != Checksum32(toc)) {
    return CorruptionAt(r->path(), toc_pos, "table of contents checksum mismatch");
  }
  uint64_t expected = kFileHeaderSize;
  for (int i = 0; i < kNumIndexSections; ++i) {
    const char* e = toc.data() + i * kTocEntrySize;
    const uint64_t off = GetFixed64(e), len = GetFixed64(e + 8);
    // Sections are contiguous, in order, between the header and the TOC.
    if (off != expected || len > toc_pos - off) {
      return CorruptionAt(r->path(), toc_pos + i * kTocEntrySize,
                          "bad bounds of " + std::string(kIndexSectionNames[i]) + " section");
    }
    r->sections_[i] = {off, d.substr(off, len)};
    if (GetFixed32(e + 16) != Checksum32(r->sections_[i].data)) {
      return CorruptionAt(r->path(), off, std::string(kIndexSectionNames[i]) + " section checksum mismatch");
    }
    expected = off + len;
  }
  if (expected != toc_pos) return CorruptionAt(r->path(), expected, "gap before the table of contents");

  if (r->version_ == kIndexVersionFramed) VIGIL_RETURN_IF_ERROR(r->UnframeSections());
  VIGIL_RETURN_IF_ERROR(r->ParseSymbols());
  if (r->version_ >= kIndexVersionCompressed) {
    VIGIL_RETURN_IF_ERROR(r->ParsePieces());
  } else {
    r->series_size_ = r->sections_[kSeries].data.size();
  }
  const std::string_view offsets = r->sections_[kSeriesOffsets].data;
  if (offsets.size() % 4 != 0) return r->Corrupt(kSeriesOffsets, 0, "size not a multiple of 4");
  r->num_series_ = static_cast<uint32_t>(offsets.size() / 4);
  uint32_t prev = 0;
  for (uint32_t i = 0; i < r->num_series_; ++i) {
    const uint32_t off = GetFixed32(offsets.data() + 4 * i);
    if ((i == 0 && off != 0) || (i > 0 && off <= prev) || off >= r->series_size_) {
      return r->Corrupt(kSeriesOffsets, 4 * i, "series offset out of order or range");
    }
    prev = off;
  }
  if (r->num_series_ == 0 && r->series_size_ != 0) return r->Corrupt(kSeries, 0, "bytes but no series");
  if (!r->pieces_.empty()) {
    // Every entry lies inside one piece. Entries are contiguous from 0 and piece starts strictly
    // increase from 0, so this also makes every piece start with an entry.
    size_t p = 0;
    for (uint32_t i = 0; i < r->num_series_; ++i) {
      const uint32_t begin = GetFixed32(offsets.data() + 4 * i);
      const uint64_t end = i + 1 < r->num_series_ ? GetFixed32(offsets.data() + 4 * (i + 1)) : r->series_size_;
      while (p + 1 < r->pieces_.size() && r->pieces_[p + 1].raw_start <= begin) ++p;
      const uint64_t piece_end = p + 1 < r->pieces_.size() ? r->pieces_[p + 1].raw_start : r->series_size_;
      if (end > piece_end) return r->Corrupt(kSeriesOffsets, 4 * i, "series entry not inside one piece");
    }
  }
  const std::string_view table = r->sections_[kPostingsTable].data;
  if (table.size() % kPostingsTableEntrySize != 0) {
    return r->Corrupt(kPostingsTable, 0, "size not a multiple of the entry size");
  }
  if (table.size() / kPostingsTableEntrySize > UINT32_MAX) return r->Corrupt(kPostingsTable, 0, "too many entries");
  r->table_size_ = static_cast<uint32_t>(table.size() / kPostingsTableEntrySize);
  VIGIL_RETURN_IF_ERROR(r->ParseNames());
  return r;
}

Status IndexReader::ParseSymbols() {
  Decoder d(sections_[kSymbols].data);
  const uint64_t count = d.Uvarint();
  if (!d.ok() || count > d.remaining()) return Corrupt(kSymbols, 0, "bad symbol count");
  symbols_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const size_t pos = d.pos();
    const uint64_t len = d.Uvarint();
    std::string_view s = d.Bytes(len);
    if (!d.ok()) return Corrupt(kSymbols, pos, "truncated symbol");
    if (!symbols_.empty() && s <= symbols_.back()) return Corrupt(kSymbols, pos, "symbols not sorted");
    symbols_.push_back(s);
  }
  if (!d.done()) return Corrupt(kSymbols, d.pos(), "trailing bytes");
  return Status::OK();
}

Status IndexReader::SeriesCorrupt(BlockSeriesId id, uint64_t pos, std::string_view what) const {
  if (pieces_.empty()) return Corrupt(kSeries, pos, what);
  return Corrupt(kSeries, 0, "series " + std::to_string(id) + " at uncompressed offset " + std::to_string(pos) +
                                 ": " + std::string(what));
}

Status IndexReader::ParsePieces() {
  const std::string_view ser = sections_[kSeries].data;
  if (ser.size() < kIndexPieceHeaderSize) return Corrupt(kSeries, 0, "too short for its piece table");
  const uint64_t count = GetFixed32(ser.data());
  series_size_ = GetFixed32(ser.data() + 4);
  const uint64_t table_end = kIndexPieceHeaderSize + kIndexPieceEntrySize * count;
  if (table_end > ser.size()) return Corrupt(kSeries, 0, "bad piece count");
  if ((count == 0) != (series_size_ == 0)) return Corrupt(kSeries, 4, "bad uncompressed size");
  pieces_.reserve(count);
  for (uint64_t p = 0; p < count; ++p) {
    const char* e = ser.data() + kIndexPieceHeaderSize + kIndexPieceEntrySize * p;
    const uint32_t start = GetFixed32(e), frame = GetFixed32(e + 4);
    const uint64_t pos = e - ser.data();
    if (p == 0 ? (start != 0 || frame != table_end)
               : (start <= pieces_.back().raw_start ||
                  frame <= pieces_.back().frame.data() - ser.data())) {
      return Corrupt(kSeries, pos, "piece table out of order");
    }
    if (start >= series_size_ || frame >= ser.size()) return Corrupt(kSeries, pos, "piece out of range");
    if (p > 0) {
      Piece& prev = pieces_.back();
      prev.frame = ser.substr(prev.frame.data() - ser.data(), frame - (prev.frame.data() - ser.data()));
    }
    pieces_.push_back({start, ser.substr(frame)});
  }
  cache_ = std::make_unique<PieceCache>(kIndexPieceCacheSize);
  return Status::OK();
}

Status IndexReader::SeriesEntry(BlockSeriesId id, std::string_view* entry,
                                std::shared_ptr<const std::string>* holder, uint64_t* pos) const {
  const char* offsets = sections_[kSeriesOffsets].data.data();
  const uint32_t begin = GetFixed32(offsets + 4 * uint64_t{id});
  const uint64_t end = id + 1 < num_series_ ? GetFixed32(offsets + 4 * uint64_t{id + 1}) : series_size_;
  *pos = begin;
  if (pieces_.empty()) {
    *entry = sections_[kSeries].data.substr(begin, end - begin);
    return Status::OK();
  }
  // The last piece starting at or before the entry (Open checked that the entry lies inside it).
  const auto it = std::upper_bound(pieces_.begin(), pieces_.end(), begin,
                                   [](uint32_t b, const Piece& p) { return b < p.raw_start; }) - 1;
  const uint64_t index = static_cast<uint64_t>(it - pieces_.begin());
  *holder = cache_->Get(index);
  if (*holder == nullptr) {
    const uint64_t raw_end = index + 1 < pieces_.size() ? pieces_[index + 1].raw_start : series_size_;
    const uint64_t frame_pos = static_cast<uint64_t>(it->frame.data() - sections_[kSeries].data.data());
    std::shared_ptr<std::string> piece = NewPieceBuffer();
    compression::BlockStatus s = compression::DecompressBlock(it->frame, piece.get(), raw_end - it->raw_start);
    if (!s.ok()) return Corrupt(kSeries, frame_pos, "piece " + std::to_string(index) + " does not decompress: " + s.message());
    if (piece->size() != raw_end - it->raw_start) {
      return Corrupt(kSeries, frame_pos, "piece " + std::to_string(index) + " decompresses to " +
                                             std::to_string(piece->size()) + " bytes, expected " +
                                             std::to_string(raw_end - it->raw_start));
    }
    *holder = std::move(piece);
    cache_->Put(index, *holder);
  }
  *entry = std::string_view(**holder).substr(begin - it->raw_start, end - begin);
  return Status::OK();
}

Status IndexReader::ParseNames() {
  // Postings table: entries strictly increasing by (name, value) with increasing offsets.
  const char* t = sections_[kPostingsTable].data.data();
  const uint64_t postings_size = sections_[kPostings].data.size();
  for (uint32_t i = 0; i < table_size_; ++i) {
    const char* e = t + uint64_t{i} * kPostingsTableEntrySize;
    const uint32_t name = GetFixed32(e), value = GetFixed32(e + 4), off = GetFixed32(e + 8);
    if (name >= symbols_.size() || value >= symbols_.size() || off >= postings_size) {
      return Corrupt(kPostingsTable, e - t, "entry out of range");
    }
    if (i > 0) {
      const char* p = e - kPostingsTableEntrySize;
      const uint64_t key = uint64_t{name} << 32 | value, prev = uint64_t{GetFixed32(p)} << 32 | GetFixed32(p + 4);
      if (key <= prev || off <= GetFixed32(p + 8)) return Corrupt(kPostingsTable, e - t, "entries out of order");
    } else if (off != 0) {
      return Corrupt(kPostingsTable, 0, "first postings offset not 0");
    }
  }
  // Label values: one record per name, in name order, matching the table's runs.
  Decoder d(sections_[kLabelValues].data);
  const uint64_t count = d.Uvarint();
  if (!d.ok() || count > d.remaining()) return Corrupt(kLabelValues, 0, "bad name count");
  uint32_t entry = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t pos = d.pos();
    Name n;
    n.name_ref = d.Uvarint32();
    n.num_values = d.Uvarint32();
    const size_t values_pos = d.pos();
    for (uint32_t v = 0; v < n.num_values && d.ok(); ++v) d.Uvarint32();
    if (!d.ok()) return Corrupt(kLabelValues, pos, "truncated record");
    n.values = sections_[kLabelValues].data.substr(values_pos, d.pos() - values_pos);
    if (n.name_ref >= symbols_.size() || (!names_.empty() && n.name_ref <= names_.back().name_ref)) {
      return Corrupt(kLabelValues, pos, "name out of order or range");
    }
    n.table_begin = entry;
    while (entry < table_size_ && GetFixed32(t + uint64_t{entry} * kPostingsTableEntrySize) == n.name_ref) ++entry;
    n.table_end = entry;
    if (n.table_end - n.table_begin != n.num_values || n.num_values == 0) {
      return Corrupt(kLabelValues, pos, "value count disagrees with the postings table");
    }
    names_.push_back(n);
  }
  if (!d.done()) return Corrupt(kLabelValues, d.pos(), "trailing bytes");
  if (entry != table_size_) return Corrupt(kPostingsTable, uint64_t{entry} * kPostingsTableEntrySize, "entries of no listed name");
  return Status::OK();
}

const IndexReader::Name* IndexReader::FindName(std::string_view name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name,
                             [this](const Name& n, std::string_view s) { return symbols_[n.name_ref] < s; });
  if (it == names_.end() || symbols_[it->name_ref] != name) return nullptr;
  return &*it;
}

std::string_view IndexReader::TableValue(uint32_t entry) const {
  return symbols_[GetFixed32(sections_[kPostingsTable].data.data() + uint64_t{entry} * kPostingsTableEntrySize + 4)];
}

Status IndexReader::ReadPostings(uint32_t entry, PostingsList* out) const {
  const char* e = sections_[kPostingsTable].data.data() + uint64_t{entry} * kPostingsTableEntrySize;
  const std::string_view post = sections_[kPostings].data;
  const uint32_t begin = GetFixed32(e + 8);
  const uint64_t end = entry + 1 < table_size_ ? GetFixed32(e + kPostingsTableEntrySize + 8) : post.size();
  if (!DecodePostings(post.substr(begin, end - begin), num_series_, out)) {
    return Corrupt(kPostings, begin, "bad postings list");
  }
  return Status::OK();
}

Result<PostingsList> IndexReader::Postings(std::string_view name, std::string_view value) const {
  PostingsList out;
  const Name* n = FindName(name);
  if (n == nullptr) return out;
  uint32_t lo = n->table_begin, hi = n->table_end;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (TableValue(mid) < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < n->table_end && TableValue(lo) == value) VIGIL_RETURN_IF_ERROR(ReadPostings(lo, &out));
  return out;
}

Status IndexReader::Series(BlockSeriesId id, Labels* labels, std::vector<ChunkMeta>* chunks) const {
  if (id >= num_series_) return Status::InvalidArgument("series id " + std::to_string(id) + " out of range");
  std::string_view entry;
  std::shared_ptr<const std::string> holder;
  uint64_t begin = 0;
  VIGIL_RETURN_IF_ERROR(SeriesEntry(id, &entry, &holder, &begin));
  Decoder d(entry);
  const uint64_t num_labels = d.Uvarint();
  if (num_labels > d.remaining()) return SeriesCorrupt(id, begin, "bad label count");
  std::string encoded;
  for (uint64_t i = 0; i < num_labels; ++i) {
    const uint32_t name = d.Uvarint32(), value = d.Uvarint32();
    if (!d.ok() || name >= symbols_.size() || value >= symbols_.size()) {
      return SeriesCorrupt(id, begin, "bad label symbol");
    }
    storage::detail::AppendLabel(symbols_[name], symbols_[value], &encoded);
  }
  Result<Labels> ls = Labels::FromEncoded(encoded);
  if (!ls.ok()) return SeriesCorrupt(id, begin, "labels: " + ls.status().message());
  *labels = std::move(ls).value();
  const uint64_t num_chunks = d.Uvarint();
  if (num_chunks > d.remaining()) return SeriesCorrupt(id, begin, "bad chunk count");
  chunks->clear();
  chunks->reserve(num_chunks);
  for (uint64_t i = 0; i < num_chunks && d.ok(); ++i) {
    ChunkMeta c;
    if (i == 0) {
      c.min_t = d.Varint();
    } else {
      const uint64_t gap = d.Uvarint();
      c.min_t = static_cast<int64_t>(static_cast<uint64_t>(chunks->back().max_t) + gap);
      if (gap == 0 || c.min_t <= chunks->back().max_t) return SeriesCorrupt(id, begin, "chunks overlap");
    }
    const uint64_t span = d.Uvarint();
    c.max_t = static_cast<int64_t>(static_cast<uint64_t>(c.min_t) + span);
    if (c.max_t < c.min_t) return SeriesCorrupt(id, begin, "chunk time range overflows");
    c.num_samples = d.Uvarint32();
    c.ref = i == 0 ? d.Uvarint() : chunks->back().ref + static_cast<uint64_t>(d.Varint());
    chunks->push_back(c);
  }
  if (!d.ok()) return SeriesCorrupt(id, begin, "truncated series entry");
  if (!d.done()) return SeriesCorrupt(id, begin + d.pos(), "trailing bytes in series entry");
  return Status::OK();
}

std::vector<std::string_view> IndexReader::LabelNames() const {
  std::vector<std::string_view> out;
  out.reserve(names_.size());
  for (const Name& n : names_) out.push_back(symbols_[n.name_ref]);
  return out;
}

Result<std::vector<std::string_view>> IndexReader::LabelValues(std::string_view name) const {
  std::vector<std::string_view> out;
  const Name* n = FindName(name);
  if (n == nullptr) return out;
  Decoder d(n->values);
  uint64_t ref = 0;
  for (uint32_t i = 0; i < n->num_values; ++i) {
    const uint64_t gap = d.Uvarint();
    ref += gap;
    if (!d.ok() || (i > 0 && gap == 0) || ref >= symbols_.size()) {
      return Corrupt(kLabelValues, static_cast<uint64_t>(n->values.data() - sections_[kLabelValues].data.data()),
                     "bad value list");
    }
    out.push_back(symbols_[ref]);
  }
  return out;
}

Result<uint64_t> IndexReader::Verify() const {
  uint64_t label_pairs = 0, chunks_total = 0;
  Labels ls;
  std::vector<ChunkMeta> chunks;
  for (BlockSeriesId id = 0; id < num_series_; ++id) {
    VIGIL_RETURN_IF_ERROR(Series(id, &ls, &chunks));
    label_pairs += ls.size();
    chunks_total += chunks.size();
  }
  uint64_t postings_total = 0;
  PostingsList list;
  for (uint32_t e = 0; e < table_size_; ++e) {
    list.clear();
    VIGIL_RETURN_IF_ERROR(ReadPostings(e, &list));
    postings_total += list.size();
  }
  for (const Name& n : names_) {
    VIGIL_ASSIGN_OR_RETURN(std::vector<std::string_view> values, LabelValues(symbols_[n.name_ref]));
    for (uint32_t i = 0; i < n.num_values; ++i) {
      if (values[i] != TableValue(n.table_begin + i)) {
        return Corrupt(kLabelValues, static_cast<uint64_t>(n.values.data() - sections_[kLabelValues].data.data()),
                       "values disagree with the postings table");
      }
    }
  }
  if (postings_total != label_pairs) {
    return Corrupt(kPostings, 0, "postings hold " + std::to_string(postings_total) + " ids, series " +
                                     std::to_string(label_pairs) + " labels");
  }
  return chunks_total;
}

}  // namespace vigil::storage
