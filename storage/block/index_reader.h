#pragma once

// Read access to a block's index file (storage/docs/format/index.md).

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/block/file_view.h"
#include "storage/block/format.h"
#include "storage/block/piece_cache.h"
#include "storage/block/types.h"
#include "storage/labels.h"
#include "storage/matcher.h"

namespace vigil::storage {

// Thread safety: immutable after Open(); every method may be called concurrently.
// Views returned (label names, values) point into the file and are valid while the reader lives.
class IndexReader {
 public:
  // Checks magic, version, the TOC checksum and the checksum of every section, and the structure
  // needed for look-ups (symbol order, offset tables). Corruption names the file and offset.
  static Result<std::unique_ptr<IndexReader>> Open(block::FileView file);

  uint32_t NumSeries() const { return num_series_; }

  // Ids of the series with label name=value (empty if none).
  Result<PostingsList> Postings(std::string_view name, std::string_view value) const;

  // Ids of the series selected by every matcher, with Prometheus semantics: a missing label is
  // "", a matcher that matches "" removes the series whose value does not match instead of
  // requiring a value; literal, alternation and prefix regexes are look-ups; no matcher (or only
  // ones that match every value, such as `=~".*"`) selects every series.
  Result<PostingsList> PostingsForMatchers(std::span<const Matcher> matchers) const;

  // The labels and chunk metas of series `id`. REQUIRES: id < NumSeries() (else InvalidArgument).
  Status Series(BlockSeriesId id, Labels* labels, std::vector<ChunkMeta>* chunks) const;

  // Sorted label names; sorted values of one name (empty if unknown).
  std::vector<std::string_view> LabelNames() const;
  Result<std::vector<std::string_view>> LabelValues(std::string_view name) const;

  // Decodes every series, postings list and label-value list and cross-checks their counts.
  // Returns the total number of chunk metas.
  Result<uint64_t> Verify() const;

  const std::string& path() const { return file_.path(); }

 private:
  struct Section {
    uint64_t offset = 0;
    std::string_view data;
  };
  // Version 2: one compressed piece of the series section.
  struct Piece {
    uint32_t raw_start;       // offset of its first entry in the uncompressed series bytes
    std::string_view frame;   // its block_codec frame
  };
  struct Name {
    uint32_t name_ref;
    std::string_view values;  // encoded value refs of the label-values section
    uint32_t num_values;
    uint32_t table_begin, table_end;  // its entries in the postings table
  };

  IndexReader() = default;
  Status Corrupt(int section, uint64_t pos, std::string_view what) const;
  // Corruption in series `id`'s entry at `pos` of the (uncompressed) series bytes.
  Status SeriesCorrupt(BlockSeriesId id, uint64_t pos, std::string_view what) const;
  // Version 3: replaces each framed section by its bytes (decompressed into owned_ or in place).
  Status UnframeSections();
  Status ParseSymbols();
  // Version 2: reads the piece table of the series section and sets series_size_.
  Status ParsePieces();
  // The bytes of series `id`'s entry; *holder keeps them valid (version 2: their piece). Sets
  // *pos to the entry's offset in the (uncompressed) series bytes.
  Status SeriesEntry(BlockSeriesId id, std::string_view* entry, std::shared_ptr<const std::string>* holder,
                     uint64_t* pos) const;
  Status ParseNames();
  const Name* FindName(std::string_view name) const;
  std::string_view TableValue(uint32_t entry) const;
  // Decodes and appends the postings list of table entry `entry`.
  Status ReadPostings(uint32_t entry, PostingsList* out) const;
  // The ids of series whose value of m.name() is non-empty and m.Matches() it (want == true), or
  // does not match it (want == false).
  Status ValuesPostings(const Matcher& m, bool want, PostingsList* out) const;

  block::FileView file_;
  uint8_t version_ = 0;
  Section sections_[block::kNumIndexSections];
  std::string owned_[block::kNumIndexSections];  // version 3: decompressed sections
  uint64_t series_size_ = 0;      // size of the uncompressed series bytes
  std::vector<Piece> pieces_;     // version 2
  std::unique_ptr<block::PieceCache> cache_;  // version 2: decompressed pieces
  std::vector<std::string_view> symbols_;
  std::vector<Name> names_;
  uint32_t num_series_ = 0;
  uint32_t table_size_ = 0;
};

}  // namespace vigil::storage
