#pragma once

// Helpers for the vigil-admin command tests: build a data directory (blocks written with
// BlockWriter, a WAL written by Db) in any file system, run a command with captured output.

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compression/chunk.h"
#include "storage/base/file_system.h"
#include "storage/block/block_writer.h"
#include "storage/db.h"
#include "storage/labels.h"
#include "storage/series_ref.h"
#include "tools/vigil-admin/data_dir.h"

namespace vigil::admin::testing {

struct RunResult {
  int code = 0;
  std::string out;
  std::string err;
};

using CommandEntry = int (*)(const AdminIo&, std::span<char* const>);

inline RunResult Run(FileSystem* fs, CommandEntry fn, std::vector<std::string> args) {
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  size_t out_len = 0, err_len = 0;
  std::FILE* out = open_memstream(&out_buf, &out_len);
  std::FILE* err = open_memstream(&err_buf, &err_len);
  REQUIRE(out != nullptr);
  REQUIRE(err != nullptr);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  RunResult r;
  r.code = fn(AdminIo{fs, out, err}, argv);
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  return r;
}

struct Sample {
  int64_t t;
  double v;
};

// Writes one block under `dir` holding `series` (sorted here) with 120-sample adaptive chunks.
// The block range is [min_time, max_time) when given, else derived from the samples.
inline storage::BlockMeta WriteBlock(FileSystem* fs, const std::string& dir, const std::string& id,
                                     std::vector<std::pair<storage::Labels, std::vector<Sample>>> series,
                                     std::optional<int64_t> min_time = std::nullopt,
                                     std::optional<int64_t> max_time = std::nullopt) {
  std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  storage::BlockWriterOptions o;
  o.id = id;
  o.min_time = min_time;
  o.max_time = max_time;
  auto w = storage::BlockWriter::Create(fs, dir, o);
  REQUIRE(w.ok());
  for (const auto& [ls, samples] : series) {
    std::vector<std::string> storage;
    std::vector<storage::ChunkMeta> metas;
    storage.reserve(samples.size() / 120 + 1);
    for (size_t i = 0; i < samples.size(); i += 120) {
      const size_t n = std::min<size_t>(120, samples.size() - i);
      std::vector<int64_t> ts(n);
      std::vector<double> vs(n);
      for (size_t k = 0; k < n; ++k) {
        ts[k] = samples[i + k].t;
        vs[k] = samples[i + k].v;
      }
      storage.emplace_back();
      compression::EncodeChunk(ts, vs, &storage.back());
      metas.push_back({ts.front(), ts.back(), static_cast<uint32_t>(n), 0, storage.back()});
    }
    REQUIRE((*w)->AddSeries(ls, metas).ok());
  }
  auto meta = (*w)->Finish();
  REQUIRE(meta.ok());
  return *meta;
}

// Appends `series` through a Db on `dir` (WAL only, no blocks), one commit (WAL batch) per
// element, and closes it.
inline void WriteWal(FileSystem* fs, const std::string& dir,
                     const std::vector<std::pair<storage::Labels, std::vector<Sample>>>& series) {
  storage::DbOptions o;
  o.fs = fs;
  o.wal_sync = storage::WalSyncPolicy::kAlways;
  o.background_compaction = false;
  auto db = storage::Db::Open(o, dir);
  REQUIRE(db.ok());
  auto app = (*db)->NewAppender();
  for (const auto& [ls, samples] : series) {
    for (const Sample& s : samples) REQUIRE(app->Append(ls, s.t, s.v).ok());
    REQUIRE(app->Commit().ok());
  }
  REQUIRE((*db)->Close().ok());
}

// The Prometheus stale marker (storage/series_ref.h).
inline double StaleNaN() {
  const uint64_t bits = storage::kStaleNaNBits;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

inline storage::Labels L(std::initializer_list<storage::Label> pairs) { return storage::Labels::FromPairs(pairs); }

inline void FlipByte(FileSystem* fs, const std::string& path, uint64_t offset) {
  auto data = ReadFileToString(fs, path);
  REQUIRE(data.ok());
  REQUIRE(offset < data->size());
  (*data)[offset] = static_cast<char>((*data)[offset] ^ 0x5a);
  REQUIRE(WriteFileAtomic(fs, path, *data).ok());
}

inline void Truncate(FileSystem* fs, const std::string& path, uint64_t size) {
  REQUIRE(fs->Truncate(path, size).ok());
}

}  // namespace vigil::admin::testing
