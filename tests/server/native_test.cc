#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "server/auth/auth.h"
#include "server/native/client.h"
#include "server/native/native_ingest.h"
#include "server/native/native_server.h"
#include "server/native/protocol.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::native {
namespace {

using server::ingest::testing::TestDb;
using server::ingest::testing::TestSample;

struct Fixture {
  TestDb t;
  NativeServer server;
  explicit Fixture(NativeServerOptions o = {}) : server(&t.db(), WithClock(o, &t.clock())) {
    REQUIRE(server.Start("127.0.0.1", 0).ok());
    REQUIRE(server.port() != 0);
  }
  static NativeServerOptions WithClock(NativeServerOptions o, Clock* c) {
    o.ingest.clock = c;
    o.threads = 2;
    return o;
  }
  std::unique_ptr<NativeClient> Connect() {
    auto c = NativeClient::Connect("127.0.0.1", server.port());
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    return std::move(*c);
  }
};

std::string HelloFrame(uint16_t lo, uint16_t hi) {
  flatbuffers::FlatBufferBuilder fbb;
  auto name = fbb.CreateString("test");
  auto hello = fb::CreateHello(fbb, lo, hi, name);
  fbb.FinishSizePrefixed(fb::CreateFrame(fbb, fb::Message::Hello, hello.Union()), kFileIdentifier);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

const fb::Frame* Verified(const std::string& payload) {
  auto f = VerifyFrame(payload);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  return *f;
}

TEST_CASE("native: handshake agrees on version 1", "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  CHECK(c->version() == 1);
  CHECK(c->server_name() == "vigild");
  CHECK(c->max_frame_bytes() == (16u << 20));
}

TEST_CASE("native: columnar batches are written and acknowledged", "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  WriteBatchBuilder b;
  const LabelView up[] = {{"job", "api"}, {"__name__", "up"}};  // any order
  const int64_t ts[] = {1000, 2000, 3000};
  const double vs[] = {1, 0, 1};
  b.AddSeries(up, ts, vs);
  const LabelView load[] = {{"__name__", "load"}, {"host", "a"}, {"empty", ""}};
  const int64_t ts2[] = {1000};
  const double vs2[] = {0.25};
  b.AddSeries(load, ts2, vs2);
  auto ack = c->Write(b);
  REQUIRE(ack.ok());
  CHECK(ack->status == fb::BatchStatus::Ok);
  CHECK(ack->batch_id == 1);
  CHECK(ack->samples_written == 4);
  CHECK(ack->samples_rejected == 0);
  CHECK(ack->message.empty());
  CHECK(fx.t.Read("up{job=\"api\"}") == std::vector<TestSample>{{1000, 1}, {2000, 0}, {3000, 1}});
  CHECK(fx.t.Read("load{host=\"a\"}") == std::vector<TestSample>{{1000, 0.25}});
}

TEST_CASE("native: bad series are rejected by name while the rest is written",
          "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  WriteBatchBuilder b;
  const int64_t ts[] = {1000, 2000};
  const double vs[] = {1, 2};
  const LabelView good[] = {{"__name__", "good"}};
  const LabelView bad_name[] = {{"__name__", "x"}, {"bad-name", "v"}};
  const LabelView dup[] = {{"__name__", "d"}, {"a", "1"}, {"a", "2"}};
  b.AddSeries(bad_name, ts, vs);
  b.AddSeries(good, ts, vs);
  b.AddSeries(dup, ts, vs);
  auto ack = c->Write(b);
  REQUIRE(ack.ok());
  CHECK(ack->status == fb::BatchStatus::BadInput);
  CHECK(ack->samples_written == 2);
  CHECK(ack->samples_rejected == 4);
  CHECK(ack->message.find("bad-name") != std::string::npos);
  CHECK(ack->message.find(R"(series {"__name__"="d", "a"="1", "a"="2"} (#2 in batch 1): duplicate label names)") !=
        std::string::npos);
  CHECK(fx.t.Read("good") == std::vector<TestSample>{{1000, 1}, {2000, 2}});
}

TEST_CASE("native: columns of different lengths reject the series", "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  // The builder refuses mismatched spans only by contract, so craft the frame by hand.
  flatbuffers::FlatBufferBuilder fbb;
  auto n = fbb.CreateString("__name__");
  auto v = fbb.CreateString("m");
  std::vector<flatbuffers::Offset<fb::Label>> ls = {fb::CreateLabel(fbb, n, v)};
  auto labels = fbb.CreateVector(ls);
  std::vector<int64_t> ts = {1, 2, 3};
  std::vector<double> vs = {1, 2};
  auto s = fb::CreateSeriesColumns(fbb, labels, fbb.CreateVector(ts), fbb.CreateVector(vs));
  std::vector<flatbuffers::Offset<fb::SeriesColumns>> series = {s};
  auto batch = fb::CreateWriteBatch(fbb, 77, fbb.CreateVector(series));
  fbb.FinishSizePrefixed(fb::CreateFrame(fbb, fb::Message::WriteBatch, batch.Union()),
                         kFileIdentifier);
  REQUIRE(c->SendRaw({reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()}).ok());
  auto ack = c->ReadAck();
  REQUIRE(ack.ok());
  CHECK(ack->batch_id == 77);
  CHECK(ack->status == fb::BatchStatus::BadInput);
  CHECK(ack->message == R"(series {"__name__"="m"} (#0 in batch 77): 3 timestamps but 2 values)");
}

TEST_CASE("native: out-of-order samples are named and earlier data stays", "[server][native]") {
  Fixture fx(NativeServerOptions{});
  auto c = fx.Connect();
  WriteBatchBuilder b;
  const LabelView m[] = {{"__name__", "m"}};
  const int64_t ts[] = {10'000'000};
  const double vs[] = {1};
  b.AddSeries(m, ts, vs);
  REQUIRE(c->Write(b)->ok());
  const int64_t old_ts[] = {1000};
  b.AddSeries(m, old_ts, vs);
  auto ack = c->Write(b);
  REQUIRE(ack.ok());
  CHECK(ack->status == fb::BatchStatus::BadInput);
  CHECK(ack->message ==
        "out-of-order sample for series m: timestamp 1000 is older than the series' newest sample "
        "at 10000000 by more than the out-of-order window of 3600000 ms");
  CHECK(fx.t.Read("m") == std::vector<TestSample>{{10'000'000, 1}});
}

TEST_CASE("native: pipelined batches are acknowledged in order", "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  for (int i = 0; i < 5; ++i) {
    WriteBatchBuilder b;
    const LabelView m[] = {{"__name__", "p"}};
    const int64_t ts[] = {1000 * (i + 1)};
    const double vs[] = {static_cast<double>(i)};
    b.AddSeries(m, ts, vs);
    REQUIRE(c->Send(b).ok());
  }
  for (uint64_t i = 1; i <= 5; ++i) {
    auto ack = c->ReadAck();
    REQUIRE(ack.ok());
    CHECK(ack->batch_id == i);
    CHECK(ack->ok());
  }
  CHECK(fx.t.Read("p").size() == 5);
}

TEST_CASE("native: a bad frame gets an Error and the connection goes on", "[server][native]") {
  Fixture fx;
  auto c = fx.Connect();
  // A length prefix of 12 and 12 bytes that are not a FlatBuffer.
  REQUIRE(c->SendRaw(std::string("\x0c\x00\x00\x00", 4) + "not a frame!").ok());
  auto payload = c->ReadFrame();
  REQUIRE(payload.ok());
  const fb::Frame* f = Verified(*payload);
  REQUIRE(f->message_type() == fb::Message::Error);
  CHECK(f->message_as_Error()->status() == fb::BatchStatus::ProtocolError);
  CHECK(f->message_as_Error()->message()->str() ==
        "frame 2: frame does not carry the file identifier \"VGN1\" at payload bytes 4..7");
  // Truncated FlatBuffer with the right identifier: the verifier refuses it.
  WriteBatchBuilder b;
  const LabelView m[] = {{"__name__", "after"}};
  const int64_t ts[] = {5};
  const double vs[] = {5};
  b.AddSeries(m, ts, vs);
  std::string frame = b.Finish(9);
  std::string cut = frame.substr(4, 40);
  const uint32_t n = static_cast<uint32_t>(cut.size());
  std::string bad(reinterpret_cast<const char*>(&n), 4);
  REQUIRE(c->SendRaw(bad + cut).ok());
  payload = c->ReadFrame();
  REQUIRE(payload.ok());
  f = Verified(*payload);
  REQUIRE(f->message_type() == fb::Message::Error);
  CHECK(f->message_as_Error()->message()->str().find("not a valid Frame") != std::string::npos);
  // The connection still works.
  b.AddSeries(m, ts, vs);
  auto ack = c->Write(b);
  REQUIRE(ack.ok());
  CHECK(ack->ok());
  CHECK(fx.t.Read("after") == std::vector<TestSample>{{5, 5}});
}

TEST_CASE("native: an oversized frame length closes the connection", "[server][native]") {
  NativeServerOptions o;
  o.max_frame_bytes = 1024;
  Fixture fx(o);
  auto c = fx.Connect();
  CHECK(c->max_frame_bytes() == 1024);
  REQUIRE(c->SendRaw(std::string("\x01\x00\x10\x00", 4)).ok());  // 1 MiB + 1
  auto payload = c->ReadFrame();
  REQUIRE(payload.ok());
  const fb::Frame* f = Verified(*payload);
  REQUIRE(f->message_type() == fb::Message::Error);
  CHECK(f->message_as_Error()->status() == fb::BatchStatus::TooLarge);
  CHECK(f->message_as_Error()->message()->str() ==
        "frame of 1048577 bytes exceeds the limit of 1024 bytes; closing the connection");
  CHECK_FALSE(c->ReadFrame().ok());  // closed
  // The client refuses to send a batch larger than the server's limit.
  WriteBatchBuilder b;
  std::vector<int64_t> ts(200, 1);
  std::vector<double> vs(200, 1);
  const LabelView m[] = {{"__name__", "big"}};
  b.AddSeries(m, ts, vs);
  auto c2 = fx.Connect();
  auto sent = c2->Send(b);
  CHECK(sent.status().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("native: version mismatch and missing handshake", "[server][native]") {
  Fixture fx;
  SECTION("versions 2..3 only") {
    // A raw socket: the library always offers the versions it speaks.
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), fx.server.port()});
    const std::string hello = HelloFrame(2, 3);
    boost::asio::write(s, boost::asio::buffer(hello));
    unsigned char hdr[4];
    boost::asio::read(s, boost::asio::buffer(hdr, 4));
    std::string body(4 + DecodeFrameLength(hdr), '\0');
    std::memcpy(body.data(), hdr, 4);
    boost::asio::read(s, boost::asio::buffer(body.data() + 4, body.size() - 4));
    const fb::Frame* f = Verified(body);
    REQUIRE(f->message_type() == fb::Message::HelloAck);
    CHECK(f->message_as_HelloAck()->status() == fb::BatchStatus::VersionMismatch);
    CHECK(f->message_as_HelloAck()->version() == 0);
    CHECK(f->message_as_HelloAck()->message()->str() ==
          "no common protocol version: the client speaks 2..3, the server 1..1");
    boost::system::error_code ec;
    boost::asio::read(s, boost::asio::buffer(hdr, 1), ec);
    CHECK(ec);  // closed by the server
  }
  SECTION("WriteBatch before Hello") {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), fx.server.port()});
    WriteBatchBuilder b;
    const std::string frame = b.Finish(1);
    boost::asio::write(s, boost::asio::buffer(frame));
    unsigned char hdr[4];
    boost::asio::read(s, boost::asio::buffer(hdr, 4));
    std::string body(4 + DecodeFrameLength(hdr), '\0');
    std::memcpy(body.data(), hdr, 4);
    boost::asio::read(s, boost::asio::buffer(body.data() + 4, body.size() - 4));
    const fb::Frame* f = Verified(body);
    REQUIRE(f->message_type() == fb::Message::Error);
    CHECK(f->message_as_Error()->message()->str() ==
          "frame 1: the first frame must be Hello; closing the connection");
  }
}

