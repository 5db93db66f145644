// libFuzzer entry point for remote-write decoding (clang only; see
// server/docs/protocols/fuzzing.md).
//
// The input is read three ways: as a 1.0 and a 2.0 protobuf body, and as a snappy block. Properties:
// no crash or sanitizer report; a body that decodes re-encodes (RemoteWriteEncoder) to a body that
// decodes to the same series, labels and sample bits; IngestRemoteWriteProto into a real Db never
// reports a storage fault and writes nothing when decoding failed; ingest with a SeriesRefCache
// (whose 1.0 fast path appends known series by their raw label bytes) and without one give the
// same outcome, the body written twice so that its series are known the second time.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/ingest/ingest.h"
#include "server/ingest/remote_write_decode.h"
#include "server/ingest/remote_write_encode.h"
#include "server/ingest/series_cache.h"
#include "storage/base/clock.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"

namespace {

using vigil::server::ingest::DecodedSeries;
using vigil::server::ingest::RemoteWriteSample;
using vigil::server::ingest::RemoteWriteVersion;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

struct OwnedSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<int64_t, uint64_t>> samples;
  uint32_t exemplars, histograms;
  bool operator==(const OwnedSeries&) const = default;
};

class Collect final : public vigil::server::ingest::RemoteWriteHandler {
 public:
  void OnSeries(const DecodedSeries& s) override {
    OwnedSeries o;
    for (const auto& l : s.labels) o.labels.emplace_back(l.name, l.value);
    for (const auto& x : s.samples) {
      uint64_t bits;
      std::memcpy(&bits, &x.v, 8);
      o.samples.emplace_back(x.t, bits);
    }
    o.exemplars = s.exemplars;
    o.histograms = s.histograms;
    series.push_back(std::move(o));
  }
  std::vector<OwnedSeries> series;
};

struct Env {
  vigil::ManualClock clock{1'700'000'000'000};
  // db: every ingest; cached / plain: the cached-vs-uncached comparison (kept in step).
  std::unique_ptr<vigil::MemFileSystem> fs, fs_cached, fs_plain;
  std::unique_ptr<vigil::storage::Db> db, cached, plain;
  std::unique_ptr<vigil::server::ingest::SeriesRefCache> cache;
  int uses = 0;
  std::unique_ptr<vigil::storage::Db> Open(std::unique_ptr<vigil::MemFileSystem>* fs_out) {
    *fs_out = vigil::NewMemFileSystem();
    vigil::storage::DbOptions o;
    o.fs = fs_out->get();
    o.clock = &clock;
    o.wal_sync = vigil::storage::WalSyncPolicy::kNever;
    auto r = vigil::storage::Db::Open(o, "/data");
    if (!r.ok()) Die("Db::Open failed");
    return std::move(*r);
  }
  void Reopen() {
    db.reset();
    cached.reset();
    plain.reset();
    db = Open(&fs);
    cached = Open(&fs_cached);
    plain = Open(&fs_plain);
    cache = std::make_unique<vigil::server::ingest::SeriesRefCache>();
    uses = 0;
  }
};

void CheckVersion(std::string_view proto, RemoteWriteVersion v, Env& env) {
  vigil::server::ingest::RemoteWriteScratch scratch;
  Collect first;
  const vigil::Status st = vigil::server::ingest::DecodeRemoteWrite(proto, v, first, &scratch);
  if (st.ok()) {
    vigil::server::ingest::RemoteWriteEncoder enc(v);
    for (const OwnedSeries& s : first.series) {
      std::vector<vigil::storage::Label> ls;
      for (const auto& [n, val] : s.labels) ls.push_back({n, val});
      std::vector<RemoteWriteSample> xs;
      for (const auto& [t, bits] : s.samples) {
        double d;
        std::memcpy(&d, &bits, 8);
        xs.push_back({t, d});
      }
      enc.AddSeries(ls, xs, {.exemplars = s.exemplars, .histograms = s.histograms});
    }
    Collect second;
    vigil::server::ingest::RemoteWriteScratch scratch2;
    const std::string again = enc.Proto();
    if (!vigil::server::ingest::DecodeRemoteWrite(again, v, second, &scratch2).ok()) {
      Die("re-encoded body does not decode");
    }
    if (second.series != first.series) Die("re-encoded body decodes differently");
  } else if (st.message().empty()) {
    Die("error without message");
  }
  vigil::server::ingest::IngestOptions opts;
  opts.clock = &env.clock;
  const auto out = vigil::server::ingest::IngestRemoteWriteProto(*env.db, proto, v, opts);
  if (!st.ok() && out.samples_written != 0) Die("samples written from a body that failed to decode");
  if (out.code == vigil::server::ingest::IngestCode::kStorageFault ||
      out.code == vigil::server::ingest::IngestCode::kUnavailable) {
    Die("storage fault on a healthy Db");
  }
  vigil::server::ingest::IngestOptions with_cache = opts;
  with_cache.series_cache = env.cache.get();
  for (int pass = 0; pass < 2; ++pass) {
    const auto a = vigil::server::ingest::IngestRemoteWriteProto(*env.cached, proto, v, with_cache);
    const auto b = vigil::server::ingest::IngestRemoteWriteProto(*env.plain, proto, v, opts);
    if (a.code != b.code || a.message != b.message || a.samples_written != b.samples_written ||
        a.rejected != b.rejected || a.exemplars_skipped != b.exemplars_skipped ||
        a.series_seen != b.series_seen) {
      std::fprintf(stderr, "cached: %d %s\nuncached: %d %s\n", static_cast<int>(a.code),
                   a.message.c_str(), static_cast<int>(b.code), b.message.c_str());
      Die("ingest with and without the series cache differ");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static Env env;
  if (env.db == nullptr || ++env.uses > 2000) env.Reopen();
  CheckVersion(input, RemoteWriteVersion::k1, env);
  CheckVersion(input, RemoteWriteVersion::k2, env);
  vigil::server::ingest::IngestOptions opts;
  opts.clock = &env.clock;
  opts.max_decoded_bytes = 1 << 20;
  vigil::server::ingest::IngestRemoteWrite(*env.db, input, RemoteWriteVersion::k1, opts);
  return 0;
}
