// libFuzzer entry point for the Influx line protocol (clang only; see
// server/docs/protocols/fuzzing.md).
//
// Properties checked on every input: no crash or sanitizer report; the parser terminates with
// line numbers that never decrease; every parsed line has a measurement and at least one field;
// IngestLineProtocol into a real Db (in-memory file system) accounts for every line (written or
// rejected) and never answers with a storage fault; a parser with deferred tags (the path of
// IngestLineProtocol with a SeriesRefCache) reports every line and error exactly as the eager one;
// ingest with a SeriesRefCache (a second time, so that series hit) agrees with ingest without.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "server/ingest/series_cache.h"
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
  LineProtocolParser deferred(body, 256);
  deferred.set_defer_tags(true);
  size_t last_line = 0, lines = 0, numeric_fields = 0;
  while (true) {
    const auto ev = parser.Next();
    auto dev = deferred.Next();
    if (dev == LineProtocolParser::Event::kLine && !deferred.ParseTags()) {
      dev = LineProtocolParser::Event::kError;
    }
    if (dev != ev) Die("deferred tags: another event");
    if (ev == LineProtocolParser::Event::kError &&
        deferred.error().ToString() != parser.error().ToString()) {
      Die("deferred tags: another error");
    }
    if (ev == LineProtocolParser::Event::kLine) {
      const auto& a = parser.line();
      const auto& b = deferred.line();
      bool same = a.line_number == b.line_number && a.series_key == b.series_key &&
                  a.measurement == b.measurement && a.tags.size() == b.tags.size() &&
                  a.fields.size() == b.fields.size() && a.has_timestamp == b.has_timestamp &&
                  a.timestamp == b.timestamp;
      for (size_t i = 0; same && i < a.tags.size(); ++i) {
        same = a.tags[i].key == b.tags[i].key && a.tags[i].value == b.tags[i].value;
      }
      for (size_t i = 0; same && i < a.fields.size(); ++i) {
        same = a.fields[i].key == b.fields[i].key && a.fields[i].kind == b.fields[i].kind &&
               a.fields[i].text == b.fields[i].text &&
               (a.fields[i].value == b.fields[i].value ||
                (a.fields[i].value != a.fields[i].value && b.fields[i].value != b.fields[i].value));
      }
      if (!same) Die("deferred tags: another line");
    }
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

  // The series cache: two fresh Dbs, one with a cache (the body twice: the second time hits),
  // one without; the second outcomes must agree.
  static Env with, without;
  with.Reopen();
  without.Reopen();
  vigil::server::ingest::SeriesRefCache cache;
  vigil::server::ingest::IngestOptions cached = opts;
  cached.series_cache = &cache;
  vigil::server::ingest::IngestOutcome a, b;
  for (int pass = 0; pass < 2; ++pass) {
    a = vigil::server::ingest::IngestLineProtocol(
        *with.db, body, vigil::server::ingest::Precision::kNanoseconds, cached);
    b = vigil::server::ingest::IngestLineProtocol(
        *without.db, body, vigil::server::ingest::Precision::kNanoseconds, opts);
    if (a.code != b.code || a.message != b.message || a.samples_written != b.samples_written ||
        a.rejected != b.rejected) {
      Die("ingest with the series cache differs from ingest without");
    }
  }
  return 0;
}
