#pragma once

// The syntax tree of a PromQL expression as /api/v1/parse_query returns it: the JSON object
// shape of Prometheus' web UI tree view (keys in alphabetical order, as Go writes maps), e.g.
//
//   {"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up",
//    "offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}

#include "query/ast.h"
#include "server/http/json.h"

namespace vigil::server {

void WriteAstJson(JsonWriter* w, const query::Expr& e);

}  // namespace vigil::server
