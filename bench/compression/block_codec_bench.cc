// Block codec benchmarks: LZ4 / zstd over a buffer of concatenated chunks (real-scrape, XOR and
// adaptive), the way a cold block would add them on top. Counters:
//   bytes_per_second  uncompressed bytes per second (MB/s of input or output)
//   ratio             uncompressed / framed compressed size
//   bytes_per_sample  framed compressed size / samples (compare with the chunk benchmarks)

#include <benchmark/benchmark.h>

#include <string>

#include "bench/compression/chunk_corpus.h"
#include "compression/block_codec.h"

namespace vigil::bench {

namespace {

using compression::BlockCodec;

struct CodecSetting {
  const char* name;
  BlockCodec codec;
  int level;
};

constexpr CodecSetting kSettings[] = {
    {"lz4", BlockCodec::kLz4, 0},
    {"lz4hc-9", BlockCodec::kLz4, 9},
    {"zstd-1", BlockCodec::kZstd, 1},
    {"zstd-3", BlockCodec::kZstd, 3},
    {"zstd-9", BlockCodec::kZstd, 9},
};

const EncodedChunks* Input(benchmark::State& state, bool adaptive, size_t* samples) {
  const Corpus& c = GetCorpus("real-scrape");
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return nullptr;
  }
  const EncodedChunks& e = GetEncoded(c, adaptive);
  if (!e.error.empty()) {
    state.SkipWithError(e.error.c_str());
    return nullptr;
  }
  *samples = c.samples;
  return &e;
}

void SetCounters(benchmark::State& state, size_t raw, size_t framed, size_t samples) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(raw));
  state.counters["ratio"] = static_cast<double>(raw) / static_cast<double>(framed);
  state.counters["bytes_per_sample"] =
      static_cast<double>(framed) / static_cast<double>(samples);
}

void BM_BlockCompress(benchmark::State& state, CodecSetting setting, bool adaptive) {
  size_t samples = 0;
  const EncodedChunks* e = Input(state, adaptive, &samples);
  if (e == nullptr) return;
  std::string out;
  for (auto _ : state) {
    out.clear();
    if (!compression::CompressBlock(setting.codec, e->bytes, setting.level, &out).ok()) {
      state.SkipWithError("CompressBlock failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, e->bytes.size(), out.size(), samples);
}

void BM_BlockDecompress(benchmark::State& state, CodecSetting setting, bool adaptive) {
  size_t samples = 0;
  const EncodedChunks* e = Input(state, adaptive, &samples);
  if (e == nullptr) return;
  std::string framed;
  if (!compression::CompressBlock(setting.codec, e->bytes, setting.level, &framed).ok()) {
    state.SkipWithError("CompressBlock failed");
    return;
  }
  std::string out;
  out.reserve(e->bytes.size());
  for (auto _ : state) {
    out.clear();
    compression::BlockStatus s = compression::DecompressBlock(framed, &out);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (out != e->bytes) {
    state.SkipWithError("block round trip mismatch");
    return;
  }
  SetCounters(state, e->bytes.size(), framed.size(), samples);
}

}  // namespace

void RegisterBlockBenchmarks() {
  for (bool adaptive : {false, true}) {
    const std::string input = adaptive ? "real-scrape-adaptive" : "real-scrape-xor";
    for (const CodecSetting& s : kSettings) {
      const std::string suffix = std::string(s.name) + "/" + input;
      benchmark::RegisterBenchmark(("block_compress/" + suffix).c_str(), BM_BlockCompress, s,
                                   adaptive)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("block_decompress/" + suffix).c_str(), BM_BlockDecompress, s,
                                   adaptive)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace vigil::bench
