#pragma once

// Bearer-token authentication with read / write / admin scopes.
//
// Token file (one token per line, `#` starts a comment, blank lines ignored):
//
//   # name      scopes            token
//   grafana     read              4c1f0d9e8b7a...
//   prometheus  write             9e2b7c...
//   operator    read,write,admin  0a7d3f...
//
// Fields are separated by spaces or tabs. `name` is for logs; scopes are a comma-separated subset
// of read, write, admin (`admin` also grants read and write). Tokens are opaque strings of at
// least 16 visible ASCII characters and must be unique. A request sends
// `Authorization: Bearer <token>`.
//
// Thread safety: immutable after Load(); Check() may be called from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/router.h"
#include "storage/base/status.h"

namespace vigil::server {

class Authenticator {
 public:
  enum class Outcome : uint8_t {
    kAllowed,
    kMissing,    // no (or a malformed) Authorization header: 401
    kUnknown,    // a token that is not in the file: 401
    kForbidden,  // a known token without the scope: 403
  };

  // Parses the token file's text. InvalidArgument naming the line for a malformed line, an
  // unknown scope, a short token or a duplicate.
  static Result<Authenticator> Parse(std::string_view text);
  // Reads and parses a token file.
  static Result<Authenticator> Load(const std::string& path);

  // Checks an Authorization header value against the scope a route needs; *name receives the
  // token's name when it is known.
  Outcome Check(std::string_view authorization, Scope needed, std::string* name) const;

  size_t size() const { return tokens_.size(); }

 private:
  struct Token {
    std::string name;
    std::string secret;
    uint8_t scopes = 0;  // bit (1 << Scope)
  };
  std::vector<Token> tokens_;
};

}  // namespace vigil::server
