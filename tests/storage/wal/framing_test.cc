#include "storage/wal/framing.h"

#include <catch2/catch.hpp>

#include "tests/storage/wal/wal_test_util.h"

namespace vigil::storage::wal {
namespace {

using testing::PatternRecord;

// A segment image: header + the framed entries.
std::string BuildSegment(const std::vector<std::string>& entries) {
  std::string seg;
  EncodeSegmentHeader({}, &seg);
  FrameWriter writer(seg.size());
  for (const std::string& e : entries) writer.Append(e, &seg);
  REQUIRE(writer.offset() == seg.size());
  return seg;
}

std::vector<std::string> Decode(std::string_view seg, bool tolerate, Status* st,
                                uint64_t* torn = nullptr) {
  SegmentDecoder dec(seg, tolerate);
  std::vector<std::string> out;
  *st = dec.ReadHeader();
  if (!st->ok()) return out;
  std::string_view e;
  while (dec.Next(&e)) out.emplace_back(e);
  *st = dec.status();
  if (torn != nullptr) *torn = dec.torn_bytes();
  return out;
}

TEST_CASE("wal framing: entries of every size round trip", "[storage][wal]") {
  const size_t sizes[] = {1,
                          100,
                          kMaxFragmentPayload - kSegmentHeaderSize,  // exactly fills page 0
                          kMaxFragmentPayload,
                          kMaxFragmentPayload + 1,
                          kPageSize,
                          3 * kPageSize + 17,  // several pages
                          2,
                          1};
  std::vector<std::string> entries;
  for (size_t i = 0; i < std::size(sizes); ++i) entries.push_back(PatternRecord(i, sizes[i]));
  const std::string seg = BuildSegment(entries);
  Status st;
  const auto out = Decode(seg, /*tolerate=*/false, &st);
  REQUIRE(st.ok());
  REQUIRE(out == entries);
}

TEST_CASE("wal framing: fragments never cross a page and short page tails are zero-padded",
          "[storage][wal]") {
  // Fill page 0 up to 5 bytes before its end: the next header does not fit.
  const size_t first = kPageSize - kSegmentHeaderSize - kFragmentHeaderSize - 5;
  const std::vector<std::string> entries = {PatternRecord(1, first), PatternRecord(2, 10)};
  const std::string seg = BuildSegment(entries);
  REQUIRE(seg.size() == kPageSize + kFragmentHeaderSize + 10);
  CHECK(seg.substr(kPageSize - 5, 5) == std::string(5, '\0'));
  CHECK(static_cast<uint8_t>(seg[kPageSize]) == static_cast<uint8_t>(FragmentType::kFull));

  // An entry that starts mid-page is split first/last at the page boundary.
  std::string seg2 = BuildSegment({PatternRecord(3, 100), PatternRecord(4, kPageSize)});
  const size_t second = kSegmentHeaderSize + kFragmentHeaderSize + 100;
  CHECK(static_cast<uint8_t>(seg2[second]) == static_cast<uint8_t>(FragmentType::kFirst));
  CHECK(static_cast<uint8_t>(seg2[kPageSize]) == static_cast<uint8_t>(FragmentType::kLast));

  FrameWriter w(kSegmentHeaderSize);
  CHECK(w.FramedSize(3 * kPageSize) == [&] {
    std::string tmp;
    FrameWriter w2(kSegmentHeaderSize);
    w2.Append(std::string(3 * kPageSize, 'x'), &tmp);
    return tmp.size();
  }());
}

TEST_CASE("wal framing: entry reader splits records and rejects bad lengths", "[storage][wal]") {
  std::string entry;
  AppendRecordToEntry("abc", &entry);
  AppendRecordToEntry(std::string(300, 'z'), &entry);
  EntryReader r(entry);
  std::string_view rec;
  bool bad = true;
  REQUIRE(r.Next(&rec, &bad));
  CHECK(rec == "abc");
  REQUIRE(r.Next(&rec, &bad));
  CHECK(rec.size() == 300);
  CHECK_FALSE(r.Next(&rec, &bad));
  CHECK_FALSE(bad);

  EntryReader truncated(std::string_view(entry).substr(0, entry.size() - 1));
  REQUIRE(truncated.Next(&rec, &bad));
  CHECK_FALSE(truncated.Next(&rec, &bad));
  CHECK(bad);
  EntryReader zero(std::string_view("\x00", 1));
  CHECK_FALSE(zero.Next(&rec, &bad));
  CHECK(bad);
}

TEST_CASE("wal framing: damage before the tail is corruption with its offset", "[storage][wal]") {
  const std::vector<std::string> entries = {PatternRecord(1, 50), PatternRecord(2, 50),
                                            PatternRecord(3, 50)};
  const std::string seg = BuildSegment(entries);
  const size_t second = kSegmentHeaderSize + kFragmentHeaderSize + 50;

  SECTION("payload byte") {
    std::string bad = seg;
    bad[second + kFragmentHeaderSize + 20] ^= 0x01;
    for (bool tolerate : {false, true}) {
      Status st;
      const auto out = Decode(bad, tolerate, &st);
      CHECK(st.IsCorruption());
      CHECK_THAT(st.message(), Catch::Contains("offset " + std::to_string(second)));
      CHECK_THAT(st.message(), Catch::Contains("checksum"));
      REQUIRE(out.size() == 1);
      CHECK(out[0] == entries[0]);
    }
  }
  SECTION("type byte") {
    std::string bad = seg;
    bad[second] = 9;
    Status st;
    Decode(bad, true, &st);
    CHECK(st.IsCorruption());
    CHECK_THAT(st.message(), Catch::Contains("unknown fragment type"));
  }
  SECTION("type byte cleared to padding") {
    std::string bad = seg;
    bad[second] = 0;
    Status st;
    Decode(bad, true, &st);
    CHECK(st.IsCorruption());
    CHECK_THAT(st.message(), Catch::Contains("padding"));
  }
  SECTION("length byte") {
    std::string bad = seg;
    bad[second + 1] ^= 0x40;
    Status st;
    Decode(bad, false, &st);
    CHECK(st.IsCorruption());
  }
  SECTION("header magic and version") {
    std::string bad = seg;
    bad[0] = 'X';
    Status st;
    Decode(bad, true, &st);
    CHECK(st.IsCorruption());
    bad = seg;
    bad[4] = 2;
    Decode(bad, true, &st);
    CHECK(st.code() == StatusCode::kNotSupported);
  }
}

TEST_CASE("wal framing: a zero-filled tail is torn only where tolerated", "[storage][wal]") {
  const std::vector<std::string> entries = {PatternRecord(1, 50), PatternRecord(2, 3 * kPageSize)};
  std::string seg = BuildSegment(entries);
  // The file was extended but the last entry's blocks never written (zeros), as after a power
  // loss on some file systems.
  const size_t second = kSegmentHeaderSize + kFragmentHeaderSize + 50;
  std::fill(seg.begin() + static_cast<std::ptrdiff_t>(second + 3), seg.end(), '\0');
  Status st;
  uint64_t torn = 0;
  auto out = Decode(seg, true, &st, &torn);
  CHECK(st.ok());
  CHECK(out.size() == 1);
  CHECK(torn == seg.size() - second);
  out = Decode(seg, false, &st);
  CHECK(st.IsCorruption());
}

}  // namespace
}  // namespace vigil::storage::wal
