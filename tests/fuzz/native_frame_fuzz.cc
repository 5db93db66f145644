// libFuzzer entry point for native-protocol frames (clang only; see
// server/docs/protocols/fuzzing.md).
//
// The input is a frame payload; the harness puts the length prefix in front (as the server's
// reader does) into an 8-byte aligned buffer. Properties: no crash or sanitizer report (the
// FlatBuffers verifier must reject everything the accessors could misread); a verified WriteBatch
// is written into a real Db with an outcome that accounts for every sample and never reports a
// storage fault; the raw input read as a whole frame is either rejected or verified the same way;
// a verified Hello gets the server's handshake decision (DecideHello) without and with a token
// file, and that decision is consistent: Ok exactly when there is no message, a version only
// when Ok and inside both ranges, and with the token file Ok only for a token carrying the write
// scope.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth/auth.h"
#include "server/ingest/ingest.h"
#include "server/native/handshake.h"
#include "server/native/native_ingest.h"
#include "server/native/protocol.h"
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

// The token file the handshake is decided against: one token per scope; the write token is the
// one in the golden Hello (a seed), so the accepting path is reached from the start.
constexpr char kReadToken[] = "rrrrrrrrrrrrrrrrrrrr";
constexpr char kWriteToken[] = "9e2b7c5a1d3f4e6b8a0c2d4f";
constexpr char kAdminToken[] = "aaaaaaaaaaaaaaaaaaaa";

const vigil::server::Authenticator& Tokens() {
  static const vigil::server::Authenticator* auth = [] {
    auto a = vigil::server::Authenticator::Parse(
        "reader read rrrrrrrrrrrrrrrrrrrr\nwriter write 9e2b7c5a1d3f4e6b8a0c2d4f\n"
        "ops admin aaaaaaaaaaaaaaaaaaaa\n");
    if (!a.ok()) Die("token file does not parse");
    return new vigil::server::Authenticator(std::move(*a));
  }();
  return *auth;
}

void CheckHello(const vigil::native::fb::Hello& h) {
  using vigil::native::fb::BatchStatus;
  if (h.client() != nullptr) (void)h.client()->str();
  const std::string token = h.token() != nullptr ? h.token()->str() : std::string();
  const bool overlap = std::max<uint16_t>(h.min_version(), vigil::native::kMinProtocolVersion) <=
                       std::min<uint16_t>(h.max_version(), vigil::native::kProtocolVersion);
  for (const vigil::server::Authenticator* auth :
       {static_cast<const vigil::server::Authenticator*>(nullptr), &Tokens()}) {
    const vigil::native::HelloDecision d = vigil::native::DecideHello(h, auth);
    const bool ok = d.status == BatchStatus::Ok;
    if (ok != d.message.empty()) Die("handshake: a message exactly when refused");
    if (ok != (d.version != 0)) Die("handshake: a version exactly when accepted");
    if (ok && (d.version < h.min_version() || d.version > h.max_version() ||
               d.version < vigil::native::kMinProtocolVersion ||
               d.version > vigil::native::kProtocolVersion)) {
      Die("handshake: chosen version outside a range");
    }
    if (!overlap && d.status != BatchStatus::VersionMismatch) Die("handshake: versions first");
    if (overlap && auth == nullptr && !ok) Die("handshake: refused without a token file");
    if (overlap && auth != nullptr) {
      const bool may_write = token == kWriteToken || token == kAdminToken;
      if (ok != may_write) Die("handshake: accepted exactly the write and admin tokens");
      if (token == kReadToken && d.status != BatchStatus::Forbidden) Die("handshake: read -> 403");
      if (!may_write && token != kReadToken && d.status != BatchStatus::Unauthenticated) {
        Die("handshake: unknown or missing token -> 401");
      }
    }
  }
}

void Check(std::string_view frame, Env& env) {
  auto f = vigil::native::VerifyFrame(frame);
  if (!f.ok()) {
    if (f.status().message().empty()) Die("error without message");
    return;
  }
  const vigil::native::fb::Frame* fr = *f;
  switch (fr->message_type()) {
    case vigil::native::fb::Message::WriteBatch: {
      const auto* b = fr->message_as_WriteBatch();
      uint64_t samples = 0;
      if (b->series() != nullptr) {
        for (const auto* s : *b->series()) {
          const size_t nt = s->timestamps() ? s->timestamps()->size() : 0;
          const size_t nv = s->values() ? s->values()->size() : 0;
          samples += nt > nv ? nt : nv;
          if (s->labels() != nullptr) {
            for (const auto* l : *s->labels()) {
              if (l->name() == nullptr || l->value() == nullptr) Die("required field missing");
            }
          }
        }
      }
      vigil::server::ingest::IngestOptions opts;
      opts.clock = &env.clock;
      const auto out = vigil::native::IngestNativeBatch(*env.db, *b, opts);
      if (out.samples_written + out.samples_rejected() > samples) Die("more samples than sent");
      if (out.code == vigil::server::ingest::IngestCode::kStorageFault ||
          out.code == vigil::server::ingest::IngestCode::kUnavailable) {
        Die("storage fault on a healthy Db");
      }
      break;
    }
    case vigil::native::fb::Message::Hello: {
      CheckHello(*fr->message_as_Hello());
      break;
    }
    case vigil::native::fb::Message::Ack: {
      const auto* a = fr->message_as_Ack();
      if (a->message() != nullptr) (void)a->message()->str();
      break;
    }
    case vigil::native::fb::Message::HelloAck: {
      const auto* a = fr->message_as_HelloAck();
      if (a->server() != nullptr) (void)a->server()->str();
      if (a->message() != nullptr) (void)a->message()->str();
      break;
    }
    case vigil::native::fb::Message::Error: {
      const auto* e = fr->message_as_Error();
      if (e->message() != nullptr) (void)e->message()->str();
      break;
    }
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  static Env env;
  if (env.db == nullptr || ++env.uses > 2000) env.Reopen();
  // Heap buffers are 16-byte aligned, as the server's frame buffer is.
  std::vector<uint8_t> frame(4 + size);
  const auto n = static_cast<uint32_t>(size);
  frame[0] = n & 0xff;
  frame[1] = (n >> 8) & 0xff;
  frame[2] = (n >> 16) & 0xff;
  frame[3] = n >> 24;
  if (size > 0) std::memcpy(frame.data() + 4, data, size);
  Check(std::string_view(reinterpret_cast<const char*>(frame.data()), frame.size()), env);
  std::vector<uint8_t> raw(data, data + size);
  Check(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), env);
  return 0;
}
