#include "server/native/handshake.h"

#include <algorithm>
#include <string_view>

#include "server/auth/auth.h"
#include "server/native/protocol.h"

namespace vigil::native {

HelloDecision DecideHello(const fb::Hello& hello, const server::Authenticator* auth) {
  HelloDecision d;
  const uint16_t lo = std::max(hello.min_version(), kMinProtocolVersion);
  const uint16_t hi = std::min(hello.max_version(), kProtocolVersion);
  if (lo > hi) {
    d.status = fb::BatchStatus::VersionMismatch;
    d.message = "no common protocol version: the client speaks " +
                std::to_string(hello.min_version()) + ".." + std::to_string(hello.max_version()) +
                ", the server " + std::to_string(kMinProtocolVersion) + ".." +
                std::to_string(kProtocolVersion);
    return d;
  }
  if (auth != nullptr) {
    const std::string_view token =
        hello.token() != nullptr ? hello.token()->string_view() : std::string_view();
    if (token.empty()) {
      d.status = fb::BatchStatus::Unauthenticated;
      d.message =
          "authentication required: Hello carries no token and this server runs with a token "
          "file; closing the connection";
      return d;
    }
    // The token store checks Authorization header values; a Hello token is the credentials part.
    const std::string authorization = "Bearer " + std::string(token);
    switch (auth->Check(authorization, server::Scope::kWrite, &d.token_name)) {
      case server::Authenticator::Outcome::kAllowed:
        break;
      case server::Authenticator::Outcome::kForbidden:
        d.status = fb::BatchStatus::Forbidden;
        d.message = "token \"" + d.token_name +
                    "\" lacks the write scope that the native protocol requires; closing the "
                    "connection";
        return d;
      case server::Authenticator::Outcome::kMissing:
      case server::Authenticator::Outcome::kUnknown:
        d.status = fb::BatchStatus::Unauthenticated;
        d.message =
            "authentication failed: the token in Hello is not in the server's token file; "
            "closing the connection";
        return d;
    }
  }
  d.version = hi;
  return d;
}

}  // namespace vigil::native
