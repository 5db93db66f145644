// vigil-admin chunk-stats [--chunk N] < samples.csv
//   Reads CSV lines `series_id,timestamp_ms,value` (grouped by series, time-ordered within a
//   series), cuts each series into chunks of N samples (default 120), encodes every chunk with the
//   Gorilla XOR codec and with the adaptive codec, checks that both decode bit-exactly, and prints
//   bytes per sample and the encodings chosen.
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compression/chunk.h"
#include "tools/vigil-admin/command.h"

namespace {

namespace vc = vigil::compression;

struct Totals {
  uint64_t samples = 0;
  uint64_t chunks = 0;
  uint64_t xor_bytes = 0;
  uint64_t adaptive_bytes = 0;
  std::map<int, uint64_t> encodings;
  uint64_t mismatches = 0;
};

bool ParseDouble(std::string_view s, double* out) {
  if (s == "NaN") { *out = std::nan(""); return true; }
  if (s == "+Inf" || s == "Inf") { *out = HUGE_VAL; return true; }
  if (s == "-Inf") { *out = -HUGE_VAL; return true; }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool CheckDecode(const std::string& chunk, const std::vector<int64_t>& ts,
                 const std::vector<double>& vs) {
  vc::ChunkDecoder dec(chunk);
  std::vector<int64_t> dt(1024);
  std::vector<double> dv(1024);
  size_t at = 0;
  while (size_t n = dec.Next(dt, dv)) {
    for (size_t i = 0; i < n; ++i, ++at) {
      if (at >= ts.size() || dt[i] != ts[at] || !SameBits(dv[i], vs[at])) return false;
    }
  }
  return dec.ok() && at == ts.size();
}

void FlushChunk(std::vector<int64_t>& ts, std::vector<double>& vs, Totals& tot) {
  if (ts.empty()) return;
  std::string xor_chunk, adaptive_chunk;
  vc::EncodeChunkAs(vc::Encoding::kXor, ts, vs, &xor_chunk);
  vc::Encoding enc = vc::EncodeChunk(ts, vs, &adaptive_chunk);
  if (!CheckDecode(xor_chunk, ts, vs) || !CheckDecode(adaptive_chunk, ts, vs)) ++tot.mismatches;
  tot.samples += ts.size();
  tot.chunks += 1;
  tot.xor_bytes += xor_chunk.size();
  tot.adaptive_bytes += adaptive_chunk.size();
  tot.encodings[static_cast<int>(enc)] += 1;
  ts.clear();
  vs.clear();
}

int ChunkStats(int argc, char** argv) {
  // argv[0] is "chunk-stats"
  size_t chunk_samples = 120;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
      chunk_samples = std::strtoul(argv[++i], nullptr, 10);
      if (chunk_samples == 0 || chunk_samples > 65535) {
        std::fprintf(stderr, "vigil-admin chunk-stats: --chunk must be in 1..65535\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "vigil-admin chunk-stats: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  Totals tot;
  std::vector<int64_t> ts;
  std::vector<double> vs;
  std::string line, current_id;
  uint64_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::string_view l(line);
    size_t c1 = l.find(','), c2 = c1 == l.npos ? l.npos : l.find(',', c1 + 1);
    int64_t t = 0;
    double v = 0;
    if (c2 == l.npos) {
      if (line_no == 1) continue;  // a header line
      std::fprintf(stderr, "vigil-admin chunk-stats: line %" PRIu64 ": expected id,timestamp_ms,value\n", line_no);
      return 1;
    }
    std::string_view id = l.substr(0, c1), tstr = l.substr(c1 + 1, c2 - c1 - 1), vstr = l.substr(c2 + 1);
    auto [tp, tec] = std::from_chars(tstr.data(), tstr.data() + tstr.size(), t);
    if (tec != std::errc() || tp != tstr.data() + tstr.size() || !ParseDouble(vstr, &v)) {
      if (line_no == 1) continue;
      std::fprintf(stderr, "vigil-admin chunk-stats: line %" PRIu64 ": bad timestamp or value in '%s'\n", line_no, line.c_str());
      return 1;
    }
    if (id != current_id) {
      FlushChunk(ts, vs, tot);
      current_id.assign(id);
    }
    ts.push_back(t);
    vs.push_back(v);
    if (ts.size() == chunk_samples) FlushChunk(ts, vs, tot);
  }
  FlushChunk(ts, vs, tot);
  if (tot.samples == 0) {
    std::fprintf(stderr, "vigil-admin chunk-stats: no samples on standard input\n");
    return 1;
  }
  std::printf("samples            %" PRIu64 "\n", tot.samples);
  std::printf("chunks             %" PRIu64 " (up to %zu samples each)\n", tot.chunks, chunk_samples);
  std::printf("xor bytes/sample   %.3f\n", double(tot.xor_bytes) / tot.samples);
  std::printf("adaptive bytes/sample %.3f (%.2f x xor)\n", double(tot.adaptive_bytes) / tot.samples,
              double(tot.adaptive_bytes) / tot.xor_bytes);
  static const char* kNames[] = {"?", "xor", "constant", "int-dod", "decimal", "xor-columnar"};
  for (auto [enc, n] : tot.encodings) {
    const char* name = enc >= 0 && enc < 6 ? kNames[enc] : "other";
    std::printf("  encoding %-12s %" PRIu64 " chunks (%d)\n", name, n, enc);
  }
  if (tot.mismatches != 0) {
    std::printf("ROUND-TRIP FAILURES  %" PRIu64 " chunks\n", tot.mismatches);
    return 1;
  }
  std::printf("round trip         every chunk decoded bit-exactly\n");
  return 0;
}


const vigil::admin::CommandRegistration kChunkStats{
    "chunk-stats",
    "chunk-stats [--chunk N] < samples.csv\n"
    "    encode CSV `series_id,timestamp_ms,value` with Gorilla and adaptive chunks; bytes/sample",
    &ChunkStats};

}  // namespace
