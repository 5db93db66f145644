#include "storage/wal/records.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "storage/labels.h"
#include "storage/series_ref.h"

namespace vigil::storage::wal {
namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

TEST_CASE("wal records: series round trip keeps refs and label views", "[storage][wal]") {
  std::string l1;
  std::string l2;
  const LabelView pairs1[] = {{"__name__", "up"}, {"job", "node"}};
  const LabelView pairs2[] = {{"__name__", "http_requests_total"}, {"code", "200"},
                              {"path", std::string_view("/\xc3\xa9t\xc3\xa9")}};
  EncodeLabelPairs(pairs1, &l1);
  EncodeLabelPairs(pairs2, &l2);
  const RefSeries in[] = {{1, l1}, {std::numeric_limits<uint64_t>::max(), l2}, {7, ""}};
  std::string rec;
  EncodeSeries(in, &rec);
  REQUIRE(PeekRecordType(rec).value() == RecordType::kSeries);

  std::vector<RefSeries> out;
  REQUIRE(DecodeSeries(rec, &out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].ref == 1);
  CHECK(out[0].labels == l1);
  CHECK(out[1].ref == std::numeric_limits<uint64_t>::max());
  CHECK(out[1].labels == l2);
  CHECK(out[2].ref == 7);
  CHECK(out[2].labels.empty());
  // Zero-copy: the labels view the record itself.
  CHECK(out[1].labels.data() >= rec.data());
  CHECK(out[1].labels.data() < rec.data() + rec.size());

  std::vector<LabelView> labels;
  REQUIRE(DecodeLabelPairs(out[1].labels, &labels).ok());
  REQUIRE(labels.size() == 3);
  CHECK(labels[0] == pairs2[0]);
  CHECK(labels[2] == pairs2[2]);
}

TEST_CASE("wal records: series labels are the Labels encoding", "[storage][wal]") {
  const Labels labels = Labels::FromPairs({{"job", "api"}, {"__name__", "up"}, {"zone", "eu-1"}});
  std::string rec;
  EncodeSeries(std::vector<RefSeries>{{42, labels.Encoded()}}, &rec);
  std::vector<RefSeries> out;
  REQUIRE(DecodeSeries(rec, &out).ok());
  REQUIRE(out.size() == 1);
  auto back = Labels::FromEncoded(out[0].labels);
  REQUIRE(back.ok());
  CHECK(*back == labels);
  // EncodeLabelPairs on sorted pairs writes the same bytes as Labels.
  std::string pairs;
  const LabelView sorted[] = {{"__name__", "up"}, {"job", "api"}, {"zone", "eu-1"}};
  EncodeLabelPairs(sorted, &pairs);
  CHECK(pairs == labels.Encoded());
}

TEST_CASE("wal records: samples keep NaN payloads, -0.0 and extreme values bit-exactly",
          "[storage][wal]") {
  const double stale = std::bit_cast<double>(kStaleNaNBits);
  const double odd_nan = std::bit_cast<double>(uint64_t{0xfff8000000abcdefULL});
  const std::vector<RefSample> in = {
      {100, 1700000000000, 1.5},
      {99, 1700000000000, stale},  // ref below base: negative delta
      {101, 1699999999000, -0.0},  // time below base
      {0, std::numeric_limits<int64_t>::min(), odd_nan},
      {std::numeric_limits<uint64_t>::max(), std::numeric_limits<int64_t>::max(),
       std::numeric_limits<double>::infinity()},
      {5, -1, std::numeric_limits<double>::denorm_min()},
  };
  std::string rec;
  EncodeSamples(in, &rec);
  std::vector<RefSample> out;
  REQUIRE(DecodeSamples(rec, &out).ok());
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    INFO("sample " << i);
    CHECK(out[i].ref == in[i].ref);
    CHECK(out[i].t == in[i].t);
    CHECK(Bits(out[i].v) == Bits(in[i].v));
  }
  CHECK(Bits(out[1].v) == kStaleNaNBits);
  CHECK(std::signbit(out[2].v));
}

TEST_CASE("wal records: typical samples cost about 11 bytes each", "[storage][wal]") {
  std::vector<RefSample> in;
  for (uint64_t ref = 1; ref <= 1000; ++ref) in.push_back({ref, 1700000000000 + 15, 42.0});
  std::string rec;
  EncodeSamples(in, &rec);
  // Deltas of up to 1000 fit in two varint bytes, the time delta in one, the value in eight.
  CHECK(rec.size() <= 1 + 16 + 1000 * 11);
  std::vector<RefSample> out;
  REQUIRE(DecodeSamples(rec, &out).ok());
  CHECK(out.size() == 1000);
  CHECK(out.back().ref == 1000);
}

