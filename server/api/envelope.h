#pragma once

// Prometheus' response envelope and error classes:
//
//   {"status":"success","data":<data>[,"warnings":[...]][,"infos":[...]]}
//   {"status":"error","errorType":"bad_data","error":"<message>"[,"warnings":[...]]}
//
// errorType -> HTTP status: bad_data 400, execution 422, canceled 499, timeout 503,
// unavailable 503, not_found 404, internal 500.

#include <string>
#include <string_view>
#include <vector>

#include "query/value.h"
#include "server/http/json.h"
#include "server/http/request.h"
#include "storage/base/status.h"

namespace vigil::server {

enum class ApiErrorType : uint8_t {
  kBadData,
  kExecution,
  kCanceled,
  kTimeout,
  kUnavailable,
  kNotFound,
  kInternal,
};

std::string_view ApiErrorTypeName(ApiErrorType t);
int ApiErrorHttpStatus(ApiErrorType t);

// How a query's Status is reported: InvalidArgument and ResourceExhausted -> execution,
// DeadlineExceeded -> timeout, Cancelled -> canceled, Unavailable -> unavailable, anything
// else (storage faults) -> internal.
ApiErrorType ClassifyQueryError(const Status& st);

struct Annotations {
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
};

void RespondApiError(HttpResponse* resp, ApiErrorType type, std::string_view message,
                     const Annotations& notes = {});
// data_json: the already encoded value of "data".
void RespondSuccess(HttpResponse* resp, std::string_view data_json, const Annotations& notes = {});

// 204 No Content (writes and admin actions that succeeded).
void RespondNoContent(HttpResponse* resp);

// The success envelope around a query result, written straight into the response body.
void RespondQueryResult(HttpResponse* resp, const query::QueryResult& r, const Annotations& notes);

// Writes {"resultType":...,"result":...} of a query result into w.
void WriteQueryData(JsonWriter* w, const query::QueryResult& r);
// A label set as a JSON object {"name":"value",...}.
void WriteLabels(JsonWriter* w, const storage::Labels& ls);

}  // namespace vigil::server
