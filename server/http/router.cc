#include "server/http/router.h"

namespace vigil::server {

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kRead: return "read";
    case Scope::kWrite: return "write";
    case Scope::kAdmin: return "admin";
  }
  return "?";
}

void Router::Register(std::string_view method, std::string_view pattern, Handler handler,
                      Scope scope) {
  for (Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.handler = std::move(handler);
      r.scope = scope;
      r.probe = nullptr;  // it answered for the replaced handler
      return;
    }
  }
  routes_.push_back({std::string(method), std::string(pattern), std::move(handler), scope, {}});
}

bool Router::SetProbe(std::string_view method, std::string_view pattern, Probe probe) {
  for (Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.probe = std::move(probe);
      return true;
    }
  }
  return false;
}

bool Router::MatchPattern(std::string_view pattern, std::string_view path, ParamList* params) {
  size_t pp = 0, xp = 0;
  while (pp < pattern.size() || xp < path.size()) {
    if (pp >= pattern.size() || xp >= path.size()) return false;
    if (pattern[pp] == '<') {
      size_t close = pattern.find('>', pp);
      std::string_view name = pattern.substr(pp + 1, close - pp - 1);
      size_t seg_end = path.find('/', xp);
      if (seg_end == std::string_view::npos) seg_end = path.size();
      if (seg_end == xp) return false;
      if (params != nullptr) {
        params->emplace_back(std::string(name), std::string(path.substr(xp, seg_end - xp)));
      }
      pp = close + 1;
      xp = seg_end;
      continue;
    }
    if (pattern[pp] != path[xp]) return false;
    ++pp;
    ++xp;
  }
  return true;
}

const Router::Route* Router::Match(std::string_view method, std::string_view path,
                                   ParamList* path_params, bool* path_known) const {
  *path_known = false;
  const Route* best = nullptr;
  // Literal patterns first, then placeholders.
  for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
    for (const Route& r : routes_) {
      bool literal = r.pattern.find('<') == std::string::npos;
      if (literal != (pass == 0)) continue;
      ParamList params;
      if (!MatchPattern(r.pattern, path, &params)) continue;
      *path_known = true;
      if (r.method == method || (method == "HEAD" && r.method == "GET")) {
        best = &r;
        *path_params = std::move(params);
        break;
      }
    }
  }
  return best;
}

std::string Router::AllowedMethods(std::string_view path) const {
  std::string out;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, path, nullptr)) continue;
    if (out.find(r.method) != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += r.method;
  }
  return out;
}

}  // namespace vigil::server
