#include "bench/compression/chunk_corpus.h"

#include <bit>
#include <map>
#include <memory>
#include <span>

#include "compression/chunk.h"

namespace vigil::bench {

namespace {

using compression::ChunkDecoder;
using compression::Encoding;

Dataset MakeDataset(std::string_view name, std::string* error) {
  if (name == "real-scrape") {
    Dataset d;
    if (!LoadRealScrape(DatasetsDir(), &d, error)) {
      *error = "real-scrape dataset unavailable (set VIGIL_DATASETS to the datasets root): " + *error;
    }
    return d;
  }
  if (name == "tsbs-cpu") return TsbsCpu({});
  if (name == "random64") return Random64({});
  *error = "unknown dataset " + std::string(name);
  return {};
}

std::string Where(const Corpus& c, size_t chunk) {
  const ChunkRef& r = c.chunks[chunk];
  return c.name + " chunk " + std::to_string(chunk) + " (series '" + c.data.series[r.series].name +
         "' samples " + std::to_string(r.begin) + ".." + std::to_string(r.begin + r.len) + ")";
}

// Decodes every chunk and compares timestamps and value bits with the input.
std::string Verify(const Corpus& c, const EncodedChunks& e) {
  std::vector<int64_t> ts(kDecodeSpan);
  std::vector<double> vs(kDecodeSpan);
  uint32_t begin = 0;
  for (size_t i = 0; i < c.chunks.size(); ++i) {
    const ChunkRef& r = c.chunks[i];
    const Series& s = c.data.series[r.series];
    ChunkDecoder dec(std::string_view(e.bytes).substr(begin, e.ends[i] - begin));
    begin = e.ends[i];
    size_t got = 0;
    size_t n;
    while ((n = dec.Next(ts, vs)) > 0) {
      for (size_t k = 0; k < n; ++k, ++got) {
        if (got >= r.len) return "decoded too many samples in " + Where(c, i);
        if (ts[k] != s.ts[r.begin + got] ||
            std::bit_cast<uint64_t>(vs[k]) != std::bit_cast<uint64_t>(s.vs[r.begin + got])) {
          return "round trip mismatch at sample " + std::to_string(got) + " of " + Where(c, i);
        }
      }
    }
    if (!dec.ok()) return "decoder error in " + Where(c, i);
    if (got != r.len) return "decoded too few samples in " + Where(c, i);
  }
  return {};
}

}  // namespace

const Corpus& GetCorpus(std::string_view name) {
  static std::map<std::string, std::unique_ptr<Corpus>, std::less<>> cache;
  if (auto it = cache.find(name); it != cache.end()) return *it->second;
  auto c = std::make_unique<Corpus>();
  c->name = std::string(name);
  c->data = MakeDataset(name, &c->error);
  for (uint32_t si = 0; si < c->data.series.size(); ++si) {
    const uint32_t n = static_cast<uint32_t>(c->data.series[si].ts.size());
    for (uint32_t b = 0; b < n; b += kChunkSamples) {
      c->chunks.push_back({si, b, std::min<uint32_t>(kChunkSamples, n - b)});
    }
    c->samples += n;
  }
  if (c->error.empty() && c->samples == 0) c->error = c->name + ": no samples";
  return *cache.emplace(std::string(name), std::move(c)).first->second;
}

const EncodedChunks& GetEncoded(const Corpus& c, bool adaptive) {
  static std::map<std::pair<const Corpus*, bool>, std::unique_ptr<EncodedChunks>> cache;
  auto key = std::make_pair(&c, adaptive);
  if (auto it = cache.find(key); it != cache.end()) return *it->second;
  auto e = std::make_unique<EncodedChunks>();
  e->ends.reserve(c.chunks.size());
  for (const ChunkRef& r : c.chunks) {
    const Series& s = c.data.series[r.series];
    std::span<const int64_t> ts(s.ts.data() + r.begin, r.len);
    std::span<const double> vs(s.vs.data() + r.begin, r.len);
    const Encoding enc = adaptive ? compression::EncodeChunk(ts, vs, &e->bytes)
                                  : compression::EncodeChunkAs(Encoding::kXor, ts, vs, &e->bytes);
    ++e->encodings[static_cast<uint8_t>(enc)];
    e->ends.push_back(static_cast<uint32_t>(e->bytes.size()));
  }
  e->error = Verify(c, *e);
  if (!e->error.empty()) e->error = std::string(adaptive ? "adaptive: " : "xor: ") + e->error;
  return *cache.emplace(key, std::move(e)).first->second;
}

std::string EncodingMix(const EncodedChunks& e) {
  size_t total = 0;
  for (uint32_t n : e.encodings) total += n;
  std::string out;
  for (size_t b = 0; b < e.encodings.size(); ++b) {
    if (e.encodings[b] == 0) continue;
    // By on-disk value, so encodings added later print as "enc<N>" until named here.
    const char* name = nullptr;
    switch (b) {
      case 1: name = "xor"; break;
      case 2: name = "const"; break;
      case 3: name = "int-dod"; break;
      case 4: name = "decimal"; break;
      case 5: name = "xor-columnar"; break;
      default: break;
    }
    if (!out.empty()) out += ", ";
    out += name != nullptr ? std::string(name) : "enc" + std::to_string(b);
    out += " " + std::to_string((e.encodings[b] * 1000 / total + 5) / 10) + "%";
  }
  return out;
}

}  // namespace vigil::bench