TEST_CASE("wal records: empty lists round trip", "[storage][wal]") {
  std::string s;
  std::string m;
  std::string t;
  EncodeSeries({}, &s);
  EncodeSamples({}, &m);
  EncodeTombstones({}, &t);
  CHECK(s.size() == 1);
  CHECK(m.size() == 1);
  CHECK(t.size() == 1);
  std::vector<RefSeries> series{{1, "x"}};
  std::vector<RefSample> samples{{1, 2, 3}};
  std::vector<RefTombstone> stones{{1, 2, 3}};
  REQUIRE(DecodeSeries(s, &series).ok());
  REQUIRE(DecodeSamples(m, &samples).ok());
  REQUIRE(DecodeTombstones(t, &stones).ok());
  CHECK(series.empty());
  CHECK(samples.empty());
  CHECK(stones.empty());
}

TEST_CASE("wal records: tombstones round trip", "[storage][wal]") {
  const std::vector<RefTombstone> in = {
      {3, 1000, 2000},
      {3, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
      {9, -50, -50},
  };
  std::string rec;
  EncodeTombstones(in, &rec);
  std::vector<RefTombstone> out;
  REQUIRE(DecodeTombstones(rec, &out).ok());
  CHECK(out == in);
}

TEST_CASE("wal records: decoders reject the wrong type, unknown types and truncation",
          "[storage][wal]") {
  std::string rec;
  EncodeSamples(std::vector<RefSample>{{1, 2, 3.0}, {2, 3, 4.0}}, &rec);
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefTombstone> stones;
  CHECK(DecodeSeries(rec, &series).IsCorruption());
  CHECK(DecodeTombstones(rec, &stones).IsCorruption());
  CHECK(PeekRecordType("").status().IsCorruption());
  CHECK(PeekRecordType(std::string_view("\x09", 1)).status().IsCorruption());
  CHECK(PeekRecordType(std::string_view("\x00", 1)).status().IsCorruption());
  // Every proper prefix of a samples record is malformed, except those ending exactly after a
  // sample (the list has no count; the framing checksum guards the record's length).
  const size_t first_sample_end = 1 + 1 + 1 + 1 + 1 + 8;  // type, base ref, base t, deltas, value
  for (size_t n = 0; n < rec.size(); ++n) {
    if (n == 1 || n == first_sample_end) continue;  // a lone type byte is the empty list
    INFO("prefix " << n);
    CHECK(DecodeSamples(rec.substr(0, n), &samples).IsCorruption());
  }
  std::string labels;
  const LabelView pair[] = {{"a", "b"}};
  EncodeLabelPairs(pair, &labels);
  std::string srec;
  EncodeSeries(std::vector<RefSeries>{{1, labels}}, &srec);
  for (size_t n = 2; n < srec.size(); ++n) {
    INFO("series prefix " << n);
    CHECK(DecodeSeries(srec.substr(0, n), &series).IsCorruption());
  }
  // A well-framed series entry whose label set is not.
  std::string bad;
  bad.push_back(static_cast<char>(RecordType::kSeries));
  bad += std::string("\x01\x03\x05" "ab", 5);  // ref 1, 3 label bytes: name length 5 > 2 left
  CHECK(DecodeSeries(bad, &series).IsCorruption());
  // An 11-byte varint.
  std::string overlong(1, static_cast<char>(RecordType::kTombstones));
  overlong.append(10, '\xff');
  overlong.push_back('\x01');
  CHECK(DecodeTombstones(overlong, &stones).IsCorruption());
}

TEST_CASE("wal records: random bytes never crash the decoders", "[storage][wal]") {
  std::mt19937_64 rng(20240501);
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefTombstone> stones;
  std::vector<LabelView> labels;
  size_t ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string buf(rng() % 64, '\0');
    for (char& c : buf) c = static_cast<char>(rng());
    if (!buf.empty()) buf[0] = static_cast<char>(1 + rng() % 3);  // mostly a valid type
    if (iter % 3 == 0 && !buf.empty()) {
      // Bias towards small bytes so that varints terminate and lists get long.
      for (size_t i = 1; i < buf.size(); ++i) buf[i] = static_cast<char>(rng() % 8);
    }
    const Status a = DecodeSeries(buf, &series);
    const Status b = DecodeSamples(buf, &samples);
    const Status c = DecodeTombstones(buf, &stones);
    const Status d = DecodeLabelPairs(buf, &labels);
    for (const Status* st : {&a, &b, &c, &d}) {
      REQUIRE((st->ok() || st->IsCorruption()));
      ok += st->ok();
    }
    // A series record that decodes hands out label sets that split cleanly.
    if (a.ok()) {
      for (const RefSeries& s : series) REQUIRE(DecodeLabelPairs(s.labels, &labels).ok());
    }
  }
  CHECK(ok > 0);
}

}  // namespace
}  // namespace vigil::storage::wal
