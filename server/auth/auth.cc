#include "server/auth/auth.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace vigil::server {
namespace {

uint8_t Bit(Scope s) { return static_cast<uint8_t>(1u << static_cast<unsigned>(s)); }

// Compares without an early exit, so response times do not reveal how much of a guess matched.
bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<Authenticator> Authenticator::Parse(std::string_view text) {
  Authenticator auth;
  size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    auto fields = SplitFields(line);
    if (fields.empty()) continue;
    std::string where = "token file line " + std::to_string(line_no);
    if (fields.size() != 3) {
      return Status::InvalidArgument(where + ": expected `name scopes token`, found " +
                                     std::to_string(fields.size()) + " fields");
    }
    Token t;
    t.name = std::string(fields[0]);
    std::string_view scopes = fields[1];
    size_t sp = 0;
    while (sp <= scopes.size()) {
      size_t comma = scopes.find(',', sp);
      if (comma == std::string_view::npos) comma = scopes.size();
      std::string_view s = scopes.substr(sp, comma - sp);
      sp = comma + 1;
      if (s == "read") t.scopes |= Bit(Scope::kRead);
      else if (s == "write") t.scopes |= Bit(Scope::kWrite);
      else if (s == "admin") t.scopes |= Bit(Scope::kAdmin) | Bit(Scope::kRead) | Bit(Scope::kWrite);
      else return Status::InvalidArgument(where + ": unknown scope \"" + std::string(s) +
                                            "\" (read, write, admin)");
    }
    std::string_view secret = fields[2];
    if (secret.size() < 16) {
      return Status::InvalidArgument(where + ": token of " + t.name + " is shorter than 16 characters");
    }
    for (char c : secret) {
      if (c < 0x21 || c > 0x7e) {
        return Status::InvalidArgument(where + ": token of " + t.name +
                                       " has a character outside visible ASCII");
      }
    }
    for (const Token& other : auth.tokens_) {
      if (other.secret == secret) {
        return Status::InvalidArgument(where + ": token of " + t.name + " repeats the token of " +
                                       other.name);
      }
    }
    t.secret = std::string(secret);
    auth.tokens_.push_back(std::move(t));
  }
  if (auth.tokens_.empty()) {
    return Status::InvalidArgument("token file holds no tokens (auth would lock out everyone)");
  }
  return auth;
}

Result<Authenticator> Authenticator::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read token file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = Parse(ss.str());
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Authenticator::Outcome Authenticator::Check(std::string_view authorization, Scope needed,
                                            std::string* name) const {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size()) return Outcome::kMissing;
  // The scheme is case-insensitive (RFC 7235).
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return Outcome::kMissing;
    }
  }
  std::string_view secret = authorization.substr(kPrefix.size());
  while (!secret.empty() && secret.front() == ' ') secret.remove_prefix(1);
  while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
  const Token* found = nullptr;
  for (const Token& t : tokens_) {
    if (ConstantTimeEqual(t.secret, secret)) found = &t;
  }
  if (found == nullptr) return Outcome::kUnknown;
  if (name != nullptr) *name = found->name;
  return (found->scopes & Bit(needed)) != 0 ? Outcome::kAllowed : Outcome::kForbidden;
}

}  // namespace vigil::server
