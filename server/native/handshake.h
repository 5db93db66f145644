#pragma once

// The server's answer to a Hello (server/docs/protocols/native.md, "Handshake" and "Token"):
// version negotiation first, then, when the server has a token file, the bearer token, which must
// carry the write scope. Pure: no I/O, so the server, the tests and the frame fuzzer share it.

#include <cstdint>
#include <string>

#include "server/native/native_generated.h"

namespace vigil::server {
class Authenticator;
}  // namespace vigil::server

namespace vigil::native {

struct HelloDecision {
  fb::BatchStatus status = fb::BatchStatus::Ok;  // Ok, VersionMismatch, Unauthenticated, Forbidden
  uint16_t version = 0;                          // the chosen version when Ok; 0 otherwise
  std::string message;                           // why, when not Ok (ends "closing the connection")
  std::string token_name;                        // the token's name in the file, when known
};

// REQUIRES: `hello` passed the FlatBuffers verifier. `auth` null: tokens are ignored.
HelloDecision DecideHello(const fb::Hello& hello, const server::Authenticator* auth);

}  // namespace vigil::native
