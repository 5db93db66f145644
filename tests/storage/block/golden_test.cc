// The committed v1 block (tests/golden/block/v1/) and corrupted copies of it
// (tests/golden/block/v1_corrupt/), plus a random-byte fuzz of the index parser.
//
// To regenerate after a deliberate format change (bump the version and update the docs first):
//   storage_test "[generate-golden]"

#include <catch2/catch.hpp>

#include <random>

#include "storage/base/mem_file_system.h"
#include "storage/block/coding.h"
#include "storage/block/format.h"
#include "storage/block/index_writer.h"
#include "storage/series_ref.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using testing::Sample;
using testing::TestSeries;

constexpr const char* kGoldenId = "01HF7YAT00ABCDEFGHJKMNPQRS";
const std::string kGoldenDir = std::string(VIGIL_GOLDEN_DIR) + "/block";
const std::vector<std::string> kFiles = {"meta.json", "index", "tombstones", "chunks/000001"};

std::vector<TestSeries> GoldenSeries() {
  return {
      {Labels::FromPairs({{"__name__", "up"}, {"job", "api"}}), {{1000, 1.0}, {2000, 1.0}, {3000, 0.0}}},
      {Labels::FromPairs({{"__name__", "up"}, {"job", "web"}}),
       {{1000, 1.0}, {2000, testing::FromBits(kStaleNaNBits)}, {3000, -0.0}}},
  };
}

Status WriteGolden(FileSystem* fs, const std::string& parent) {
  BlockWriterOptions o = testing::FixedOptions(kGoldenId);
  o.min_time = 0;
  o.max_time = 7200000;
  return testing::WriteTestBlock(fs, parent, GoldenSeries(), o).status();
}

Status CopyBlock(FileSystem* fs, const std::string& from, const std::string& to) {
  VIGIL_RETURN_IF_ERROR(fs->CreateDirs(to + "/chunks"));
  for (const std::string& f : kFiles) {
    VIGIL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(fs, from + "/" + f));
    VIGIL_RETURN_IF_ERROR(WriteFileAtomic(fs, to + "/" + f, data));
  }
  return Status::OK();
}

TEST_CASE("generate the golden block files", "[.][generate-golden]") {
  FileSystem* fs = DefaultFileSystem();
  REQUIRE(fs->RemoveDirAll(kGoldenDir + "/v1").ok());
  REQUIRE(fs->RemoveDirAll(kGoldenDir + "/v1_corrupt").ok());
  REQUIRE(fs->CreateDirs(kGoldenDir + "/v1").ok());
  REQUIRE(WriteGolden(fs, kGoldenDir + "/v1").ok());
  const std::string good = kGoldenDir + "/v1/" + kGoldenId;
  const std::string bad = kGoldenDir + "/v1_corrupt/";
  for (const char* c : {"flipped_index", "truncated_chunks", "bad_magic"}) {
    REQUIRE(CopyBlock(fs, good, bad + c + "/" + kGoldenId).ok());
  }
  std::string index = ReadFileToString(fs, good + "/index").value();
  index[20] ^= 0x04;  // inside the symbols section
  REQUIRE(WriteFileAtomic(fs, bad + "flipped_index/" + kGoldenId + "/index", index).ok());
  const std::string chunks = ReadFileToString(fs, good + "/chunks/000001").value();
  REQUIRE(WriteFileAtomic(fs, bad + "truncated_chunks/" + kGoldenId + "/chunks/000001",
                          chunks.substr(0, chunks.size() - 3)).ok());
  index = ReadFileToString(fs, good + "/index").value();
  index[3] = 'Y';
  REQUIRE(WriteFileAtomic(fs, bad + "bad_magic/" + kGoldenId + "/index", index).ok());
}

