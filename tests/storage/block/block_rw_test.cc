// Writer/reader round trips of whole blocks: samples bit-exact, time ranges, tombstones, meta.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "storage/base/mem_file_system.h"
#include "storage/block/piece_cache.h"
#include "storage/block/tombstones.h"
#include "storage/series_ref.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using testing::M;
using testing::Sample;
using testing::TestSeries;

std::vector<TestSeries> SmallSeries() {
  std::vector<TestSeries> out;
  const double special[] = {testing::FromBits(kStaleNaNBits), -0.0, 0.0,
                            std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::denorm_min(), 1e308, -1.5};
  for (int s = 0; s < 20; ++s) {
    TestSeries ts;
    ts.labels = Labels::FromPairs({{"__name__", "metric"}, {"job", s % 2 ? "api" : "web"}, {"instance", "host-" + std::to_string(100 + s)}});
    std::mt19937_64 rng(s);
    int64_t t = 1000 * s;
    for (int i = 0; i < 500; ++i) {
      t += 1 + static_cast<int64_t>(rng() % 30000);
      double v = i % 7 == 0 ? special[(i / 7) % 8] : static_cast<double>(rng() % 1000) / 8;
      ts.samples.push_back({t, v});
    }
    out.push_back(std::move(ts));
  }
  std::sort(out.begin(), out.end(), [](const TestSeries& a, const TestSeries& b) { return a.labels < b.labels; });
  return out;
}

TEST_CASE("block round trip keeps samples bit-exact", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/data").ok());
  const auto series = SmallSeries();
  auto meta = testing::WriteTestBlock(fs.get(), "/data", series, testing::FixedOptions());
  REQUIRE(meta.ok());
  CHECK(meta->stats.series == 20);
  CHECK(meta->stats.samples == 20 * 500);
  CHECK(meta->stats.chunks == 20 * 5);
  CHECK_FALSE(fs->DirExists("/data/01HZZZZZZZZZZZZZZZZZZZZZZZ.tmp"));

  auto reader = BlockReader::Open(fs.get(), "/data/01HZZZZZZZZZZZZZZZZZZZZZZZ");
  REQUIRE(reader.ok());
  CHECK((*reader)->meta() == *meta);
  REQUIRE((*reader)->Verify().ok());

  for (size_t batch : {1, 7, 128, 1000}) {
    auto q = NewBlockQuerier(*reader, INT64_MIN, INT64_MAX);
    std::vector<Matcher> ms = {M(MatchType::kEqual, "__name__", "metric")};
    Status st;
    auto got = testing::ReadAll(q.get(), ms, &st, batch);
    REQUIRE(st.ok());
    REQUIRE(got.size() == series.size());
    for (const TestSeries& s : series) {
      INFO(s.labels.ToString() << " batch " << batch);
      CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));
    }
  }
}

