// /api/v1/metadata of an in-process vigild fed by remote write 1.0 and 2.0, its parameters, and
// the metadata surviving a restart.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "server/ingest/remote_write_encode.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using testing::Json;
using testing::TestServer;

const HttpClient::Headers kRw1 = {{"Content-Type", "application/x-protobuf"},
                                  {"Content-Encoding", "snappy"},
                                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
const HttpClient::Headers kRw2 = {
    {"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
    {"Content-Encoding", "snappy"},
    {"X-Prometheus-Remote-Write-Version", "2.0.0"}};

std::string Get(HttpClient& c, const std::string& target, int want_status = 200) {
  auto r = c.Get(target);
  REQUIRE(r.ok());
  INFO(target << " -> " << r->body);
  CHECK(r->status == want_status);
  return r->body;
}

void WriteMetadata(HttpClient& c) {
  // 1.0 as Prometheus sends it: a request holding only metadata.
  ingest::RemoteWriteEncoder e1(ingest::RemoteWriteVersion::k1);
  e1.AddMetadata(1, "http_requests_total", "Requests served, by \"code\".", "");
  e1.AddMetadata(2, "node_load1", "1m load average.", "");
  auto r = c.Request("POST", "/api/v1/write", e1.Snappy(), kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  // 2.0: metadata with every series.
  ingest::RemoteWriteEncoder e2(ingest::RemoteWriteVersion::k2);
  const ingest::SeriesMetadata hist{3, "Request latency.", "seconds"};
  for (const char* le : {"0.5", "+Inf"}) {
    e2.AddSeries(
        storage::Labels::FromPairs({{"__name__", "req_duration_seconds_bucket"}, {"le", le}}),
        std::vector<ingest::RemoteWriteSample>{{1000, 3}}, {.metadata = &hist});
  }
  r = c.Request("POST", "/api/v1/write", e2.Snappy(), kRw2);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(r->Header("x-prometheus-remote-write-samples-written") == "2");
}

const char* kAll =
    R"({"status":"success","data":{)"
    R"("http_requests_total":[{"type":"counter","help":"Requests served, by \"code\".","unit":""}],)"
    R"("node_load1":[{"type":"gauge","help":"1m load average.","unit":""}],)"
    R"("req_duration_seconds":[{"type":"histogram","help":"Request latency.","unit":"seconds"}]}})";

TEST_CASE("/api/v1/metadata answers what remote write 1.0 and 2.0 sent, across a restart",
          "[server][api][metadata]") {
  TestServer ts;
  auto c = ts.Client();
  CHECK(Get(c, "/api/v1/metadata") == R"({"status":"success","data":{}})");
  WriteMetadata(c);
  CHECK(Get(c, "/api/v1/metadata") == kAll);
  CHECK(Get(c, "/metrics").find("\nvigil_metadata_families 3\n") != std::string::npos);

  // Parameters, as Prometheus reads them.
  auto j = Json(Get(c, "/api/v1/metadata?limit=2"));
  CHECK(j["data"].size() == 2);
  CHECK(Get(c, "/api/v1/metadata?limit=0") == R"({"status":"success","data":{}})");
  CHECK(Get(c, "/api/v1/metadata?limit=-1") == kAll);
  CHECK(
      Get(c, "/api/v1/metadata?metric=node_load1") ==
      R"({"status":"success","data":{"node_load1":[{"type":"gauge","help":"1m load average.","unit":""}]}})");
  CHECK(Get(c, "/api/v1/metadata?metric=absent") == R"({"status":"success","data":{}})");
  CHECK(Get(c, "/api/v1/metadata?limit_per_metric=1") == kAll);
  j = Json(Get(c, "/api/v1/metadata?limit=x", 400));
  CHECK(j["errorType"].str() == "bad_data");
  CHECK(j["error"].str() == "limit must be a number");
  j = Json(Get(c, "/api/v1/metadata?limit_per_metric=1.5", 400));
  CHECK(j["error"].str() == "limit_per_metric must be a number");
  auto r = c.PostForm("/api/v1/metadata", "limit=1");
  REQUIRE(r.ok());
  CHECK(r->status == 405);

  // Newer metadata replaces older; line protocol leaves it alone.
  ingest::RemoteWriteEncoder e1(ingest::RemoteWriteVersion::k1);
  e1.AddMetadata(2, "node_load1", "Load average over 1 minute.", "");
  REQUIRE(c.Request("POST", "/api/v1/write", e1.Snappy(), kRw1)->status == 204);
  REQUIRE(c.Request("POST", "/write?precision=s", "node_load1 value=0.5 10\n")->status == 204);
  j = Json(Get(c, "/api/v1/metadata?metric=node_load1"));
  CHECK(j["data"]["node_load1"][0]["help"].str() == "Load average over 1 minute.");
  const std::string before_restart = Get(c, "/api/v1/metadata");

  // A restart keeps it: saved at shutdown into <data>/metadata, loaded at start.
  REQUIRE(ts.server->Stop().ok());
  ts.server.reset();
  {
    std::ifstream f(ts.config.data_dir + "/metadata", std::ios::binary);
    REQUIRE(f.good());
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(bytes.starts_with("VGMD"));
  }
  auto restarted = Vigild::Start(ts.config, testing::TestBuild());
  REQUIRE(restarted.ok());
  ts.server = std::move(*restarted);
  auto c2 = ts.Client();
  CHECK(Get(c2, "/api/v1/metadata") == before_restart);

  // A snapshot holds it too: vigild started on the snapshot serves the same metadata.
  auto snap = c2.Request("PUT", "/api/v1/admin/tsdb/snapshot");
  REQUIRE(snap.ok());
  REQUIRE(snap->status == 200);
  VigildConfig sc = ts.config;
  sc.data_dir = ts.config.data_dir + "/snapshots/" + Json(snap->body)["data"]["name"].str();
  auto from_snapshot = Vigild::Start(sc, testing::TestBuild());
  REQUIRE(from_snapshot.ok());
  HttpClient c3("127.0.0.1", (*from_snapshot)->http_port());
  CHECK(Get(c3, "/api/v1/metadata") == before_restart);
  REQUIRE((*from_snapshot)->Stop().ok());
}

TEST_CASE("/api/v1/metadata: a damaged metadata file does not stop vigild",
          "[server][api][metadata]") {
  TestServer ts;
  auto c = ts.Client();
  WriteMetadata(c);
  REQUIRE(ts.server->Stop().ok());
  ts.server.reset();
  {
    std::ofstream f(ts.config.data_dir + "/metadata", std::ios::binary | std::ios::trunc);
    f << "VGMD garbage";
  }
  auto restarted = Vigild::Start(ts.config, testing::TestBuild());
  REQUIRE(restarted.ok());
  ts.server = std::move(*restarted);
  auto c2 = ts.Client();
  CHECK(Get(c2, "/api/v1/metadata") == R"({"status":"success","data":{}})");
  WriteMetadata(c2);  // senders resend; the next save replaces the file
  CHECK(Get(c2, "/api/v1/metadata") == kAll);
}

}  // namespace
}  // namespace vigil::server
