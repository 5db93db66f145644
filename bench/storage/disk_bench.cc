// Bytes per sample on disk: a dataset written as a data directory, every byte counted (index,
// chunk segments, meta.json, tombstones, and the WAL where there is one), divided by its samples.
//
//   BM_DbCompactBytesPerSample/<dataset>
//       the real path: Db::Open on a fresh directory, every sample appended (1000 per commit, in
//       time order across series as a scraper sends them), Db::Compact() (head written as blocks,
//       compaction until nothing merges), Db::Close(). Extra counters: blocks, block_bytes_per_sample
//       (block directories only), wal_bytes (what the WAL still holds after the checkpoint).
//
//   BM_DiskBytesPerSample/<dataset>/range_h:R/chunk:N
//       one block per aligned R-hour range (2: blocks as the head flushes them; 6: after the first
//       compaction level, which holds each dataset's hour or two in one block), written with
//       BlockWriter from chunks of N samples encoded with the adaptive encoder (120 is what the
//       head cuts by default, 240 the cap)
//
// Counters:
//   bytes_per_sample        whole directory bytes / samples (the figure to compare with peers)
//   chunk_bytes_per_sample  chunk segment bytes only
//   index_bytes_per_series  index bytes / series
//   zstd64k_bytes_per_sample  what-if, not a format: the whole directory with every chunk segment
//                           and index compressed by zstd -3 in independent 64 KiB pieces (the
//                           granularity a block-level codec would need to keep random access)
//   items_per_second        samples written per second (encode + write + fsync + publish)
//
// The directory is written under $TMPDIR (or /tmp) and removed, unless VIGIL_BENCH_DATA_DIR is
// set: then <that dir>/<dataset>/ is kept for inspection (bench/storage/vm_bytes_per_sample.sh
// measures it with du and vigil-admin inspect).
//
// The BlockWriter variant shows what other block ranges and chunk sizes would give.

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/data/datasets.h"
#include "compression/block_codec.h"
#include "compression/chunk.h"
#include "storage/base/file_system.h"
#include "storage/block/block_writer.h"
#include "storage/db.h"
#include "storage/base/logging.h"
#include "storage/labels.h"

