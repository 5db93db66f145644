#pragma once

// The inputs of the compression benchmarks: each dataset of bench/data cut into chunks of
// kChunkSamples samples (the last chunk of a series may be shorter), and the same chunks encoded
// once as XOR and once adaptively, with a bit-exact round-trip check before anything is timed.
// Everything is built on first use and cached for the life of the process (single-threaded).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/data/datasets.h"

namespace vigil::bench {

inline constexpr size_t kChunkSamples = 120;
inline constexpr size_t kDecodeSpan = 1024;

inline constexpr const char* kDatasetNames[] = {"real-scrape", "tsbs-cpu", "random64"};

struct ChunkRef {
  uint32_t series;
  uint32_t begin;
  uint32_t len;
};

struct Corpus {
  std::string name;
  std::string error;  // non-empty: unusable, every benchmark on it must SkipWithError(error)
  Dataset data;
  std::vector<ChunkRef> chunks;
  size_t samples = 0;
};

// Chunks of one corpus encoded one way, concatenated.
struct EncodedChunks {
  std::string error;  // non-empty: encoding or the round-trip check failed
  std::string bytes;
  std::vector<uint32_t> ends;                // end offset of each chunk in `bytes`
  std::array<uint32_t, 256> encodings = {};  // chunks per encoding byte
};

// `name` is one of kDatasetNames.
const Corpus& GetCorpus(std::string_view name);
const EncodedChunks& GetEncoded(const Corpus& corpus, bool adaptive);

// "const 41%, xor 12%, ..." from EncodedChunks::encodings.
std::string EncodingMix(const EncodedChunks& enc);

// Registration, called from main before the run (bench_main.cc).
void RegisterChunkBenchmarks();
void RegisterBlockBenchmarks();
void RegisterBitstreamBenchmarks();

}  // namespace vigil::bench
