// Bit stream micro benchmarks (compression/detail/bit_{writer,reader}.h): 1M fields of mixed widths
// written to a reused buffer, then read back. Counters: items_per_second (fields), bytes_per_second
// (stream bytes). Mixes:
//   gorilla  60% 1-bit, 25% 2..16-bit, 15% 17..64-bit fields (the shape of XOR/dod control + data)
//   wide     uniform 1..64-bit fields

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/compression/chunk_corpus.h"
#include "compression/detail/bit_reader.h"
#include "compression/detail/bit_writer.h"

namespace vigil::bench {

namespace {

using compression::detail::BitReader;
using compression::detail::BitWriter;

constexpr size_t kFields = 1 << 20;

struct Fields {
  std::vector<uint64_t> values;
  std::vector<uint8_t> widths;
  uint64_t bits = 0;
};

// std::mt19937_64 is fully specified by the standard; only its raw output is used.
Fields MakeFields(bool gorilla) {
  std::mt19937_64 rng(7);
  Fields f;
  f.values.resize(kFields);
  f.widths.resize(kFields);
  for (size_t i = 0; i < kFields; ++i) {
    unsigned w;
    if (gorilla) {
      const uint64_t pick = rng() % 100;
      w = pick < 60 ? 1 : pick < 85 ? 2 + rng() % 15 : 17 + rng() % 48;
    } else {
      w = 1 + rng() % 64;
    }
    f.widths[i] = static_cast<uint8_t>(w);
    f.values[i] = rng() & (w == 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1);
    f.bits += w;
  }
  return f;
}

const Fields& GetFields(bool gorilla) {
  static const Fields g = MakeFields(true);
  static const Fields w = MakeFields(false);
  return gorilla ? g : w;
}

void BM_BitWrite(benchmark::State& state, bool gorilla) {
  const Fields& f = GetFields(gorilla);
  std::string out;
  out.reserve(f.bits / 8 + 16);
  for (auto _ : state) {
    out.clear();
    BitWriter w(&out);
    for (size_t i = 0; i < kFields; ++i) w.Write(f.values[i], f.widths[i]);
    w.Finish();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kFields);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}

void BM_BitRead(benchmark::State& state, bool gorilla) {
  const Fields& f = GetFields(gorilla);
  std::string stream;
  BitWriter w(&stream);
  for (size_t i = 0; i < kFields; ++i) w.Write(f.values[i], f.widths[i]);
  w.Finish();
  uint64_t sum = 0;
  bool ok = true;
  for (auto _ : state) {
    BitReader r(stream.data(), stream.size());
    sum = 0;
    for (size_t i = 0; i < kFields; ++i) sum += r.Read64(f.widths[i]);
    ok &= r.ok();
    benchmark::DoNotOptimize(sum);
  }
  uint64_t want = 0;
  for (uint64_t v : f.values) want += v;
  if (!ok || sum != want) {
    state.SkipWithError("bit stream read back different values");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kFields);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

}  // namespace

void RegisterBitstreamBenchmarks() {
  for (bool gorilla : {true, false}) {
    const std::string mix = gorilla ? "gorilla" : "wide";
    benchmark::RegisterBenchmark(("bitstream_write/" + mix).c_str(), BM_BitWrite, gorilla)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("bitstream_read/" + mix).c_str(), BM_BitRead, gorilla)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace vigil::bench