TEST_CASE("native: server stops with clients connected", "[server][native]") {
  TestDb t;
  NativeServer server(&t.db(), NativeServerOptions{});
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  auto c = NativeClient::Connect("127.0.0.1", server.port());
  REQUIRE(c.ok());
  server.Stop();
  CHECK_FALSE((*c)->ReadFrame().ok());
  CHECK(server.connections() == 0);
}

TEST_CASE("native: listening on a used port fails with a message", "[server][native]") {
  Fixture fx;
  TestDb t2;
  NativeServer second(&t2.db(), NativeServerOptions{});
  Status st = second.Start("127.0.0.1", fx.server.port());
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(st.message().find("cannot listen on 127.0.0.1:") != std::string::npos);
}

// The golden frame of native.md's worked example: WriteBatch 7 with one series
// {__name__="up", job="api"} and samples (1700000000000, 1), (1700000015000, 0).
std::string GoldenBatch() {
  WriteBatchBuilder b;
  const LabelView ls[] = {{"__name__", "up"}, {"job", "api"}};
  const int64_t ts[] = {1700000000000, 1700000015000};
  const double vs[] = {1, 0};
  b.AddSeries(ls, ts, vs);
  return b.Finish(7);
}

std::string ToHex(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned char>(bytes[i]));
    out += buf;
    out += (i % 16 == 15 || i + 1 == bytes.size()) ? '\n' : ' ';
  }
  return out;
}