TEST_CASE("block querier limits samples to its inclusive range and seeks", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  TestSeries s{Labels::FromPairs({{"a", "1"}}), {}};
  for (int64_t t = 0; t < 1000; ++t) s.samples.push_back({t * 10, static_cast<double>(t)});
  REQUIRE(testing::WriteTestBlock(fs.get(), "/d", {s}, testing::FixedOptions(), 100).ok());
  auto reader = BlockReader::Open(fs.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ").value();
  std::vector<Matcher> ms = {M(MatchType::kEqual, "a", "1")};

  auto q = NewBlockQuerier(reader, 995, 2000);
  auto got = testing::ReadAll(q.get(), ms);
  REQUIRE(got["{a=\"1\"}"].size() == 101);
  CHECK(got["{a=\"1\"}"].front().t == 1000);
  CHECK(got["{a=\"1\"}"].back().t == 2000);

  // A range between chunks or outside the block selects nothing.
  auto q2 = NewBlockQuerier(reader, 20000, 30000);
  CHECK(testing::ReadAll(q2.get(), ms).empty());

  auto set = q->Select(ms);
  REQUIRE(set->Next());
  auto it = set->Samples();
  it->Seek(1505);
  int64_t ts[4];
  double vs[4];
  REQUIRE(it->Next(ts, vs) == 4);
  CHECK(ts[0] == 1510);
  CHECK(ts[3] == 1540);
  it->Seek(0);  // never backwards
  REQUIRE(it->Next(ts, vs) == 4);
  CHECK(ts[0] == 1550);
  CHECK_FALSE(set->Next());
}

TEST_CASE("block querier honours tombstones", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  std::vector<TestSeries> series;
  for (const char* v : {"x", "y"}) {
    TestSeries s{Labels::FromPairs({{"a", v}}), {}};
    for (int64_t t = 0; t < 1000; ++t) s.samples.push_back({t, static_cast<double>(t)});
    series.push_back(s);
  }
  REQUIRE(testing::WriteTestBlock(fs.get(), "/d", series, testing::FixedOptions(), 100).ok());
  const std::string dir = "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ";
  auto reader = BlockReader::Open(fs.get(), dir).value();
  CHECK(reader->tombstones()->empty());

  TombstoneMap t;
  AddInterval(&t[0], {100, 199});   // the whole second chunk of a="x"
  AddInterval(&t[0], {250, 260});
  AddInterval(&t[0], {261, 270});   // merges with the previous
  AddInterval(&t[1], {INT64_MIN, INT64_MAX});
  CHECK(t[0].size() == 2);
  CHECK(t[0][1] == Interval{250, 270});
  REQUIRE(WriteTombstones(fs.get(), dir, t).ok());
  REQUIRE(reader->ReloadTombstones().ok());
  CHECK(*reader->tombstones() == t);

  auto q = NewBlockQuerier(reader, 0, 999);
  auto got = testing::ReadAll(q.get(), std::vector<Matcher>{M(MatchType::kRegexMatch, "a", ".+")});
  REQUIRE(got.size() == 1);  // a="y" is deleted entirely
  const auto& x = got["{a=\"x\"}"];
  CHECK(x.size() == 1000 - 100 - 21);
  for (const Sample& s : x) CHECK_FALSE(((s.t >= 100 && s.t <= 199) || (s.t >= 250 && s.t <= 270)));

  // A reopened reader sees them too; names and values follow.
  auto again = BlockReader::Open(fs.get(), dir).value();
  CHECK(*again->tombstones() == t);
  auto values = NewBlockQuerier(again, 0, 999)->LabelValues("a", {});
  REQUIRE(values.ok());
  CHECK(*values == std::vector<std::string>{"x"});
}

TEST_CASE("block querier label names and values", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  auto reader_meta = testing::WriteTestBlock(fs.get(), "/d", SmallSeries(), testing::FixedOptions());
  REQUIRE(reader_meta.ok());
  auto reader = BlockReader::Open(fs.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ").value();
  auto q = NewBlockQuerier(reader, INT64_MIN, INT64_MAX);
  CHECK(q->LabelNames({}).value() == std::vector<std::string>{"__name__", "instance", "job"});
  CHECK(q->LabelValues("job", {}).value() == std::vector<std::string>{"api", "web"});
  CHECK(q->LabelValues("nope", {}).value().empty());
  std::vector<Matcher> ms = {M(MatchType::kEqual, "instance", "host-101")};
  CHECK(q->LabelValues("job", ms).value() == std::vector<std::string>{"api"});
  CHECK(q->LabelNames(ms).value().size() == 3);
}

TEST_CASE("block writer rejects bad input", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  auto w = BlockWriter::Create(fs.get(), "/d", testing::FixedOptions()).value();
  std::vector<std::string> storage;
  auto chunks = testing::MakeChunks({{1, 1}, {2, 2}}, 10, &storage);
  REQUIRE(w->AddSeries(Labels::FromPairs({{"a", "2"}}), chunks).ok());
  SECTION("out of order labels") {
    CHECK(w->AddSeries(Labels::FromPairs({{"a", "1"}}), chunks).IsInvalidArgument());
    CHECK(w->Finish().status().IsInvalidArgument());  // sticky
  }
  SECTION("duplicate labels") {
    CHECK(w->AddSeries(Labels::FromPairs({{"a", "2"}}), chunks).IsInvalidArgument());
  }
  SECTION("overlapping chunks") {
    std::vector<ChunkMeta> two = {chunks[0], chunks[0]};
    CHECK(w->AddSeries(Labels::FromPairs({{"a", "3"}}), two).IsInvalidArgument());
  }
  SECTION("an abandoned writer leaves nothing") {
    w.reset();
    CHECK(fs->ListDir("/d").value().empty());
  }
  CHECK(BlockWriter::Create(fs.get(), "/d", testing::FixedOptions("bad id")).status().IsInvalidArgument());
}

TEST_CASE("block writer cuts chunk segments at the size cap", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  auto opts = testing::FixedOptions();
  opts.max_segment_size = 4096;
  opts.min_time = 0;
  opts.max_time = 100000000;
  const auto series = SmallSeries();
  auto meta = testing::WriteTestBlock(fs.get(), "/d", series, opts);
  REQUIRE(meta.ok());
  CHECK(meta->min_time == 0);
  CHECK(meta->max_time == 100000000);
  const auto segs = fs->ListDir("/d/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks").value();
  CHECK(segs.size() > 3);
  CHECK(segs.front() == "000001");
  for (const auto& name : segs) CHECK(fs->FileSize("/d/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/" + name).value() <= 4096);
  auto reader = BlockReader::Open(fs.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ").value();
  REQUIRE(reader->Verify().ok());
  auto got = testing::ReadAll(NewBlockQuerier(reader, 0, 100000000).get(), std::vector<Matcher>{});
  CHECK(got.size() == series.size());
}

// kTargets targets scraped every 15 s with a few ms of jitter, kCodes counters each; `one_name`
// gives them all the metric name `a` (labels sort code-major, so the targets alternate and one
// target's series lie further apart than a 64 KiB piece), otherwise each series gets a name of its
// own in the same order (the same chunk bytes, never grouped).
constexpr int kTargets = 200, kCodes = 6;

std::string Host(int j) { return "host-" + std::to_string(100 + j); }

std::vector<TestSeries> ScrapedSeries(bool one_name, int targets = kTargets, int codes = kCodes) {
  std::vector<TestSeries> out;
  std::mt19937_64 rng(7);
  std::vector<std::vector<int64_t>> times(targets);
  for (int j = 0; j < targets; ++j) {
    for (int i = 0; i < 480; ++i) times[j].push_back(1'000'000 + 70 * j + 15'000 * i + static_cast<int64_t>(rng() % 7) - 3);
  }
  for (int code = 0; code < codes; ++code) {
    for (int j = 0; j < targets; ++j) {
      TestSeries s;
      const std::string name = one_name ? "a" : "a_" + std::to_string(100000 + code * targets + j);
      s.labels = Labels::FromPairs({{"__name__", name}, {"code", "c" + std::to_string(code)}, {"instance", Host(j)}});
      double v = 0;
      for (int64_t t : times[j]) s.samples.push_back({t, v += static_cast<double>(rng() % 20)});
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const TestSeries& a, const TestSeries& b) { return a.labels < b.labels; });
  return out;
}

uint64_t ChunkBytes(FileSystem* fs, const std::string& dir) {
  uint64_t total = 0;
  const auto names = fs->ListDir(dir + "/chunks").value();
  for (const auto& name : names) total += fs->FileSize(dir + "/chunks/" + name).value();
  return total;
}

TEST_CASE("compressed block writer puts a metric's series with the same chunk times together", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  uint64_t bytes[2] = {0, 0};
  for (bool one_name : {true, false}) {
    const auto series = ScrapedSeries(one_name);
    const std::string id = one_name ? "01HZZZZZZZZZZZZZZZZZZZZZZA" : "01HZZZZZZZZZZZZZZZZZZZZZZB";
    auto opts = testing::FixedOptions(id);
    opts.chunk_compression = compression::BlockCodec::kZstd;
    auto w = BlockWriter::Create(fs.get(), "/d", opts).value();
    for (const TestSeries& s : series) {
      std::vector<std::string> storage;
      auto metas = testing::MakeChunks(s.samples, 120, &storage, compression::Encoding::kIntDoubleDelta);
      REQUIRE(w->AddSeries(s.labels, metas).ok());
    }
    REQUIRE(w->Finish().ok());
    bytes[one_name ? 0 : 1] = ChunkBytes(fs.get(), "/d/" + id);

    auto reader = BlockReader::Open(fs.get(), "/d/" + id).value();
    REQUIRE(reader->Verify().ok());
    Status st;
    auto got = testing::ReadAll(NewBlockQuerier(reader, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{}, &st);
    REQUIRE(st.ok());
    REQUIRE(got.size() == series.size());
    for (const TestSeries& s : series) CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));

    // Series in the order of their first chunk in the files.
    std::vector<std::pair<ChunkRef, std::string>> by_ref;
    for (BlockSeriesId id = 0; id < series.size(); ++id) {
      Labels l;
      std::vector<ChunkMeta> chunks;
      REQUIRE(reader->index().Series(id, &l, &chunks).ok());
      REQUIRE(chunks.size() == 4);
      for (size_t k = 1; k < chunks.size(); ++k) CHECK(chunks[k].ref > chunks[k - 1].ref);  // kept together
      by_ref.emplace_back(chunks.front().ref, l.ToString());
    }
    std::sort(by_ref.begin(), by_ref.end());
    std::vector<std::string> expected;
    if (one_name) {
      // Targets in the order they first appear, each one's series in label order.
      for (int j = 0; j < kTargets; ++j) {
        for (int code = 0; code < kCodes; ++code) {
          expected.push_back(Labels::FromPairs({{"__name__", "a"}, {"code", "c" + std::to_string(code)}, {"instance", Host(j)}}).ToString());
        }
      }
    } else {
      for (const TestSeries& s : series) expected.push_back(s.labels.ToString());
    }
    std::vector<std::string> order;
    for (const auto& [ref, l] : by_ref) order.push_back(l);
    CHECK(order == expected);
  }
  // The same chunk bytes take less room grouped: the compressor stores each target's timestamp
  // column about once.
  INFO("grouped " << bytes[0] << " B, label order " << bytes[1] << " B");
  CHECK(bytes[0] < bytes[1] * 8 / 10);
}

// Reads every series of the block back and checks each against what was written, bit for bit.
void CheckReadsBack(const std::shared_ptr<const BlockReader>& reader, const std::vector<TestSeries>& series) {
  Status st;
  auto got = testing::ReadAll(NewBlockQuerier(reader, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{}, &st);
  REQUIRE(st.ok());
  REQUIRE(got.size() == series.size());
  for (const TestSeries& s : series) CHECK(testing::SameSamples(got[s.labels.ToString()], s.samples));
}

TEST_CASE("a label-order walk of grouped series decompresses each piece once", "[storage][block]") {
  // 200 targets x 24 codes: about 2.5 MB of chunks in one metric, several groups of at most
  // 768 KiB. Reading in label order (code-major) sweeps a group's pieces once per code; the
  // reader's 16 pieces hold a whole group, as compaction needs (it reads without the shared cache).
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  const auto series = ScrapedSeries(true, 200, 24);
  auto opts = testing::FixedOptions();
  opts.chunk_compression = compression::BlockCodec::kZstd;
  auto w = BlockWriter::Create(fs.get(), "/d", opts).value();
  uint64_t raw = 0;
  for (const TestSeries& s : series) {
    std::vector<std::string> storage;
    auto metas = testing::MakeChunks(s.samples, 120, &storage, compression::Encoding::kIntDoubleDelta);
    for (const ChunkMeta& c : metas) raw += c.data.size();
    REQUIRE(w->AddSeries(s.labels, metas).ok());
  }
  REQUIRE(w->Finish().ok());
  REQUIRE(raw > 3 * (768 << 10));
  auto reader = BlockReader::Open(fs.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ").value();
  block::PieceCacheBypass bypass;
  CheckReadsBack(reader, series);
  INFO(reader->chunk_pieces() << " pieces");
  CHECK(reader->chunk_pieces() > 30);
  CHECK(reader->chunk_pieces_decompressed() == reader->chunk_pieces());
}

TEST_CASE("pieces stored uncompressed are read in place, their checksum checked", "[storage][block]") {
  // Random timestamps and full 64-bit values: zstd cannot shrink the pieces, so the writer stores
  // them as kNone frames, and the reader views them in the file instead of copying them.
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  std::mt19937_64 rng(7);
  std::vector<TestSeries> series;
  for (int k = 0; k < 40; ++k) {
    TestSeries ts;
    ts.labels = Labels::FromPairs({{"__name__", "noise"}, {"k", std::to_string(1000 + k)}});
    int64_t t = 1'000'000;
    for (int i = 0; i < 600; ++i) {
      t += 1 + static_cast<int64_t>(rng() % 100'000);
      double v;
      do {
        v = testing::FromBits(rng());
      } while (!std::isfinite(v));
      ts.samples.push_back({t, v});
    }
    series.push_back(std::move(ts));
  }
  auto opts = testing::FixedOptions();
  opts.chunk_compression = compression::BlockCodec::kZstd;
  REQUIRE(testing::WriteTestBlock(fs.get(), "/d", series, opts).ok());
  const std::string dir = "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ";
  {
    auto reader = BlockReader::Open(fs.get(), dir).value();
    CheckReadsBack(reader, series);
    INFO(reader->chunk_pieces() << " pieces");
    CHECK(reader->chunk_pieces() > 2);
    CHECK(reader->chunk_pieces_decompressed() == 0);
    CHECK(reader->Verify().ok());
  }
  // One flipped byte in the middle of the file: the first read of its piece reports it.
  const std::string seg = dir + "/chunks/000001";
  std::string bytes = ReadFileToString(fs.get(), seg).value();
  bytes[bytes.size() / 2] ^= 0x20;
  REQUIRE(WriteFileAtomic(fs.get(), seg, bytes).ok());
  auto reader = BlockReader::Open(fs.get(), dir).value();
  Status st;
  testing::ReadAll(NewBlockQuerier(reader, INT64_MIN, INT64_MAX).get(), std::vector<Matcher>{}, &st);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.ToString(), Catch::Contains("piece checksum mismatch") && Catch::Contains("000001"));
  CHECK_FALSE(reader->Verify().ok());
}

TEST_CASE("empty block round trips", "[storage][block]") {
  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/d").ok());
  auto meta = testing::WriteTestBlock(fs.get(), "/d", {}, testing::FixedOptions());
  REQUIRE(meta.ok());
  auto reader = BlockReader::Open(fs.get(), "/d/01HZZZZZZZZZZZZZZZZZZZZZZZ");
  REQUIRE(reader.ok());
  CHECK((*reader)->Verify().ok());
  CHECK((*reader)->index().NumSeries() == 0);
  CHECK(testing::ReadAll(NewBlockQuerier(*reader, 0, 10).get(), std::vector<Matcher>{}).empty());
}

}  // namespace
}  // namespace vigil::storage