TEST_CASE("golden v1 block opens with the expected contents", "[storage][block]") {
  const std::string dir = kGoldenDir + "/v1/" + kGoldenId;
  auto reader = BlockReader::Open(DefaultFileSystem(), dir);
  REQUIRE(reader.ok());
  REQUIRE((*reader)->Verify().ok());
  const BlockMeta& m = (*reader)->meta();
  CHECK(m.id == kGoldenId);
  CHECK(m.min_time == 0);
  CHECK(m.max_time == 7200000);
  CHECK(m.stats == BlockStats{2, 6, 2});
  CHECK(m.compaction_level == 1);
  auto got = testing::ReadAll(NewBlockQuerier(*reader, 0, 7200000).get(),
                              std::vector<Matcher>{testing::M(MatchType::kEqual, "__name__", "up")});
  REQUIRE(got.size() == 2);
  for (const TestSeries& s : GoldenSeries()) CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));

  // The writer still produces these bytes: the format did not drift without a version bump.
  auto mem = NewMemFileSystem();
  REQUIRE(mem->CreateDirs("/g").ok());
  REQUIRE(WriteGolden(mem.get(), "/g").ok());
  for (const std::string& f : kFiles) {
    INFO(f);
    CHECK(ReadFileToString(mem.get(), std::string("/g/") + kGoldenId + "/" + f).value() ==
          ReadFileToString(DefaultFileSystem(), dir + "/" + f).value());
  }
}

// Opens, verifies and reads the block; returns the first error.
Status OpenVerifyRead(FileSystem* fs, const std::string& dir) {
  VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<BlockReader> r, BlockReader::Open(fs, dir));
  Status read;
  testing::ReadAll(NewBlockQuerier(r, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{}, &read);
  Status verify = r->Verify();
  return verify.ok() ? read : verify;
}

// Flips one bit of every byte of <dir>/<file>, then cuts the file at every length: each copy must
// be reported as corruption when the block is opened, verified and read. Restores the file.
void CheckEveryFlipAndCut(FileSystem* fs, const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  const std::string orig = ReadFileToString(fs, path).value();
  for (size_t i = 0; i < orig.size(); ++i) {
    std::string bad = orig;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    REQUIRE(WriteFileAtomic(fs, path, bad).ok());
    Status st = OpenVerifyRead(fs, dir);
    INFO(file << " byte " << i << ": " << st.ToString());
    CHECK(st.IsCorruption());
  }
  for (size_t cut = 0; cut < orig.size(); ++cut) {
    REQUIRE(WriteFileAtomic(fs, path, orig.substr(0, cut)).ok());
    Status st = OpenVerifyRead(fs, dir);
    INFO(file << " cut at " << cut << ": " << st.ToString());
    CHECK(st.IsCorruption());
  }
  REQUIRE(WriteFileAtomic(fs, path, orig).ok());
}