std::string FromHex(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) out.push_back(static_cast<char>(std::stoi(tok, nullptr, 16)));
  return out;
}

TEST_CASE("native: golden WriteBatch frame, version 1", "[server][native][golden]") {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/native/write_batch_v1.hex";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string golden = FromHex(ss.str());
  // Encoding is stable...
  CHECK(ToHex(GoldenBatch()) == ToHex(golden));
  // ...and the stored bytes decode to the documented content, whatever the encoder does later.
  REQUIRE(golden.size() > 4);
  CHECK(DecodeFrameLength(golden.data()) == golden.size() - 4);
  const fb::Frame* f = Verified(golden);
  REQUIRE(f->message_type() == fb::Message::WriteBatch);
  const fb::WriteBatch* b = f->message_as_WriteBatch();
  CHECK(b->batch_id() == 7);
  REQUIRE(b->series()->size() == 1);
  const fb::SeriesColumns* s = b->series()->Get(0);
  CHECK(s->labels()->Get(0)->name()->str() == "__name__");
  CHECK(s->labels()->Get(1)->value()->str() == "api");
  CHECK(s->timestamps()->Get(1) == 1700000015000);
  CHECK(s->values()->Get(0) == 1.0);
  // And writes through a server like any other batch.
  Fixture fx;
  auto c = fx.Connect();
  REQUIRE(c->SendRaw(golden).ok());
  auto ack = c->ReadAck();
  REQUIRE(ack.ok());
  CHECK(ack->batch_id == 7);
  CHECK(fx.t.Read("up{job=\"api\"}") ==
        std::vector<TestSample>{{1700000000000, 1}, {1700000015000, 0}});
}

}  // namespace
}  // namespace vigil::native

