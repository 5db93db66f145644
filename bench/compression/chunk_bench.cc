// Chunk codec benchmarks: XOR (Gorilla) alone vs the adaptive encoder, on each dataset cut into
// 120-sample chunks. Counters:
//   bytes_per_sample  encoded bytes / samples (chunk encoding byte and headers included)
//   time_per_sample   CPU seconds per sample (printed with an SI prefix: 3.1n = 3.1 ns)
//   items_per_second  samples per second

#include <benchmark/benchmark.h>

#include <span>
#include <string>
#include <vector>

#include "bench/compression/chunk_corpus.h"
#include "compression/chunk.h"

namespace vigil::bench {

namespace {

using compression::ChunkDecoder;
using compression::Encoding;

// Returns nullptr (after SkipWithError) if the corpus or its encoded form is unusable. A missing
// dataset is an error on purpose: a silently skipped row would read as "no regression".
const EncodedChunks* Prepare(benchmark::State& state, const Corpus& c, bool adaptive) {
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return nullptr;
  }
  const EncodedChunks& e = GetEncoded(c, adaptive);
  if (!e.error.empty()) {
    state.SkipWithError(e.error.c_str());
    return nullptr;
  }
  return &e;
}

void SetCounters(benchmark::State& state, const Corpus& c, size_t bytes) {
  const double samples = static_cast<double>(c.samples);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(c.samples));
  state.counters["bytes_per_sample"] = benchmark::Counter(static_cast<double>(bytes) / samples);
  state.counters["time_per_sample"] = benchmark::Counter(
      samples, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_ChunkEncode(benchmark::State& state, const char* dataset, bool adaptive) {
  const Corpus& c = GetCorpus(dataset);
  const EncodedChunks* e = Prepare(state, c, adaptive);
  if (e == nullptr) return;
  std::string out;
  out.reserve(e->bytes.size() + 4096);
  for (auto _ : state) {
    out.clear();
    for (const ChunkRef& r : c.chunks) {
      const Series& s = c.data.series[r.series];
      std::span<const int64_t> ts(s.ts.data() + r.begin, r.len);
      std::span<const double> vs(s.vs.data() + r.begin, r.len);
      if (adaptive) {
        benchmark::DoNotOptimize(compression::EncodeChunk(ts, vs, &out));
      } else {
        benchmark::DoNotOptimize(compression::EncodeChunkAs(Encoding::kXor, ts, vs, &out));
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, c, out.size());
  if (adaptive) state.SetLabel(EncodingMix(*e));
}

void BM_ChunkDecode(benchmark::State& state, const char* dataset, bool adaptive) {
  const Corpus& c = GetCorpus(dataset);
  const EncodedChunks* e = Prepare(state, c, adaptive);
  if (e == nullptr) return;
  std::vector<int64_t> ts(kDecodeSpan);
  std::vector<double> vs(kDecodeSpan);
  const std::string_view bytes = e->bytes;
  bool ok = true;
  size_t decoded = 0;
  for (auto _ : state) {
    decoded = 0;
    uint32_t begin = 0;
    for (uint32_t end : e->ends) {
      ChunkDecoder dec(bytes.substr(begin, end - begin));
      begin = end;
      size_t n;
      while ((n = dec.Next(ts, vs)) > 0) {
        decoded += n;
        benchmark::DoNotOptimize(ts.data());
        benchmark::DoNotOptimize(vs.data());
        benchmark::ClobberMemory();
      }
      ok &= dec.ok();
    }
  }
  if (!ok || decoded != c.samples) {
    state.SkipWithError("decode failed or returned a different number of samples");
    return;
  }
  SetCounters(state, c, e->bytes.size());
  if (adaptive) state.SetLabel(EncodingMix(*e));
}

}  // namespace

void RegisterChunkBenchmarks() {
  for (const char* ds : kDatasetNames) {
    for (bool adaptive : {false, true}) {
      const std::string suffix = std::string(adaptive ? "adaptive/" : "xor/") + ds;
      benchmark::RegisterBenchmark(("chunk_encode/" + suffix).c_str(), BM_ChunkEncode, ds,
                                   adaptive)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("chunk_decode/" + suffix).c_str(), BM_ChunkDecode, ds,
                                   adaptive)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace vigil::bench