TEST_CASE("corrupted golden blocks are reported with file and offset", "[storage][block]") {
  struct Case {
    const char* name;
    const char* file;
  };
  for (Case c : {Case{"flipped_index", "/index"}, Case{"truncated_chunks", "/chunks/000001"},
                 Case{"bad_magic", "/index"}}) {
    INFO(c.name);
    const std::string dir = kGoldenDir + "/v1_corrupt/" + c.name + "/" + kGoldenId;
    REQUIRE(DefaultFileSystem()->DirExists(dir));
    Status st = OpenVerifyRead(DefaultFileSystem(), dir);
    INFO(st.ToString());
    CHECK(st.IsCorruption());
    CHECK(st.message().find(dir + c.file) != std::string::npos);
    CHECK(st.message().find("at offset") != std::string::npos);
  }
  // The truncated chunk file opens (headers are intact) but reading the cut chunk fails.
  auto r = BlockReader::Open(DefaultFileSystem(), kGoldenDir + "/v1_corrupt/truncated_chunks/" + kGoldenId);
  REQUIRE(r.ok());
  Status read;
  auto got = testing::ReadAll(NewBlockQuerier(*r, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{}, &read);
  CHECK(read.IsCorruption());
}

TEST_CASE("every single-byte flip of the golden block is caught", "[storage][block]") {
  auto mem = NewMemFileSystem();
  REQUIRE(mem->CreateDirs("/g").ok());
  REQUIRE(WriteGolden(mem.get(), "/g").ok());
  const std::string dir = std::string("/g/") + kGoldenId;
  for (const std::string& f : {std::string("index"), std::string("chunks/000001"), std::string("tombstones")}) {
    const std::string path = dir + "/" + f;
    const std::string orig = ReadFileToString(mem.get(), path).value();
    for (size_t i = 0; i < orig.size(); ++i) {
      std::string bad = orig;
      bad[i] ^= static_cast<char>(1 << (i % 8));
      REQUIRE(WriteFileAtomic(mem.get(), path, bad).ok());
      Status st = OpenVerifyRead(mem.get(), dir);
      INFO(f << " byte " << i << ": " << st.ToString());
      CHECK(st.IsCorruption());
    }
    REQUIRE(WriteFileAtomic(mem.get(), path, orig).ok());
  }
}

// Recomputes every section checksum (where the TOC bounds are sane) and the TOC checksum, so that
// mutations reach the structural checks behind them.
void FixChecksums(std::string* index) {
  using namespace block;  // NOLINT
  if (index->size() < kFileHeaderSize + kTocSize) return;
  char* toc = index->data() + index->size() - kTocSize;
  for (int i = 0; i < kNumIndexSections; ++i) {
    char* e = toc + i * kTocEntrySize;
    const uint64_t off = GetFixed64(e), len = GetFixed64(e + 8);
    if (off <= index->size() && len <= index->size() - off) {
      PutFixed32(e + 16, Checksum32(std::string_view(*index).substr(off, len)));
    }
  }
  PutFixed32(toc + kTocSize - 4, Checksum32(std::string_view(toc, kTocSize - 4)));
}

// Calls every read API of an index that opened; none may crash.
void Exercise(const IndexReader& ix) {
  ix.Verify().status().IgnoreError();
  Labels ls;
  std::vector<ChunkMeta> chunks;
  for (BlockSeriesId id = 0; id < ix.NumSeries() && id < 1000; ++id) ix.Series(id, &ls, &chunks).IgnoreError();
  for (std::string_view name : ix.LabelNames()) {
    auto values = ix.LabelValues(name);
    if (!values.ok()) continue;
    for (std::string_view v : *values) ix.Postings(name, v).status().IgnoreError();
  }
  for (const auto& ms : std::vector<std::vector<Matcher>>{
           {testing::M(MatchType::kRegexMatch, "job", "a.*")},
           {testing::M(MatchType::kNotEqual, "job", "api"), testing::M(MatchType::kEqual, "__name__", "up")},
           {testing::M(MatchType::kRegexNoMatch, "n", "x|y"), testing::M(MatchType::kRegexMatch, "job", "(w|a).+")}}) {
    ix.PostingsForMatchers(ms).status().IgnoreError();
  }
}

void FuzzIndex(const block::IndexWriterOptions& options, int chunks_per_series) {
  std::vector<block::IndexSeries> series;
  for (int i = 0; i < 60; ++i) {
    block::IndexSeries s;
    s.labels = Labels::FromPairs({{"__name__", i % 2 ? "up" : "down"}, {"job", i % 3 ? "api" : "web"},
                                  {"n", std::to_string(i)}});
    for (int c = 0; c < chunks_per_series; ++c) {
      const int64_t t = i + 1000 * int64_t{c};
      s.chunks.push_back({t, t + 10, 3, uint64_t{1} << 32 | (8 + i * 4096 + c * 17), {}});
    }
    series.push_back(s);
  }
  std::sort(series.begin(), series.end(), [](auto& a, auto& b) { return a.labels < b.labels; });
  const std::string orig = block::BuildIndex(series, options).value();
  auto mem = NewMemFileSystem();
  std::mt19937 rng(11);
  int opened = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string data = orig;
    switch (iter % 4) {
      case 0:  // a few flipped bits
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) data[rng() % data.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // truncated
        data.resize(rng() % data.size());
        break;
      case 2:  // garbage behind a valid header
        data.resize(8 + rng() % 400);
        for (size_t i = 8; i < data.size(); ++i) data[i] = static_cast<char>(rng());
        FixChecksums(&data);
        break;
      case 3:  // structural damage with valid checksums
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
          data[8 + rng() % (data.size() - 12)] = static_cast<char>(rng());
        }
        FixChecksums(&data);
        break;
    }
    REQUIRE(WriteFileAtomic(mem.get(), "/index", data).ok());
    auto reader = IndexReader::Open(block::FileView::Open(mem.get(), "/index").value());
    if (!reader.ok()) {
      INFO(reader.status().ToString());
      REQUIRE(reader.status().IsCorruption());
      REQUIRE(reader.status().message().find("offset") != std::string::npos);
      continue;
    }
    ++opened;
    Exercise(**reader);
  }
  WARN("fuzzed index (version " << int{static_cast<uint8_t>(orig[4])} << ") opened " << opened << " of 3000 times");
}

