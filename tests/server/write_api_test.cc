// Writes through every protocol of an in-process vigild, read back through
// /api/v1/query_range; bad input per protocol gets the documented answer and costs no data that
// was accepted before.

#include <catch2/catch.hpp>

#include "server/http/gzip.h"
#include "server/ingest/remote_write_encode.h"
#include "server/native/client.h"
#include "tests/server/server_test_util.h"

namespace vigil::server {
namespace {

using testing::Json;
using testing::TestServer;

// The values of `query` over [start, end] s with step 15 s, as "t:v" pairs per series joined by
// spaces; series separated by " | ".
std::string Range(HttpClient& c, const std::string& query, int start_s, int end_s) {
  auto r = c.Get("/api/v1/query_range?query=" + UrlEncode(query) + "&start=" +
                 std::to_string(start_s) + "&end=" + std::to_string(end_s) + "&step=15");
  if (!r.ok()) return r.status().ToString();
  auto j = Json(r->body);
  std::string out;
  for (const auto& s : j["data"]["result"].array()) {
    if (!out.empty()) out += " | ";
    std::string pts;
    for (const auto& p : s["values"].array()) {
      if (!pts.empty()) pts += " ";
      pts += std::to_string(static_cast<int64_t>(p[0].number())) + ":" + p[1].str();
    }
    out += pts;
  }
  return out;
}

std::string RemoteWriteBody(ingest::RemoteWriteVersion v, const storage::Labels& ls,
                            std::vector<ingest::RemoteWriteSample> samples) {
  ingest::RemoteWriteEncoder enc(v);
  enc.AddSeries(ls, samples);
  return enc.Snappy();
}

const HttpClient::Headers kRw1 = {{"Content-Type", "application/x-protobuf"},
                                  {"Content-Encoding", "snappy"},
                                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
const HttpClient::Headers kRw2 = {
    {"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
    {"Content-Encoding", "snappy"},
    {"X-Prometheus-Remote-Write-Version", "2.0.0"}};

TEST_CASE("Remote write 1.0 and 2.0 round trip through query_range", "[server][write]") {
  TestServer ts;
  auto c = ts.Client();
  auto body1 = RemoteWriteBody(ingest::RemoteWriteVersion::k1,
                               storage::Labels::FromPairs({{"__name__", "rw"}, {"v", "1"}}),
                               {{0, 1}, {15000, 2}, {30000, 3}});
  auto r = c.Request("POST", "/api/v1/write", body1, kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(r->Header("x-prometheus-remote-write-samples-written") == "3");
  auto body2 = RemoteWriteBody(ingest::RemoteWriteVersion::k2,
                               storage::Labels::FromPairs({{"__name__", "rw"}, {"v", "2"}}),
                               {{0, 10}, {15000, 20}});
  r = c.Request("POST", "/api/v1/write", body2, kRw2);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(r->Header("x-prometheus-remote-write-samples-written") == "2");
  CHECK(r->Header("x-prometheus-remote-write-histograms-written") == "0");
  CHECK(r->Header("x-prometheus-remote-write-exemplars-written") == "0");
  CHECK(Range(c, "rw", 0, 30) == "0:1 15:2 30:3 | 0:10 15:20 30:20");

  // A gzip-encoded protobuf body (no snappy) is accepted as well.
  ingest::RemoteWriteEncoder enc(ingest::RemoteWriteVersion::k1);
  std::vector<ingest::RemoteWriteSample> s = {{45000, 4}};
  enc.AddSeries(storage::Labels::FromPairs({{"__name__", "rw"}, {"v", "1"}}), s);
  std::string gz;
  REQUIRE(GzipCompress(enc.Proto(), 6, &gz).ok());
  r = c.Request("POST", "/api/v1/write", gz,
                {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(Range(c, "rw{v=\"1\"}", 45, 45) == "45:4");
}

TEST_CASE("Remote write errors: truncated snappy, bad protobuf, bad series, media type",
          "[server][write]") {
  TestServer ts;
  auto c = ts.Client();
  auto good = RemoteWriteBody(ingest::RemoteWriteVersion::k1,
                              storage::Labels::FromPairs({{"__name__", "keep"}}), {{0, 7}});
  REQUIRE(c.Request("POST", "/api/v1/write", good, kRw1)->status == 204);

  auto r = c.Request("POST", "/api/v1/write", good.substr(0, good.size() - 3), kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body.starts_with("nothing was written: snappy: corrupt or truncated"));

  r = c.Request("POST", "/api/v1/write", std::string("\x0a\x64\x01", 3),
                {{"Content-Type", "application/x-protobuf"}});
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body == "nothing was written: malformed protobuf at byte 1: length 100 exceeds the 1 bytes left\n");

  // One bad series (unsorted labels) among good ones: 400, the good one is kept.
  ingest::RemoteWriteEncoder enc(ingest::RemoteWriteVersion::k1);
  std::vector<ingest::RemoteWriteSample> s = {{15000, 8}};
  const storage::Label bad[] = {{"__name__", "m"}, {"b", "1"}, {"a", "2"}};
  enc.AddSeries(std::span<const storage::Label>(bad), s);
  enc.AddSeries(storage::Labels::FromPairs({{"__name__", "keep"}}), s);
  r = c.Request("POST", "/api/v1/write", enc.Snappy(), kRw1);
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->Header("x-prometheus-remote-write-samples-written") == "1");
  CHECK(r->body.find("labels are not sorted by name") != std::string::npos);

  r = c.Request("POST", "/api/v1/write", good, {{"Content-Type", "application/json"}});
  REQUIRE(r.ok());
  CHECK(r->status == 415);
  r = c.Request("POST", "/api/v1/write", good,
                {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "br"}});
  REQUIRE(r.ok());
  CHECK(r->status == 415);

  CHECK(Range(c, "keep", 0, 15) == "0:7 15:8");
}

TEST_CASE("Line protocol on /write and /api/v2/write: 204, precision, errors naming the line",
          "[server][write]") {
  TestServer ts;
  auto c = ts.Client();
  auto r = c.Request("POST", "/write?precision=s&db=x",
                     "cpu,host=a usage=1.5,count=3i 0\ncpu,host=a usage=2.5,count=4i 15\n");
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(r->body.empty());
  r = c.Request("POST", "/api/v2/write?precision=ms&org=o&bucket=b", "mem,host=a value=7 30000\n");
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(Range(c, "cpu_usage", 0, 15) == "0:1.5 15:2.5");
  CHECK(Range(c, "cpu_count", 0, 15) == "0:3 15:4");
  CHECK(Range(c, "mem", 30, 30) == "30:7");

  // gzip-encoded body, as Telegraf sends it.
  std::string gz;
  REQUIRE(GzipCompress("gz value=1 45000\n", 6, &gz).ok());
  r = c.Request("POST", "/write?precision=ms", gz, {{"Content-Encoding", "gzip"}});
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(Range(c, "gz", 45, 45) == "45:1");

  // A bad second line: 400 naming it, the first and third lines are written.
  r = c.Request("POST", "/write?precision=s", "ok1 value=1 60\nbad f 60\nok2 value=2 60\n");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->Header("content-type") == "application/json");
  CHECK(Json(r->body)["error"].str() == "line 2, column 6: expected '=' after field key \"f\"");
  r = c.Request("POST", "/api/v2/write?precision=s", "log msg=\"hi\" 60\n");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  auto j = Json(r->body);
  CHECK(j["code"].str() == "invalid");
  CHECK(j["message"].str() ==
        "line 1: field \"msg\" of measurement \"log\" is a string; Vigil stores numbers only, so "
        "the line was not written");
  r = c.Request("POST", "/write?precision=fortnights", "x value=1\n");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Range(c, "ok1", 60, 60) == "60:1");
  CHECK(Range(c, "ok2", 60, 60) == "60:2");
  CHECK(Range(c, "cpu_usage", 0, 15) == "0:1.5 15:2.5");  // earlier data intact
}

TEST_CASE("Oversized write bodies get 413 and write nothing", "[server][write]") {
  TestServer ts([](VigildConfig* c) { c->max_body_bytes = 4096; });
  auto c = ts.Client();
  REQUIRE(c.Request("POST", "/write?precision=s", "before value=1 0\n")->status == 204);
  std::string big;
  for (int i = 0; big.size() <= 4096; ++i) big += "big value=" + std::to_string(i) + " " + std::to_string(i) + "\n";
  auto r = c.Request("POST", "/write?precision=s", big);
  REQUIRE(r.ok());
  CHECK(r->status == 413);
  HttpClient c2 = ts.Client();
  CHECK(Range(c2, "big", 0, 100) == "");
  CHECK(Range(c2, "before", 0, 0) == "0:1");
}

TEST_CASE("Native protocol batches are served by vigild and readable over HTTP", "[server][write]") {
  TestServer ts;
  REQUIRE(ts.server->native_port() != 0);
  auto nc = native::NativeClient::Connect("127.0.0.1", ts.server->native_port());
  REQUIRE(nc.ok());
  native::WriteBatchBuilder batch;
  const native::LabelView labels[] = {{"__name__", "native_m"}, {"job", "n"}};
  const int64_t t[] = {0, 15000, 30000};
  const double v[] = {1, 2, 3};
  batch.AddSeries(labels, t, v);
  auto ack = (*nc)->Write(batch);
  REQUIRE(ack.ok());
  CHECK(ack->ok());
  CHECK(ack->samples_written == 3);
  auto c = ts.Client();
  CHECK(Range(c, "native_m", 0, 30) == "0:1 15:2 30:3");
}

TEST_CASE("Admin API: delete_series, clean_tombstones, snapshot", "[server][admin]") {
  TestServer ts;
  auto c = ts.Client();
  REQUIRE(c.Request("POST", "/write?precision=s", "a,k=1 value=1 0\na,k=1 value=2 15\na,k=2 value=3 15\n")->status == 204);
  auto r = c.PostForm("/api/v1/admin/tsdb/delete_series", "match[]=" + UrlEncode("a{k=\"1\"}") + "&start=10&end=20");
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(Range(c, "a", 0, 15) == "0:1 15:1 | 15:3");  // k=1 keeps t=0 (lookback), k=2 intact
  r = c.Request("POST", "/api/v1/admin/tsdb/delete_series");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(Json(r->body)["error"].str() == "no match[] parameter provided");
  r = c.Request("POST", "/api/v1/admin/tsdb/clean_tombstones");
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  r = c.Request("PUT", "/api/v1/admin/tsdb/snapshot");
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  std::string name = Json(r->body)["data"]["name"].str();
  CHECK(name.size() == 33);  // 20060102T150405Z-<16 hex>
  std::string snap = ts.config.data_dir + "/snapshots/" + name;
  CHECK(std::filesystem::is_directory(snap));
  // Opens the snapshot `dir` as a data directory; series a over [0, 15].
  auto snapshot_range = [&](const std::string& dir) {
    VigildConfig sc = ts.config;
    sc.data_dir = dir;
    auto snap_server = Vigild::Start(sc, testing::TestBuild());
    REQUIRE(snap_server.ok());
    HttpClient sc_client("127.0.0.1", (*snap_server)->http_port());
    return Range(sc_client, "a", 0, 15);
  };
  // The snapshot opens as a data directory with the data as it was.
  CHECK(snapshot_range(snap) == "0:1 15:1 | 15:3");
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "skip_head=true");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  // compact=true: a settled copy that opens with the same data.
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "compact=true");
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  CHECK(snapshot_range(ts.config.data_dir + "/snapshots/" + Json(r->body)["data"]["name"].str()) ==
        "0:1 15:1 | 15:3");
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "compact=maybe");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body.find(R"(invalid parameter \"compact\")") != std::string::npos);  // JSON-escaped
  // Booleans read as Prometheus reads them (Go's ParseBool): True and t are true, F is false.
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "skip_head=True");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body.find("skip_head is not supported") != std::string::npos);
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "skip_head=yes");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body.find(R"(invalid parameter \"skip_head\")") != std::string::npos);
  r = c.PostForm("/api/v1/admin/tsdb/snapshot", "skip_head=F&compact=t");
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  CHECK(snapshot_range(ts.config.data_dir + "/snapshots/" + Json(r->body)["data"]["name"].str()) ==
        "0:1 15:1 | 15:3");
}

