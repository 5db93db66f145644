// A whole block round trip at scale: BlockWriter writes n series (adaptive chunks, UTF-8 values,
// optional labels, classic histogram buckets), BlockReader reads back every series with its labels,
// chunk metas and samples, every label name and value list and every postings list, and compares
// them with expectations computed from the generator alone (not from what was read).
// 100 k series run in the [slow] step; the default step runs the same code on 5 k.

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compression/chunk.h"
#include "storage/base/mem_file_system.h"
#include "storage/block/block_querier.h"
#include "storage/block/block_reader.h"
#include "storage/block/block_writer.h"
#include "tests/storage/block/block_test_util.h"

namespace vigil::storage {
namespace {

using testing::Sample;

constexpr int64_t kStart = 1'700'000'000'000;

Labels SeriesLabels(size_t i) {
  LabelsBuilder b;
  b.Set("__name__", "metric_" + std::to_string(i % 151));
  b.Set("instance", "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                        std::to_string(i % 256) + ":9100");
  static const char* const kJobs[] = {"node", "api", "web", "db", "cache", "queue", "prometheus"};
  b.Set("job", kJobs[i % 7]);
  if (i % 5 != 0) b.Set("zone", "zone-é" + std::to_string(i % 5));  // missing on every 5th
  if (i % 11 == 0) b.Set("le", i % 3 == 0 ? "+Inf" : std::to_string(0.25 * double(i % 8)));
  b.Set("uid", std::to_string(i * 2654435761u % 4294967291u));  // unique (prime modulus > n)
  return b.Build().value();
}

// 1..3 chunks of 4 samples; the last sample of every 13th series is the stale marker.
std::vector<Sample> SeriesSamples(size_t i) {
  std::vector<Sample> s;
  const size_t n = 4 * (1 + i % 3);
  for (size_t k = 0; k < n; ++k) {
    s.push_back({kStart + static_cast<int64_t>(i % 1000) + static_cast<int64_t>(k) * 15000,
                 static_cast<double>(i) + 0.5 * static_cast<double>(k)});
  }
  if (i % 13 == 0) s.back().v = testing::FromBits(0x7ff0000000000002ull);
  return s;
}

// Chunks of 4 samples, each encoded with the adaptive encoder (as blocks are written), viewing
// *storage.
std::vector<ChunkMeta> AdaptiveChunks(const std::vector<Sample>& s, std::vector<std::string>* storage) {
  std::vector<ChunkMeta> metas;
  storage->resize(s.size() / 4);
  for (size_t c = 0; c < storage->size(); ++c) {
    int64_t ts[4];
    double vs[4];
    for (size_t k = 0; k < 4; ++k) {
      ts[k] = s[4 * c + k].t;
      vs[k] = s[4 * c + k].v;
    }
    compression::EncodeChunk(ts, vs, &(*storage)[c]);
    metas.push_back({ts[0], ts[3], 4, 0, (*storage)[c]});
  }
  return metas;
}

std::vector<Sample> Decode(std::string_view chunk) {
  compression::ChunkDecoder dec(chunk);
  std::vector<int64_t> ts(64);
  std::vector<double> vs(64);
  std::vector<Sample> out;
  while (size_t n = dec.Next(ts, vs)) {
    for (size_t k = 0; k < n; ++k) out.push_back({ts[k], vs[k]});
  }
  REQUIRE(dec.ok());
  return out;
}

void BlockRoundTrip(size_t n, compression::BlockCodec codec = compression::BlockCodec::kNone) {
  // Generate, then order by labels: block ids are positions in that order.
  std::vector<std::pair<Labels, size_t>> gen;
  gen.reserve(n);
  for (size_t i = 0; i < n; ++i) gen.emplace_back(SeriesLabels(i), i);
  std::sort(gen.begin(), gen.end());

  auto fs = NewMemFileSystem();
  REQUIRE(fs->CreateDirs("/data").ok());
  BlockWriterOptions options = testing::FixedOptions();
  options.max_segment_size = 1 << 20;  // several chunk segments
  options.chunk_compression = codec;
  auto w = BlockWriter::Create(fs.get(), "/data", options);
  REQUIRE(w.ok());
  uint64_t want_samples = 0, want_chunks = 0;
  for (const auto& [ls, i] : gen) {
    std::vector<std::string> storage;
    const std::vector<Sample> s = SeriesSamples(i);
    std::vector<ChunkMeta> metas = AdaptiveChunks(s, &storage);
    want_samples += s.size();
    want_chunks += metas.size();
    REQUIRE((*w)->AddSeries(ls, metas).ok());
  }
  auto meta = (*w)->Finish();
  REQUIRE(meta.ok());
  CHECK(meta->stats.series == n);
  CHECK(meta->stats.samples == want_samples);
  CHECK(meta->stats.chunks == want_chunks);

  auto opened = BlockReader::Open(fs.get(), "/data/" + options.id);
  REQUIRE(opened.ok());
  std::shared_ptr<BlockReader> reader = *opened;
  REQUIRE(reader->Verify().ok());
  const IndexReader& ix = reader->index();
  REQUIRE(ix.NumSeries() == n);

  // Every series: labels, chunk metas, samples bit for bit.
  std::map<std::string, std::set<std::string>> want_values;
  std::map<std::pair<std::string, std::string>, PostingsList> want_postings;
  Labels ls;
  std::vector<ChunkMeta> chunks;
  for (BlockSeriesId id = 0; id < n; ++id) {
    const auto& [want_ls, i] = gen[id];
    REQUIRE(ix.Series(id, &ls, &chunks).ok());
    REQUIRE(ls == want_ls);
    const std::vector<Sample> want = SeriesSamples(i);
    REQUIRE(chunks.size() == want.size() / 4);
    std::vector<Sample> got;
    for (size_t c = 0; c < chunks.size(); ++c) {
      REQUIRE(chunks[c].min_t == want[4 * c].t);
      REQUIRE(chunks[c].max_t == want[4 * c + 3].t);
      REQUIRE(chunks[c].num_samples == 4);
      auto bytes = reader->Chunk(chunks[c].ref);
      REQUIRE(bytes.ok());
      for (const Sample& smp : Decode(bytes->bytes)) got.push_back(smp);
    }
    REQUIRE(testing::SameSamples(got, want));
    for (const Label& l : want_ls) {
      want_values[std::string(l.name)].insert(std::string(l.value));
      want_postings[{std::string(l.name), std::string(l.value)}].push_back(id);
    }
  }
  CHECK(ix.Series(static_cast<BlockSeriesId>(n), &ls, &chunks).IsInvalidArgument());

  // Label names and values.
  std::vector<std::string> names;
  for (std::string_view name : ix.LabelNames()) names.emplace_back(name);
  std::vector<std::string> want_names;
  for (const auto& [name, values] : want_values) want_names.push_back(name);
  CHECK(names == want_names);
  for (const auto& [name, values] : want_values) {
    auto got = ix.LabelValues(name);
    REQUIRE(got.ok());
    REQUIRE(std::vector<std::string>(got->begin(), got->end()) ==
            std::vector<std::string>(values.begin(), values.end()));
  }
  CHECK(ix.LabelValues("nope").value().empty());

  // Every postings list, directly and through an equality matcher.
  for (const auto& [pair, ids] : want_postings) {
    auto got = ix.Postings(pair.first, pair.second);
    REQUIRE(got.ok());
    REQUIRE(*got == ids);
  }
  for (const auto& [pair, ids] : want_postings) {
    if (pair.first == "uid" && ids.front() % 97 != 0) continue;  // a sample of the unique ones
    const Matcher m = testing::M(MatchType::kEqual, pair.first, pair.second);
    auto got = ix.PostingsForMatchers({&m, 1});
    REQUIRE(got.ok());
    REQUIRE(*got == ids);
  }
  CHECK(ix.Postings("job", "nope").value().empty());
  CHECK(ix.Postings("nope", "node").value().empty());

  // Matchers across lists, through the block querier with samples: job="api", zone missing,
  // metric_7..metric_79 by prefix.
  std::vector<Matcher> ms = {testing::M(MatchType::kEqual, "job", "api"),
                             testing::M(MatchType::kEqual, "zone", ""),
                             testing::M(MatchType::kRegexMatch, "__name__", "metric_7.*")};
  std::map<std::string, std::vector<Sample>> want_sel;
  for (const auto& [l, i] : gen) {
    if (l.Get("job") == "api" && !l.Has("zone") && l.Get("__name__").starts_with("metric_7")) {
      want_sel[l.ToString()] = SeriesSamples(i);
    }
  }
  REQUIRE(!want_sel.empty());
  auto q = NewBlockQuerier(reader, INT64_MIN, INT64_MAX);
  Status st;
  auto got_sel = testing::ReadAll(q.get(), ms, &st);
  REQUIRE(st.ok());
  REQUIRE(got_sel.size() == want_sel.size());
  for (const auto& [k, v] : want_sel) {
    INFO(k);
    REQUIRE(got_sel.count(k) == 1);
    CHECK(testing::SameSamples(got_sel[k], v));
  }
}

TEST_CASE("block round trip: every series and sample and every label value and postings list (5k series)",
          "[storage][block]") {
  BlockRoundTrip(5000);
}

TEST_CASE("block round trip with zstd-compressed chunk segments (5k series)", "[storage][block]") {
  BlockRoundTrip(5000, compression::BlockCodec::kZstd);
}

TEST_CASE("block round trip with lz4-compressed chunk segments (5k series)", "[storage][block]") {
  BlockRoundTrip(5000, compression::BlockCodec::kLz4);
}

TEST_CASE("block round trip: every series and sample and every label value and postings list (100k series)",
          "[storage][block][.][slow]") {
  BlockRoundTrip(100000);
}

}  // namespace
}  // namespace vigil::storage