TEST_CASE("index parser survives random bytes", "[storage][block]") { FuzzIndex({}, 1); }

TEST_CASE("index parser survives random bytes (versions 2 and 3, several series pieces)", "[storage][block]") {
  block::IndexWriterOptions o;
  o.series_compression = compression::BlockCodec::kZstd;
  // ~60 x 900 bytes of chunk metas: four pieces.
  FuzzIndex(o, 150);
  o.series_compression = compression::BlockCodec::kLz4;
  FuzzIndex(o, 150);
  o.version = 2;
  FuzzIndex(o, 150);
}

}  // namespace
}  // namespace vigil::storage

namespace vigil::storage {
namespace {

TEST_CASE("a block missing a file is corrupt, a missing block is not found", "[storage][block]") {
  for (const char* victim : {"meta.json", "index", "tombstones", "chunks/000001"}) {
    INFO(victim);
    auto mem = NewMemFileSystem();
    REQUIRE(mem->CreateDirs("/g").ok());
    REQUIRE(WriteGolden(mem.get(), "/g").ok());
    const std::string dir = std::string("/g/") + kGoldenId;
    REQUIRE(mem->RemoveFile(dir + "/" + victim).ok());
    Status st = OpenVerifyRead(mem.get(), dir);
    CHECK(st.IsCorruption());
  }
  auto mem = NewMemFileSystem();
  CHECK(BlockReader::Open(mem.get(), "/nope").status().IsNotFound());
}

// ---- Version 2 chunk segments (compressed pieces): tests/golden/block/v2/ -------------------------

namespace v2 {

const std::string kDir = kGoldenDir + "/v2/" + kGoldenId;

Status WriteGoldenV2(FileSystem* fs, const std::string& parent) {
  BlockWriterOptions o = testing::FixedOptions(kGoldenId);
  o.min_time = 0;
  o.max_time = 7200000;
  o.compaction_level = 2;
  o.chunk_compression = compression::BlockCodec::kZstd;
  return testing::WriteTestBlock(fs, parent, GoldenSeries(), o).status();
}

TEST_CASE("generate the golden v2 block files", "[.][generate-golden]") {
  FileSystem* fs = DefaultFileSystem();
  REQUIRE(fs->RemoveDirAll(kGoldenDir + "/v2").ok());
  REQUIRE(fs->CreateDirs(kGoldenDir + "/v2").ok());
  REQUIRE(WriteGoldenV2(fs, kGoldenDir + "/v2").ok());
}

TEST_CASE("golden v2 block (zstd chunk pieces) opens with the expected contents", "[storage][block]") {
  auto reader = BlockReader::Open(DefaultFileSystem(), kDir);
  REQUIRE(reader.ok());
  REQUIRE((*reader)->Verify().ok());
  CHECK((*reader)->meta().compaction_level == 2);
  const std::string seg = ReadFileToString(DefaultFileSystem(), kDir + "/chunks/000001").value();
  REQUIRE(seg.size() > 16);
  CHECK(seg.substr(0, 5) == std::string("VGCK\x02", 5));
  auto got = testing::ReadAll(NewBlockQuerier(*reader, 0, 7200000).get(),
                              std::vector<Matcher>{testing::M(MatchType::kEqual, "__name__", "up")});
  REQUIRE(got.size() == 2);
  for (const TestSeries& s : GoldenSeries()) CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));