namespace vigil::bench {
namespace {

struct Prepared {
  std::string error;
  // Series in label order.
  std::vector<std::pair<storage::Labels, const Series*>> series;
  uint64_t samples = 0;
};

const Dataset& GetDataset(const std::string& name, std::string* error) {
  static std::map<std::string, Dataset> cache;
  static std::map<std::string, std::string> errors;
  auto it = cache.find(name);
  if (it != cache.end()) {
    *error = errors[name];
    return it->second;
  }
  Dataset d;
  if (name == "real-scrape") {
    if (!LoadRealScrape(DatasetsDir(), &d, error)) errors[name] = *error;
  } else {
    d = TsbsCpu(TsbsCpuOptions{});
  }
  return cache.emplace(name, std::move(d)).first->second;
}

Prepared Prepare(const Dataset& d) {
  Prepared p;
  for (const Series& s : d.series) {
    auto ls = storage::ParseLabels(s.name);
    if (!ls.ok()) {
      p.error = "series " + s.name + ": " + ls.status().ToString();
      return p;
    }
    p.series.emplace_back(std::move(ls).value(), &s);
    p.samples += s.ts.size();
  }
  std::sort(p.series.begin(), p.series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return p;
}

// Writes one block per aligned range into `dir`. Returns the first error.
Status WriteBlocks(const Prepared& p, const std::string& dir, int64_t range_ms, size_t chunk_samples) {
  FileSystem* fs = DefaultFileSystem();
  int64_t min_t = INT64_MAX, max_t = INT64_MIN;
  for (const auto& [ls, s] : p.series) {
    if (s->ts.empty()) continue;
    min_t = std::min(min_t, s->ts.front());
    max_t = std::max(max_t, s->ts.back());
  }
  std::string chunk;
  std::vector<std::string> chunks;
  std::vector<storage::ChunkMeta> metas;
  for (int64_t lo = min_t / range_ms * range_ms; lo <= max_t; lo += range_ms) {
    storage::BlockWriterOptions o;
    o.min_time = lo;
    o.max_time = lo + range_ms;
    // As the Db writes blocks: zstd chunk pieces (chunk segment version 2) and series pieces
    // (index version 2).
    o.chunk_compression = compression::BlockCodec::kZstd;
    o.index_compression = compression::BlockCodec::kZstd;
    VIGIL_ASSIGN_OR_RETURN(auto w, storage::BlockWriter::Create(fs, dir, o));
    for (const auto& [ls, s] : p.series) {
      const auto begin = std::lower_bound(s->ts.begin(), s->ts.end(), lo) - s->ts.begin();
      const auto end = std::lower_bound(s->ts.begin(), s->ts.end(), lo + range_ms) - s->ts.begin();
      chunks.clear();
      metas.clear();
      chunks.reserve(static_cast<size_t>(end - begin) / chunk_samples + 1);
      for (auto i = begin; i < end; i += static_cast<int64_t>(chunk_samples)) {
        const auto n = std::min<int64_t>(static_cast<int64_t>(chunk_samples), end - i);
        chunks.emplace_back();
        compression::EncodeChunk({s->ts.data() + i, static_cast<size_t>(n)}, {s->vs.data() + i, static_cast<size_t>(n)},
                                 &chunks.back());
        metas.push_back({s->ts[i], s->ts[i + n - 1], static_cast<uint32_t>(n), 0, chunks.back()});
      }
      if (!metas.empty()) VIGIL_RETURN_IF_ERROR(w->AddSeries(ls, metas));
    }
    VIGIL_RETURN_IF_ERROR(w->Finish().status());
  }
  return Status::OK();
}

uint64_t Usage(const std::string& path, const std::string& suffix_filter = "") {
  FileSystem* fs = DefaultFileSystem();
  if (!fs->DirExists(path)) {
    if (!suffix_filter.empty() && path.find(suffix_filter) == std::string::npos) return 0;
    auto size = fs->FileSize(path);
    return size.ok() ? *size : 0;
  }
  uint64_t total = 0;
  auto names = fs->ListDir(path);
  if (!names.ok()) return 0;
  for (const std::string& name : *names) total += Usage(JoinPath(path, name), suffix_filter);
  return total;
}

// Bytes of the directory if chunk segments and indexes were stored as zstd pieces of 64 KiB.
uint64_t Zstd64kUsage(const std::string& path) {
  FileSystem* fs = DefaultFileSystem();
  if (fs->DirExists(path)) {
    uint64_t total = 0;
    auto names = fs->ListDir(path);
    if (!names.ok()) return 0;
    for (const std::string& name : *names) total += Zstd64kUsage(JoinPath(path, name));
    return total;
  }
  auto data = ReadFileToString(fs, path);
  if (!data.ok()) return 0;
  if (path.find("/chunks/") == std::string::npos && !path.ends_with("/index")) return data->size();
  uint64_t total = 0;
  std::string out;
  for (size_t off = 0; off < data->size(); off += 64 << 10) {
    out.clear();
    const auto st = compression::CompressBlock(compression::BlockCodec::kZstd,
                                               std::string_view(*data).substr(off, 64 << 10), 3, &out);
    total += st.ok() ? out.size() : std::min<size_t>(64 << 10, data->size() - off);
  }
  return total;
}

void BM_DiskBytesPerSample(benchmark::State& state, const char* dataset) {
  std::string error;
  const Dataset& d = GetDataset(dataset, &error);
  if (!error.empty()) {
    state.SkipWithError((std::string(dataset) + " dataset unavailable: " + error).c_str());
    return;
  }
  const Prepared p = Prepare(d);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  const int64_t range_ms = state.range(0) * 3600 * 1000;
  const size_t chunk_samples = static_cast<size_t>(state.range(1));
  const char* keep = std::getenv("VIGIL_BENCH_DATA_DIR");
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = keep != nullptr && *keep != '\0'
                              ? JoinPath(keep, dataset)
                              : JoinPath(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                         "vigil-disk-bench-" + std::to_string(getpid()));
  FileSystem* fs = DefaultFileSystem();
  for (auto _ : state) {
    state.PauseTiming();
    if (!fs->RemoveDirAll(dir).ok() || !fs->CreateDirs(dir).ok()) {
      state.SkipWithError(("cannot create " + dir).c_str());
      return;
    }
    state.ResumeTiming();
    const Status st = WriteBlocks(p, dir, range_ms, chunk_samples);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  const double samples = static_cast<double>(p.samples);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.samples));
  state.counters["bytes_per_sample"] = static_cast<double>(Usage(dir)) / samples;
  state.counters["chunk_bytes_per_sample"] = static_cast<double>(Usage(dir, "/chunks/")) / samples;
  state.counters["index_bytes_per_series"] =
      static_cast<double>(Usage(dir, "/index")) / static_cast<double>(p.series.size());
  state.counters["zstd64k_bytes_per_sample"] = static_cast<double>(Zstd64kUsage(dir)) / samples;
  state.counters["samples"] = samples;
  if (keep == nullptr || *keep == '\0') fs->RemoveDirAll(dir).IgnoreError();
}

std::string BenchDir(const char* dataset, const char* variant) {
  const char* keep = std::getenv("VIGIL_BENCH_DATA_DIR");
  const char* tmp = std::getenv("TMPDIR");
  if (keep != nullptr && *keep != '\0') return JoinPath(keep, std::string(dataset) + variant);
  return JoinPath(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                  "vigil-disk-bench-" + std::to_string(getpid()) + variant);
}

// Appends the dataset through a Db in time order (k-way over series), compacts, closes.
Status WriteThroughDb(const Prepared& p, const std::string& dir, std::vector<storage::BlockInfo>* blocks) {
  storage::DbOptions o;
  o.wal_sync = storage::WalSyncPolicy::kNever;
  o.background_compaction = false;
  o.retention_ms = 0;
  VIGIL_ASSIGN_OR_RETURN(auto db, storage::Db::Open(o, dir));
  auto app = db->NewAppender();
  std::vector<size_t> pos(p.series.size(), 0);
  std::vector<storage::SeriesRef> refs(p.series.size(), storage::kNoSeriesRef);
  // Min-heap of (next timestamp, series index).
  std::vector<std::pair<int64_t, size_t>> heap;
  for (size_t i = 0; i < p.series.size(); ++i) {
    if (!p.series[i].second->ts.empty()) heap.emplace_back(p.series[i].second->ts[0], i);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  size_t in_batch = 0;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const size_t i = heap.back().second;
    heap.pop_back();
    const Series& s = *p.series[i].second;
    const int64_t t = s.ts[pos[i]];
    const double v = s.vs[pos[i]];
    if (refs[i] == storage::kNoSeriesRef) {
      VIGIL_ASSIGN_OR_RETURN(refs[i], app->Append(p.series[i].first, t, v));
    } else {
      VIGIL_RETURN_IF_ERROR(app->AppendByRef(refs[i], t, v));
    }
    if (++pos[i] < s.ts.size()) {
      heap.emplace_back(s.ts[pos[i]], i);
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
    if (++in_batch == 1000) {
      VIGIL_RETURN_IF_ERROR(app->Commit());
      in_batch = 0;
    }
  }
  VIGIL_RETURN_IF_ERROR(app->Commit());
  app.reset();
  VIGIL_RETURN_IF_ERROR(db->Compact());
  *blocks = db->Blocks();
  return db->Close();
}

void BM_DbCompactBytesPerSample(benchmark::State& state, const char* dataset) {
  SetMinLogLevel(LogLevel::kWarn);
  std::string error;
  const Dataset& d = GetDataset(dataset, &error);
  if (!error.empty()) {
    state.SkipWithError((std::string(dataset) + " dataset unavailable: " + error).c_str());
    return;
  }
  const Prepared p = Prepare(d);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  const std::string dir = BenchDir(dataset, "-db");
  FileSystem* fs = DefaultFileSystem();
  std::vector<storage::BlockInfo> blocks;
  for (auto _ : state) {
    state.PauseTiming();
    if (!fs->RemoveDirAll(dir).ok()) {
      state.SkipWithError(("cannot remove " + dir).c_str());
      return;
    }
    state.ResumeTiming();
    const Status st = WriteThroughDb(p, dir, &blocks);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  const double samples = static_cast<double>(p.samples);
  uint64_t block_bytes = 0, block_samples = 0;
  for (const auto& b : blocks) {
    block_bytes += b.bytes;
    block_samples += b.samples;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.samples));
  state.counters["bytes_per_sample"] = static_cast<double>(Usage(dir)) / samples;
  state.counters["block_bytes_per_sample"] = static_cast<double>(block_bytes) / samples;
  state.counters["chunk_bytes_per_sample"] = static_cast<double>(Usage(dir, "/chunks/")) / samples;
  state.counters["wal_bytes"] = static_cast<double>(Usage(JoinPath(dir, "wal")));
  state.counters["blocks"] = static_cast<double>(blocks.size());
  state.counters["block_samples"] = static_cast<double>(block_samples);
  state.counters["zstd64k_bytes_per_sample"] = static_cast<double>(Zstd64kUsage(dir)) / samples;
  state.counters["samples"] = samples;
  const char* keep = std::getenv("VIGIL_BENCH_DATA_DIR");
  if (keep == nullptr || *keep == '\0') fs->RemoveDirAll(dir).IgnoreError();
}

BENCHMARK_CAPTURE(BM_DbCompactBytesPerSample, real-scrape, "real-scrape")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_DbCompactBytesPerSample, tsbs-cpu, "tsbs-cpu")->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_CAPTURE(BM_DiskBytesPerSample, real-scrape, "real-scrape")
    ->ArgNames({"range_h", "chunk"})->ArgsProduct({{2, 6}, {120, 240}})->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_DiskBytesPerSample, tsbs-cpu, "tsbs-cpu")
    ->ArgNames({"range_h", "chunk"})->ArgsProduct({{2, 6}, {120, 240}})->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace vigil::bench
