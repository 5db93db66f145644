#pragma once

// The HTTP write endpoints, wired to server/ingest:
//   POST /api/v1/write    Prometheus remote write 1.0 and 2.0 (by Content-Type), snappy bodies
//   POST /write           Influx line protocol (InfluxDB 1.x: ?precision=n|u|ms|s|m|h, db, rp)
//   POST /api/v2/write    Influx line protocol (InfluxDB 2.x: ?precision=ns|us|ms|s, org, bucket)
// Answers and error texts: server/README.md and server/docs/protocols/.
//
// Thread safety: handlers may run concurrently.

#include "server/http/router.h"
#include "server/ingest/ingest.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::server {

class WriteApi {
 public:
  // db is not owned and must outlive the WriteApi; options.limiter (if set) too.
  WriteApi(storage::Db* db, ingest::IngestOptions options) : db_(db), options_(options) {}

  void Register(Router* router);

 private:
  void RemoteWrite(HttpRequest& req, HttpResponse* resp);
  void LineProtocol(HttpRequest& req, HttpResponse* resp, bool v2);

  storage::Db* db_;
  ingest::IngestOptions options_;
};

}  // namespace vigil::server