  // The writer still produces these bytes (with Debian 12's zstd 1.5.4; another zstd may compress
  // differently, which would change this check but not what readers accept).
  auto mem = NewMemFileSystem();
  REQUIRE(mem->CreateDirs("/g").ok());
  REQUIRE(WriteGoldenV2(mem.get(), "/g").ok());
  CHECK(ReadFileToString(mem.get(), std::string("/g/") + kGoldenId + "/chunks/000001").value() == seg);
}

TEST_CASE("every single-byte flip of a compressed chunk segment is caught", "[storage][block]") {
  auto mem = NewMemFileSystem();
  REQUIRE(mem->CreateDirs("/g").ok());
  REQUIRE(WriteGoldenV2(mem.get(), "/g").ok());
  CheckEveryFlipAndCut(mem.get(), std::string("/g/") + kGoldenId, "chunks/000001");
}

}  // namespace v2

// ---- Index versions 2 and 3 (compressed sections): tests/golden/block/index_v2/, index_v3/ -------

namespace index_v23 {

std::string Dir(int version) { return kGoldenDir + "/index_v" + std::to_string(version) + "/" + kGoldenId; }

Status WriteGoldenIndex(FileSystem* fs, const std::string& parent, int version) {
  BlockWriterOptions o = testing::FixedOptions(kGoldenId);
  o.min_time = 0;
  o.max_time = 7200000;
  o.compaction_level = 2;
  o.chunk_compression = compression::BlockCodec::kZstd;
  o.index_compression = compression::BlockCodec::kZstd;
  o.index_version = version;
  return testing::WriteTestBlock(fs, parent, GoldenSeries(), o).status();
}

TEST_CASE("generate the golden index v2 and v3 block files", "[.][generate-golden]") {
  FileSystem* fs = DefaultFileSystem();
  for (int version : {2, 3}) {
    const std::string parent = kGoldenDir + "/index_v" + std::to_string(version);
    REQUIRE(fs->RemoveDirAll(parent).ok());
    REQUIRE(fs->CreateDirs(parent).ok());
    REQUIRE(WriteGoldenIndex(fs, parent, version).ok());
  }
}

TEST_CASE("golden blocks with a version 2 and a version 3 index open with the expected contents",
          "[storage][block]") {
  for (int version : {2, 3}) {
    INFO("index version " << version);
    auto reader = BlockReader::Open(DefaultFileSystem(), Dir(version));
    REQUIRE(reader.ok());
    REQUIRE((*reader)->Verify().ok());
    const std::string index = ReadFileToString(DefaultFileSystem(), Dir(version) + "/index").value();
    CHECK(index.substr(0, 5) == std::string("VGIX", 4) + static_cast<char>(version));
    auto got = testing::ReadAll(NewBlockQuerier(*reader, 0, 7200000).get(),
                                std::vector<Matcher>{testing::M(MatchType::kEqual, "__name__", "up")});
    REQUIRE(got.size() == 2);
    for (const TestSeries& s : GoldenSeries()) CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));
    CHECK((*reader)->index().LabelValues("job").value() == std::vector<std::string_view>{"api", "web"});
    // The chunk segment is the one of the v2 golden block: only the index changed.
    CHECK(ReadFileToString(DefaultFileSystem(), Dir(version) + "/chunks/000001").value() ==
          ReadFileToString(DefaultFileSystem(), v2::kDir + "/chunks/000001").value());

    // The writer still produces these bytes (zstd 1.5.4 of Debian 12, as for the v2 block).
    auto mem = NewMemFileSystem();
    REQUIRE(mem->CreateDirs("/g").ok());
    REQUIRE(WriteGoldenIndex(mem.get(), "/g", version).ok());
    CHECK(ReadFileToString(mem.get(), std::string("/g/") + kGoldenId + "/index").value() == index);
  }
}

TEST_CASE("every single-byte flip and cut of a version 2 or 3 index is caught", "[storage][block]") {
  for (int version : {2, 3}) {
    INFO("index version " << version);
    auto mem = NewMemFileSystem();
    REQUIRE(mem->CreateDirs("/g").ok());
    REQUIRE(WriteGoldenIndex(mem.get(), "/g", version).ok());
    CheckEveryFlipAndCut(mem.get(), std::string("/g/") + kGoldenId, "index");
  }
}

}  // namespace index_v23

}  // namespace
}  // namespace vigil::storage
