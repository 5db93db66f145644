// libFuzzer entry point for remote-write decoding (clang only; see
// server/docs/protocols/fuzzing.md).
//
// The input is read three ways: as a 1.0 and a 2.0 protobuf body, and as a snappy block. Properties:
// no crash or sanitizer report; a body that decodes re-encodes (RemoteWriteEncoder) to a body that
// decodes to the same series, labels and sample bits; IngestRemoteWriteProto into a real Db never
// reports a storage fault and writes nothing when decoding failed.

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
  std::unique_ptr<vigil::MemFileSystem> fs;
  vigil::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<vigil::storage::Db> db;
  int uses = 0;
  void Reopen() {
    db.reset();
    fs = vigil::NewMemFileSystem();
    vigil::storage::DbOptions o;
    o.fs = fs.get();
    o.clock = &clock;
    o.wal_sync = vigil::storage::WalSyncPolicy::kNever;
    auto r = vigil::storage::Db::Open(o, "/data");
    if (!r.ok()) Die("Db::Open failed");
    db = std::move(*r);
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