TEST_CASE("Admin API: compact writes the head as blocks and merges them; answers unchanged",
          "[server][admin]") {
  TestServer ts;
  auto c = ts.Client();
  // Five hours of one series every 10 minutes, from t=0: the head spans several 2 h ranges.
  std::string lines;
  for (int m = 0; m <= 300; m += 10) lines += "c,k=1 value=" + std::to_string(m) + " " + std::to_string(m * 60) + "\n";
  REQUIRE(c.Request("POST", "/write?precision=s", lines)->status == 204);
  const auto uncached = [&] {
    auto r = c.Get("/api/v1/query_range?query=c&start=0&end=18000&step=60&nocache=1");
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return r->body;
  };
  const std::string before = uncached();
  CHECK(Json(before)["data"]["result"][0]["values"].array().size() == 151);  // 10 min apart, 5 min lookback
  storage::Db* db = ts.server->db();
  CHECK(db->Stats().blocks == 0);
  for (const char* method : {"POST", "PUT"}) {
    auto r = c.Request(method, "/api/v1/admin/tsdb/compact");
    REQUIRE(r.ok());
    CHECK(r->status == 204);
  }
  const storage::DbStats st = db->Stats();
  CHECK(st.head_flushes >= 1);
  CHECK(st.blocks == 1);  // 0-5 h: one 6 h range, merged although it has not ended
  CHECK(st.compactions >= 1);
  CHECK(uncached() == before);
  CHECK(c.Request("GET", "/api/v1/admin/tsdb/compact")->status == 405);
}

}  // namespace
}  // namespace vigil::server

