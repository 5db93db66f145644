#pragma once

// Helpers for the block tests: building series with real chunks, writing blocks, reading back.

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compression/chunk.h"
#include "storage/base/file_system.h"
#include "storage/block/block_querier.h"
#include "storage/block/block_reader.h"
#include "storage/block/block_writer.h"
#include "storage/labels.h"

namespace vigil::storage::testing {

struct Sample {
  int64_t t;
  double v;
};

inline uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}
inline double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, 8);
  return v;
}

// Bit-exact sample equality (NaN payloads and -0.0 included).
inline bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t || Bits(a[i].v) != Bits(b[i].v)) return false;
  }
  return true;
}

// A series to write: labels and its samples, cut into chunks of `per_chunk`.
struct TestSeries {
  Labels labels;
  std::vector<Sample> samples;
};

// Encoded chunks of `s` (at most per_chunk samples each) and their metas viewing `storage`.
inline std::vector<ChunkMeta> MakeChunks(const std::vector<Sample>& s, size_t per_chunk,
                                         std::vector<std::string>* storage,
                                         compression::Encoding enc = compression::Encoding::kXor) {
  std::vector<ChunkMeta> metas;
  storage->reserve(storage->size() + s.size() / per_chunk + 1);
  for (size_t i = 0; i < s.size(); i += per_chunk) {
    const size_t n = std::min(per_chunk, s.size() - i);
    std::vector<int64_t> ts(n);
    std::vector<double> vs(n);
    for (size_t j = 0; j < n; ++j) {
      ts[j] = s[i + j].t;
      vs[j] = s[i + j].v;
    }
    storage->emplace_back();
    compression::EncodeChunkAs(enc, ts, vs, &storage->back());
    metas.push_back({ts.front(), ts.back(), static_cast<uint32_t>(n), 0, {}});
  }
  // Views are taken after all strings exist (reserve() above keeps them in place).
  for (size_t k = 0; k < metas.size(); ++k) metas[k].data = (*storage)[storage->size() - metas.size() + k];
  return metas;
}

// Writes `series` (REQUIRES: sorted by labels) as a block under `parent`.
inline Result<BlockMeta> WriteTestBlock(FileSystem* fs, const std::string& parent, const std::vector<TestSeries>& series,
                                        BlockWriterOptions options, size_t per_chunk = 120) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<BlockWriter> w, BlockWriter::Create(fs, parent, std::move(options)));
  for (const TestSeries& s : series) {
    std::vector<std::string> storage;
    std::vector<ChunkMeta> metas = MakeChunks(s.samples, per_chunk, &storage);
    VIGIL_RETURN_IF_ERROR(w->AddSeries(s.labels, metas));
  }
  return w->Finish();
}

// Every series Select() returns with all its samples, keyed by Labels::ToString().
inline std::map<std::string, std::vector<Sample>> ReadAll(Querier* q, std::span<const Matcher> matchers,
                                                          Status* status = nullptr, size_t batch = 64) {
  std::map<std::string, std::vector<Sample>> out;
  auto set = q->Select(matchers);
  std::vector<int64_t> ts(batch);
  std::vector<double> vs(batch);
  Status st;
  while (set->Next()) {
    auto& dst = out[set->labels().ToString()];
    auto it = set->Samples();
    for (size_t n; (n = it->Next(ts, vs)) > 0;) {
      for (size_t i = 0; i < n; ++i) dst.push_back({ts[i], vs[i]});
    }
    if (!it->status().ok() && st.ok()) st = it->status();
  }
  if (!set->status().ok() && st.ok()) st = set->status();
  if (status != nullptr) *status = st;
  return out;
}

inline Matcher M(MatchType type, std::string_view name, std::string_view value) {
  return Matcher::Make(type, name, value).value();
}

inline BlockWriterOptions FixedOptions(std::string id = "01HZZZZZZZZZZZZZZZZZZZZZZZ") {
  BlockWriterOptions o;
  o.id = std::move(id);
  return o;
}

}  // namespace vigil::storage::testing
