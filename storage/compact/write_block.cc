#include "storage/compact/write_block.h"

#include <algorithm>
#include <array>
#include <map>

#include "compression/chunk.h"
#include "storage/block/block_writer.h"

namespace vigil::storage {

int64_t AlignDown(int64_t t, int64_t range) {
  const int64_t q = t / range;
  return (t % range != 0 && t < 0 ? q - 1 : q) * range;
}

namespace {

// The chunks of one series for one output block.
struct SeriesChunks {
  std::vector<int64_t> ts;  // samples not yet in a chunk
  std::vector<double> vs;
  std::string bytes;
  std::vector<size_t> ends;
  std::vector<ChunkMeta> chunks;

  void Clear() {
    ts.clear();
    vs.clear();
    bytes.clear();
    ends.clear();
    chunks.clear();
  }
  void Cut() {
    if (ts.empty()) return;
    compression::EncodeChunk(ts, vs, &bytes);
    ends.push_back(bytes.size());
    chunks.push_back({ts.front(), ts.back(), static_cast<uint32_t>(ts.size()), 0, {}});
    ts.clear();
    vs.clear();
  }
  // Views into `bytes`, valid until the next Clear().
  std::span<const ChunkMeta> Finish() {
    Cut();
    size_t begin = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
      chunks[i].data = std::string_view(bytes).substr(begin, ends[i] - begin);
      begin = ends[i];
    }
    return chunks;
  }
};

struct Output {
  std::unique_ptr<BlockWriter> writer;
  SeriesChunks series;
  bool touched = false;
};

}  // namespace

Result<std::vector<BlockMeta>> WriteBlocks(FileSystem* fs, const std::string& parent_dir,
                                           Querier* q, const WriteBlockOptions& options) {
  if (options.min_time >= options.max_time) return Status::InvalidArgument("block range is empty");
  const uint32_t per_chunk = std::clamp<uint32_t>(options.chunk_samples, 1, 240);
  std::map<int64_t, Output> outputs;  // by aligned range start (min_time without splitting)
  auto window_of = [&](int64_t t) {
    return options.split_range_ms > 0 ? std::max(AlignDown(t, options.split_range_ms), options.min_time)
                                      : options.min_time;
  };
  std::unique_ptr<SeriesSet> set = q->Select({});
  std::array<int64_t, 1024> bt;
  std::array<double, 1024> bv;
  while (set->Next()) {
    std::unique_ptr<SampleIterator> it = set->Samples();
    it->Seek(options.min_time);
    Output* cur = nullptr;
    int64_t cur_window = 0, cur_end = INT64_MIN;
    bool done = false;
    for (size_t n; !done && (n = it->Next(bt, bv)) != 0;) {
      for (size_t i = 0; i < n; ++i) {
        const int64_t t = bt[i];
        if (t < options.min_time) continue;
        if (t >= options.max_time) {
          done = true;
          break;
        }
        if (cur == nullptr || t >= cur_end) {
          cur_window = window_of(t);
          cur_end = options.split_range_ms > 0
                        ? std::min(AlignDown(t, options.split_range_ms) + options.split_range_ms,
                                   options.max_time)
                        : options.max_time;
          cur = &outputs[cur_window];
          cur->touched = true;
        }
        cur->series.ts.push_back(t);
        cur->series.vs.push_back(bv[i]);
        if (cur->series.ts.size() == per_chunk) cur->series.Cut();
      }
    }
    VIGIL_RETURN_IF_ERROR(it->status().WithContext("reading series " + set->labels().ToString()));
    for (auto& [window, out] : outputs) {
      if (!out.touched) continue;
      out.touched = false;
      std::span<const ChunkMeta> chunks = out.series.Finish();
      if (out.writer == nullptr) {
        BlockWriterOptions wo;
        wo.clock = options.clock;
        wo.min_time = window;
        wo.max_time = options.split_range_ms > 0
                          ? std::min(AlignDown(window, options.split_range_ms) + options.split_range_ms,
                                     options.max_time)
                          : options.max_time;
        wo.compaction_level = options.compaction_level;
        if (options.compaction_level >= options.compress_from_level) {
          wo.chunk_compression = options.chunk_compression;
          wo.chunk_compression_level = options.chunk_compression_level;
          wo.index_compression = options.chunk_compression;
          wo.index_compression_level = options.chunk_compression_level;
        }
        wo.compaction_sources = options.sources;
        VIGIL_ASSIGN_OR_RETURN(out.writer, BlockWriter::Create(fs, parent_dir, std::move(wo)));
      }
      VIGIL_RETURN_IF_ERROR(out.writer->AddSeries(set->labels(), chunks));
      out.series.Clear();
    }
  }
  VIGIL_RETURN_IF_ERROR(set->status());
  std::vector<BlockMeta> metas;
  for (auto& [window, out] : outputs) {
    VIGIL_ASSIGN_OR_RETURN(BlockMeta meta, out.writer->Finish());
    metas.push_back(std::move(meta));
  }
  return metas;
}

}  // namespace vigil::storage