namespace vigil::server {
namespace {

TEST_CASE("vigild with a token file: every endpoint needs a token with its scope",
          "[server][auth]") {
  testing::TempDir tokens_dir;
  std::string tokens = tokens_dir.File("tokens",
                                       "grafana read  rrrrrrrrrrrrrrrrrrrr\n"
                                       "prom    write wwwwwwwwwwwwwwwwwwww\n"
                                       "ops     admin aaaaaaaaaaaaaaaaaaaa\n");
  testing::TestServer ts([&](VigildConfig* c) { c->auth_token_file = tokens; });
  CHECK(ts.server->native_port() != 0);  // served: Hello carries the token (native_auth_tls_test.cc)
  auto c = ts.Client();
  auto as = [](const char* token) {
    return HttpClient::Headers{{"Authorization", std::string("Bearer ") + token}};
  };
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    const char* good_token;
    const char* wrong_token;
    int good_status;
  };
  const Case cases[] = {
      {"GET", "/api/v1/query?query=1", "", "rrrrrrrrrrrrrrrrrrrr", "wwwwwwwwwwwwwwwwwwww", 200},
      {"GET", "/api/v1/labels", "", "rrrrrrrrrrrrrrrrrrrr", "wwwwwwwwwwwwwwwwwwww", 200},
      {"GET", "/metrics", "", "rrrrrrrrrrrrrrrrrrrr", "wwwwwwwwwwwwwwwwwwww", 200},
      {"GET", "/-/healthy", "", "rrrrrrrrrrrrrrrrrrrr", "wwwwwwwwwwwwwwwwwwww", 200},
      {"POST", "/write?precision=s", "m value=1 0\n", "wwwwwwwwwwwwwwwwwwww", "rrrrrrrrrrrrrrrrrrrr", 204},
      {"POST", "/api/v1/admin/tsdb/clean_tombstones", "", "aaaaaaaaaaaaaaaaaaaa",
       "wwwwwwwwwwwwwwwwwwww", 204},
  };
  for (const Case& k : cases) {
    CAPTURE(k.target);
    auto r = c.Request(k.method, k.target, k.body);
    REQUIRE(r.ok());
    CHECK(r->status == 401);
    r = c.Request(k.method, k.target, k.body, as("not-a-token-at-all-xx"));
    REQUIRE(r.ok());
    CHECK(r->status == 401);
    r = c.Request(k.method, k.target, k.body, as(k.wrong_token));
    REQUIRE(r.ok());
    CHECK(r->status == 403);
    r = c.Request(k.method, k.target, k.body, as(k.good_token));
    REQUIRE(r.ok());
    CHECK(r->status == k.good_status);
  }
  // The one write that got through is there; the refused ones wrote nothing.
  auto r = c.Get("/api/v1/query?query=count_over_time(m%5B1h%5D)&time=1", as("rrrrrrrrrrrrrrrrrrrr"));
  REQUIRE(r.ok());
  CHECK(Json(r->body)["data"]["result"][0]["value"][1].str() == "1");
}

}  // namespace
}  // namespace vigil::server
