#pragma once

// Routes of the HTTP server: (method, path pattern) -> handler, plus the auth scope the route
// needs and a stable name for metrics.
//
//   router.Register("GET", "/api/v1/label/<name>/values", LabelValues, Scope::kRead);
//
// A pattern is a literal path whose segments may be `<name>` placeholders matching one non-empty
// segment (the value lands in HttpRequest::path_params). Registering the same method and pattern
// again replaces the handler, so a module can take over a route registered with a default (as
// continuous queries do with /api/v1/rules). Literal routes win over patterns.
//
// Thread safety: Register() before the server starts; Match() is then safe from any thread.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/request.h"

namespace vigil::server {

// What a bearer token must grant to call a route when auth is on (server/auth/auth.h).
enum class Scope : uint8_t { kRead, kWrite, kAdmin };
std::string_view ScopeName(Scope s);  // "read", "write", "admin"

// Runs on a worker thread; may block (queries do). Must not throw: exceptions that escape are
// caught by the server and answered 500.
using Handler = std::function<void(HttpRequest& req, HttpResponse* resp)>;

// Runs on the I/O thread that read the request, before the handler: answers at once when it can
// (returns true), else returns false with *resp untouched and the handler runs on a worker. It
// must not block and must take microseconds (a cache lookup, a fixed answer): it saves the two
// thread hand-offs of the worker pool. req.client_gone is not set yet.
using Probe = std::function<bool(HttpRequest& req, HttpResponse* resp)>;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;  // also the `handler` label of vigil_http_requests_total
    Handler handler;
    Scope scope = Scope::kRead;
    Probe probe;  // may be empty
  };

  void Register(std::string_view method, std::string_view pattern, Handler handler,
                Scope scope = Scope::kRead);

  // Adds a probe to a registered route (after Register(); registering the route again drops it).
  // Returns false when no such route exists.
  bool SetProbe(std::string_view method, std::string_view pattern, Probe probe);

  // The route for method and path; fills *path_params. nullptr when none matches; then
  // *path_known tells whether another method would match (405 rather than 404).
  const Route* Match(std::string_view method, std::string_view path, ParamList* path_params,
                     bool* path_known) const;

  // Methods registered for path, for the Allow header of a 405.
  std::string AllowedMethods(std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool MatchPattern(std::string_view pattern, std::string_view path, ParamList* params);

  std::vector<Route> routes_;
};

}  // namespace vigil::server