namespace vigil::native {
namespace {

// Found by native_frame_fuzz: a frame that passes the FlatBuffers verifier with its timestamps
// vector at an address that is 4 mod 8. Reading it must be defined behaviour (the Sanitize build
// reports a misaligned load otherwise).
TEST_CASE("native: misaligned column vectors are read safely", "[server][native]") {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/native/misaligned_columns.bin";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string payload = ss.str();
  const auto n = static_cast<uint32_t>(payload.size());
  std::string frame(reinterpret_cast<const char*>(&n), 4);
  frame += payload;
  auto f = VerifyFrame(frame);
  REQUIRE(f.ok());
  REQUIRE((*f)->message_type() == fb::Message::WriteBatch);
  const fb::WriteBatch* b = (*f)->message_as_WriteBatch();
  const auto* ts = b->series()->Get(0)->timestamps();
  CHECK(reinterpret_cast<uintptr_t>(ts->Data()) % 8 != 0);
  TestDb t;
  auto out = IngestNativeBatch(t.db(), *b, {});
  CHECK(out.samples_written + out.samples_rejected() == 2);
}

}  // namespace
}  // namespace vigil::native

namespace vigil::native {
namespace {

std::string GoldenHex(const std::string& name) {
  std::ifstream in(std::string(VIGIL_GOLDEN_DIR) + "/native/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return FromHex(ss.str());
}

// Sends `frame` on a fresh connection and returns the HelloAck's status (or fails the test).
fb::BatchStatus HelloStatus(uint16_t port, const std::string& frame) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(frame));
  unsigned char hdr[4];
  boost::asio::read(s, boost::asio::buffer(hdr, 4));
  std::string body(4 + DecodeFrameLength(hdr), '\0');
  std::memcpy(body.data(), hdr, 4);
  boost::asio::read(s, boost::asio::buffer(body.data() + 4, body.size() - 4));
  const fb::Frame* f = Verified(body);
  REQUIRE(f->message_type() == fb::Message::HelloAck);
  return f->message_as_HelloAck()->status();
}

// native.md's second worked example: the Hello of the client library with a bearer token, and the
// same Hello without one (byte for byte what clients sent before Hello had a token field).
TEST_CASE("native: golden Hello frames with and without a token, version 1",
          "[server][native][golden][auth]") {
  const std::string with_token = GoldenHex("hello_token_v1.hex");
  const std::string without = GoldenHex("hello_v1.hex");
  // Encoding is stable...
  CHECK(ToHex(EncodeHello(1, 1, "vigil-native-client/1", "9e2b7c5a1d3f4e6b8a0c2d4f")) ==
        ToHex(with_token));
  CHECK(ToHex(EncodeHello(1, 1, "vigil-native-client/1", "")) == ToHex(without));
  CHECK(with_token.size() == 120);
  CHECK(without.size() == 84);
  // ...and the stored bytes decode to the documented content.
  const fb::Frame* f = Verified(with_token);
  REQUIRE(f->message_type() == fb::Message::Hello);
  const fb::Hello* h = f->message_as_Hello();
  CHECK(h->min_version() == 1);
  CHECK(h->max_version() == 1);
  CHECK(h->client()->str() == "vigil-native-client/1");
  REQUIRE(h->token() != nullptr);
  CHECK(h->token()->str() == "9e2b7c5a1d3f4e6b8a0c2d4f");
  f = Verified(without);
  REQUIRE(f->message_type() == fb::Message::Hello);
  CHECK(f->message_as_Hello()->token() == nullptr);
  CHECK(f->message_as_Hello()->client()->str() == "vigil-native-client/1");

  // Without auth both are welcome; with a token file naming the token only the first is.
  {
    Fixture open;
    CHECK(HelloStatus(open.server.port(), with_token) == fb::BatchStatus::Ok);
    CHECK(HelloStatus(open.server.port(), without) == fb::BatchStatus::Ok);
  }
  auto auth = server::Authenticator::Parse("prometheus write 9e2b7c5a1d3f4e6b8a0c2d4f\n");
  REQUIRE(auth.ok());
  NativeServerOptions o;
  o.auth = &*auth;
  Fixture guarded(o);
  CHECK(HelloStatus(guarded.server.port(), with_token) == fb::BatchStatus::Ok);
  CHECK(HelloStatus(guarded.server.port(), without) == fb::BatchStatus::Unauthenticated);
}

}  // namespace
}  // namespace vigil::native
