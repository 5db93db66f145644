#pragma once

// The HTTP surface of continuous queries, independent of the HTTP server's router: vigild routes
// `/api/v1/cq` and `/api/v1/cq/...` here and sends back the status and JSON body
// (server/docs/continuous-queries.md, "HTTP API"). Bodies use Prometheus' envelope:
// {"status":"success","data":...} or {"status":"error","errorType":"...","error":"..."}.
//
//   GET    /api/v1/cq            list every CQ with its status
//   POST   /api/v1/cq            create one (form or query parameters: name, expr, kind, interval,
//                                season, horizon, coverage, sensitivity, labels)
//   GET    /api/v1/cq/<name>     describe one
//   DELETE /api/v1/cq/<name>     drop one
//   POST   /api/v1/cq/rules      load a Prometheus rule file (the request body, YAML)

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/cq/manager.h"

namespace vigil::server::cq {

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
};

// REQUIRES: path starts with "/api/v1/cq". Never throws; bad input is a 4xx with a message.
ApiResponse HandleCqRequest(CqManager& manager, std::string_view method, std::string_view path,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            std::string_view body);

// One CQ's status as a JSON object (also used by /api/v1/rules consumers and the shell).
std::string StatusJson(const CqStatus& s);

}  // namespace vigil::server::cq
