// libFuzzer entry point for the Influx line protocol (clang only; see
// server/docs/protocols/fuzzing.md).
//
// Properties checked on every input: no crash or sanitizer report; the parser terminates with
// line numbers that never decrease; every parsed line has a measurement and at least one field;
// IngestLineProtocol into a real Db (in-memory file system) accounts for every line (written or
// rejected) and never answers with a storage fault.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "storage/base/clock.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  using vigil::server::ingest::LineProtocolParser;
  LineProtocolParser parser(body, 256);
  size_t last_line = 0, lines = 0, numeric_fields = 0;
  while (true) {
    const auto ev = parser.Next();
    if (ev == LineProtocolParser::Event::kEnd) break;
    ++lines;
    const size_t n = ev == LineProtocolParser::Event::kLine ? parser.line().line_number
                                                            : parser.error().line_number;
    if (n <= last_line) Die("line numbers must increase");
    last_line = n;
    if (ev == LineProtocolParser::Event::kLine) {
      if (parser.line().measurement.empty()) Die("empty measurement");
      if (parser.line().fields.empty()) Die("no fields");
      for (const auto& f : parser.line().fields) {
        if (f.key.empty()) Die("empty field key");
        if (f.kind != vigil::server::ingest::FieldKind::kString) ++numeric_fields;
      }
    } else if (parser.error().message.empty() || parser.error().column == 0) {
      Die("error without message or column");
    }
    if (lines > size + 1) Die("more lines than bytes");
  }

  static Env env;
  if (env.db == nullptr || ++env.uses > 2000) env.Reopen();
  vigil::server::ingest::IngestOptions opts;
  opts.clock = &env.clock;
  opts.max_line_bytes = 256;
  const auto out = vigil::server::ingest::IngestLineProtocol(
      *env.db, body, vigil::server::ingest::Precision::kNanoseconds, opts);
  if (out.series_seen != lines) Die("every line is seen once");
  if (out.samples_written > numeric_fields) Die("more samples written than numeric fields");
  if (out.code == vigil::server::ingest::IngestCode::kStorageFault ||
      out.code == vigil::server::ingest::IngestCode::kUnavailable) {
    Die("storage fault on a healthy Db");
  }
  if ((out.code == vigil::server::ingest::IngestCode::kOk) != out.message.empty()) {
    Die("a message exactly when not ok");
  }
  return 0;
}
