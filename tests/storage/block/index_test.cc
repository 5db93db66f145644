// Index round trips: every series, postings list and label-value list read back as written.

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>

#include "compression/block_codec.h"
#include "storage/base/mem_file_system.h"
#include "storage/block/coding.h"
#include "storage/block/format.h"
#include "storage/block/index_reader.h"
#include "storage/block/index_writer.h"

namespace vigil::storage {
namespace {

using block::IndexSeries;

std::vector<IndexSeries> MakeSeries(size_t n, size_t max_chunks = 4) {
  std::vector<IndexSeries> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    IndexSeries s;
    s.labels = Labels::FromPairs({{"__name__", "metric_" + std::to_string(i % 97)},
                                  {"instance", "host-" + std::to_string(i % 1009) + ".example.org:9100"},
                                  {"job", i % 3 == 0 ? "node" : "app"},
                                  {"series", std::to_string(i)},
                                  {"zone", i % 5 == 0 ? "" : "z" + std::to_string(i % 5)}});
    const size_t chunks = 1 + i % max_chunks;
    int64_t t = -1000 + static_cast<int64_t>(i);
    for (size_t c = 0; c < chunks; ++c) {
      s.chunks.push_back({t, t + 119 * 15000, 120, ChunkRef(1 + c) << 32 | (8 + i * 40 + c), {}});
      t += 120 * 15000;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const IndexSeries& a, const IndexSeries& b) { return a.labels < b.labels; });
  return out;
}

void RoundTrip(size_t n, const block::IndexWriterOptions& options = {}, size_t max_chunks = 4) {
  const auto series = MakeSeries(n, max_chunks);
  const auto start = std::chrono::steady_clock::now();
  auto bytes = block::BuildIndex(series, options);
  REQUIRE(bytes.ok());
  const bool compressed = options.series_compression != compression::BlockCodec::kNone;
  const uint8_t want_version = !compressed ? block::kIndexVersion
                               : options.version == 2 ? block::kIndexVersionCompressed
                                                      : block::kIndexVersionFramed;
  REQUIRE(static_cast<uint8_t>((*bytes)[4]) == want_version);
  auto fs = NewMemFileSystem();
  REQUIRE(WriteFileAtomic(fs.get(), "/index", *bytes).ok());
  auto file = block::FileView::Open(fs.get(), "/index");
  REQUIRE(file.ok());
  auto reader = IndexReader::Open(std::move(file).value());
  REQUIRE(reader.ok());
  const IndexReader& ix = **reader;
  REQUIRE(ix.NumSeries() == n);
  auto verified = ix.Verify();
  REQUIRE(verified.ok());

  std::map<std::pair<std::string, std::string>, PostingsList> want_postings;
  std::map<std::string, std::set<std::string>> want_values;
  uint64_t chunks = 0;
  Labels ls;
  std::vector<ChunkMeta> metas;
  for (BlockSeriesId id = 0; id < n; ++id) {
    REQUIRE(ix.Series(id, &ls, &metas).ok());
    REQUIRE(ls == series[id].labels);
    REQUIRE(metas.size() == series[id].chunks.size());
    for (size_t c = 0; c < metas.size(); ++c) {
      const ChunkMeta& a = metas[c];
      const ChunkMeta& b = series[id].chunks[c];
      REQUIRE((a.min_t == b.min_t && a.max_t == b.max_t && a.num_samples == b.num_samples && a.ref == b.ref));
    }
    chunks += metas.size();
    for (const Label& l : ls) {
      want_postings[{std::string(l.name), std::string(l.value)}].push_back(id);
      want_values[std::string(l.name)].insert(std::string(l.value));
    }
  }
  CHECK(*verified == chunks);
  CHECK(ix.Series(static_cast<BlockSeriesId>(n), &ls, &metas).IsInvalidArgument());

  std::vector<std::string_view> names = ix.LabelNames();
  CHECK(names == std::vector<std::string_view>{"__name__", "instance", "job", "series", "zone"});
  for (const auto& [name, values] : want_values) {
    auto got = ix.LabelValues(name);
    REQUIRE(got.ok());
    REQUIRE(std::vector<std::string>(got->begin(), got->end()) == std::vector<std::string>(values.begin(), values.end()));
  }
  for (const auto& [pair, ids] : want_postings) {
    auto got = ix.Postings(pair.first, pair.second);
    REQUIRE(got.ok());
    REQUIRE(*got == ids);
  }
  CHECK(ix.Postings("job", "nope").value().empty());
  CHECK(ix.Postings("nope", "node").value().empty());
  CHECK(ix.Postings("zone", "").value().empty());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (n >= 100000) WARN(n << " series: index " << bytes->size() << " bytes (" << bytes->size() / n << " per series), round trip " << secs << " s");
}

TEST_CASE("index round trip with 10k series", "[storage][block]") { RoundTrip(10000); }

TEST_CASE("index round trip with 100k series", "[storage][block][.][slow]") { RoundTrip(100000); }

block::IndexWriterOptions Compressed(compression::BlockCodec codec) {
  block::IndexWriterOptions o;
  o.series_compression = codec;
  return o;
}

TEST_CASE("index version 3 (zstd) round trip with 10k series", "[storage][block]") {
  RoundTrip(10000, Compressed(compression::BlockCodec::kZstd));
}

TEST_CASE("index version 3 (lz4) round trip with 10k series", "[storage][block]") {
  RoundTrip(10000, Compressed(compression::BlockCodec::kLz4));
}

TEST_CASE("index version 3 round trip with series entries larger than a piece", "[storage][block]") {
  // Up to 4000 chunk metas per series: entries of up to ~40 KiB, each then a piece of its own.
  RoundTrip(40, Compressed(compression::BlockCodec::kZstd), 4000);
}

TEST_CASE("index version 3 round trip with 100k series", "[storage][block][.][slow]") {
  RoundTrip(100000, Compressed(compression::BlockCodec::kZstd));
}

std::string_view Section(const std::string& index, int i) {
  const char* e = index.data() + index.size() - block::kTocSize + i * block::kTocEntrySize;
  return std::string_view(index).substr(block::GetFixed64(e), block::GetFixed64(e + 8));
}

TEST_CASE("index versions 2 and 3 compress the series section; version 3 frames the others",
          "[storage][block]") {
  const auto series = MakeSeries(5000);
  const std::string v1 = block::BuildIndex(series).value();
  block::IndexWriterOptions o = Compressed(compression::BlockCodec::kZstd);
  o.version = 2;
  const std::string v2 = block::BuildIndex(series, o).value();
  o.version = 3;
  const std::string v3 = block::BuildIndex(series, o).value();
  CHECK(v3.size() < v2.size());
  int framed = 0;
  for (int i = 0; i < block::kNumIndexSections; ++i) {
    INFO("section " << block::kIndexSectionNames[i]);
    if (i == block::kSeries) {
      CHECK(Section(v2, i).size() * 2 < Section(v1, i).size());
      CHECK(Section(v3, i) == Section(v2, i));
      continue;
    }
    CHECK(Section(v2, i) == Section(v1, i));
    // Version 3: a storage byte, then the section's bytes or one frame that decompresses to them.
    const std::string_view s3 = Section(v3, i);
    REQUIRE(!s3.empty());
    if (s3[0] == static_cast<char>(block::kSectionPlain)) {
      CHECK(s3.substr(1) == Section(v1, i));
    } else {
      REQUIRE(s3[0] == static_cast<char>(block::kSectionFramed));
      ++framed;
      std::string raw;
      REQUIRE(compression::DecompressBlock(s3.substr(1), &raw).ok());
      CHECK(raw == Section(v1, i));
      CHECK(s3.size() <= Section(v1, i).size());
    }
  }
  CHECK(framed >= 4);  // symbols, offsets, label values, postings table at least
}

TEST_CASE("index version 3: every flip of an index with compressed sections is caught",
          "[storage][block]") {
  const auto series = MakeSeries(300);
  const std::string orig = block::BuildIndex(series, Compressed(compression::BlockCodec::kZstd)).value();
  auto fs = NewMemFileSystem();
  int reported = 0;
  for (size_t i = 8; i + block::kTocSize < orig.size(); i += 3) {
    std::string bad = orig;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    REQUIRE(WriteFileAtomic(fs.get(), "/index", bad).ok());
    auto reader = IndexReader::Open(block::FileView::Open(fs.get(), "/index").value());
    INFO("byte " << i);
    REQUIRE_FALSE(reader.ok());  // the section checksums see every flip
    CHECK(reader.status().IsCorruption());
    ++reported;
  }
  CHECK(reported > 100);
}

TEST_CASE("index version 2 round trip (only the series section compressed)", "[storage][block]") {
  block::IndexWriterOptions o = Compressed(compression::BlockCodec::kZstd);
  o.version = 2;
  RoundTrip(3000, o);
}

TEST_CASE("index versions 2 and 3 with no series", "[storage][block]") {
  for (int version : {2, 3}) {
    INFO("version " << version);
    block::IndexWriterOptions o = Compressed(compression::BlockCodec::kZstd);
    o.version = version;
    const std::string bytes = block::BuildIndex({}, o).value();
    auto fs = NewMemFileSystem();
    REQUIRE(WriteFileAtomic(fs.get(), "/index", bytes).ok());
    auto reader = IndexReader::Open(block::FileView::Open(fs.get(), "/index").value());
    REQUIRE(reader.ok());
    CHECK((*reader)->NumSeries() == 0);
    CHECK((*reader)->Verify().value() == 0);
    CHECK((*reader)->LabelNames().empty());
  }
}

}  // namespace
}  // namespace vigil::storage
