// The commit protocol against a real Wal (on the in-memory file system), WAL failures, and the
// replay API.

#include <algorithm>

#include "storage/base/fault_injection_file_system.h"
#include "storage/base/mem_file_system.h"
#include "storage/head/head.h"
#include "storage/wal/reader.h"
#include "storage/wal/records.h"
#include "storage/wal/wal.h"
#include "tests/storage/head/head_test_util.h"

namespace vigil::storage {
namespace {

using testing::Eq;
using testing::L;
using testing::ReadAll;

const std::string kWalDir = "/db/wal";

std::unique_ptr<wal::Wal> OpenWal(FileSystem* fs) {
  wal::WalOptions o;
  o.sync_policy = wal::SyncPolicy::kNever;
  auto w = wal::Wal::Open(fs, kWalDir, o);
  REQUIRE(w.ok());
  return std::move(w).value();
}

struct Log {
  std::vector<wal::RecordType> types;
  std::vector<std::pair<SeriesRef, std::string>> series;  // ref, labels as text
  std::vector<wal::RefSample> samples;
};

// Reads the whole WAL; if head != nullptr, replays it into head as Db::Open does.
Log ReadLog(FileSystem* fs, Head* head = nullptr) {
  Log log;
  auto reader = wal::WalReader::Open(fs, kWalDir);
  REQUIRE(reader.ok());
  std::string_view rec;
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  while ((*reader)->Next(&rec)) {
    auto type = wal::PeekRecordType(rec);
    REQUIRE(type.ok());
    log.types.push_back(*type);
    if (*type == wal::RecordType::kSeries) {
      REQUIRE(wal::DecodeSeries(rec, &series).ok());
      for (const auto& s : series) {
        log.series.push_back({s.ref, Labels::FromEncoded(s.labels).value().ToString()});
      }
      if (head != nullptr) REQUIRE(head->ReplaySeries(series).ok());
    } else if (*type == wal::RecordType::kSamples) {
      REQUIRE(wal::DecodeSamples(rec, &samples).ok());
      log.samples.insert(log.samples.end(), samples.begin(), samples.end());
      if (head != nullptr) REQUIRE(head->ReplaySamples(samples).ok());
    }
  }
  REQUIRE((*reader)->status().ok());
  return log;
}

TEST_CASE("head: Commit logs new series, then samples, in one batch; replay restores them",
          "[storage][head]") {
  auto fs = NewMemFileSystem();
  Head head(HeadOptions{});
  {
    auto w = OpenWal(fs.get());
    auto app = head.NewAppender(w.get());
    auto r1 = app->Append(L({{"__name__", "up"}, {"job", "a"}}), 1000, 1);
    auto r2 = app->Append(L({{"__name__", "up"}, {"job", "b"}}), 1000, 2);
    REQUIRE(r1.ok());
    REQUIRE(r2.ok());
    REQUIRE(app->AppendByRef(*r1, 2000, 3).ok());
    REQUIRE(app->Commit().ok());
    // Second batch: known series only, so no series record.
    REQUIRE(app->AppendByRef(*r2, 2000, 4).ok());
    REQUIRE(app->Append(L({{"__name__", "up"}, {"job", "a"}}), 3000, 5).ok());
    REQUIRE(app->Commit().ok());
    // An empty commit logs nothing.
    REQUIRE(app->Commit().ok());
    CHECK(w->stats().batches == 2);
  }
  const Log log = ReadLog(fs.get());
  using RT = wal::RecordType;
  CHECK(log.types == std::vector<RT>{RT::kSeries, RT::kSamples, RT::kSamples});
  REQUIRE(log.series.size() == 2);
  CHECK(log.series[0] == std::pair<SeriesRef, std::string>{1, R"(up{job="a"})"});
  CHECK(log.series[1] == std::pair<SeriesRef, std::string>{2, R"(up{job="b"})"});
  REQUIRE(log.samples.size() == 5);
  CHECK(log.samples[2].ref == 1);
  CHECK(log.samples[2].t == 2000);

  Head replayed(HeadOptions{});
  ReadLog(fs.get(), &replayed);
  auto want = ReadAll(head, {});
  auto got = ReadAll(replayed, {});
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].labels == want[i].labels);
    CHECK(got[i].ts == want[i].ts);
    CHECK(got[i].bits == want[i].bits);
  }
  CHECK(replayed.SeriesRefs() == head.SeriesRefs());
  CHECK(replayed.ReplayUnknownRefSamples() == 0);
  // New series continue after the replayed refs.
  auto app = replayed.NewAppender(nullptr);
  CHECK(*app->Append(L({{"__name__", "new"}}), 1, 1) == 3);
}

TEST_CASE("head: a failed WAL write fails Commit and leaves nothing visible", "[storage][head]") {
  auto mem = NewMemFileSystem();
  FaultInjectionFileSystem fs(mem.get());
  Head head(HeadOptions{});
  auto w = OpenWal(&fs);
  auto app = head.NewAppender(w.get());
  const Labels ls = L({{"__name__", "up"}});
  REQUIRE(app->Append(ls, 1000, 1).ok());
  fs.FailNthAppend(1, /*sticky=*/true);
  Status st = app->Commit();
  CHECK(!st.ok());
  CHECK(app->pending() == 0);
  CHECK(ReadAll(head, {}).empty());
  CHECK(head.Stats().samples_appended == 0);

  // Once the disk recovers, the series record is logged with the next batch that uses it.
  fs.ClearFaults();
  auto ref = app->Append(ls, 2000, 2);
  REQUIRE(ref.ok());
  REQUIRE(app->Commit().ok());
  auto got = ReadAll(head, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{2000});
  w.reset();
  Head replayed(HeadOptions{});
  const Log log = ReadLog(&fs, &replayed);
  REQUIRE(log.series.size() == 1);
  CHECK(log.series[0].first == *ref);
  CHECK(ReadAll(replayed, {}).size() == 1);
}

TEST_CASE("head: a series created by one appender is logged by whichever commits first",
          "[storage][head]") {
  auto fs = NewMemFileSystem();
  Head head(HeadOptions{});
  auto w = OpenWal(fs.get());
  auto a = head.NewAppender(w.get());
  auto b = head.NewAppender(w.get());
  const Labels ls = L({{"__name__", "shared"}});
  auto ref = a->Append(ls, 1000, 1);  // a creates the series but commits last
  REQUIRE(ref.ok());
  REQUIRE(b->AppendByRef(*ref, 2000, 2).ok());
  REQUIRE(b->Commit().ok());
  REQUIRE(a->Commit().ok());
  w.reset();
  Head replayed(HeadOptions{});
  const Log log = ReadLog(fs.get(), &replayed);
  REQUIRE(!log.series.empty());
  CHECK(log.types.front() == wal::RecordType::kSeries);
  CHECK(replayed.ReplayUnknownRefSamples() == 0);
  auto got = ReadAll(replayed, {});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{1000, 2000});
}

std::string Encoded(const Labels& ls) { return std::string(ls.Encoded()); }

TEST_CASE("head: replay keeps refs, skips unknown refs, is idempotent and handles aliases",
          "[storage][head]") {
  HeadOptions opts;
  opts.out_of_order_window_ms = 1000;
  Head head(opts);
  const Labels a = L({{"__name__", "a"}}), b = L({{"__name__", "b"}}), c = L({{"__name__", "c"}});
  const std::string ea = Encoded(a), eb = Encoded(b), ec = Encoded(c);
  const wal::RefSeries series[] = {{5, ea}, {9, eb}, {5, ea}};
  REQUIRE(head.ReplaySeries(series).ok());
  const wal::RefSample samples[] = {
      {5, 100, 1}, {9, 100, 2}, {42, 100, 3}, {5, 200, 4}, {5, 150, 5}, {5, 200, 4}};
  REQUIRE(head.ReplaySamples(samples).ok());
  REQUIRE(head.ReplaySamples(samples).ok());  // replaying twice changes nothing
  CHECK(head.ReplayUnknownRefSamples() == 2);
  HeadStats st = head.Stats();
  CHECK(st.series == 2);
  CHECK(st.samples_appended == 4);
  CHECK(st.out_of_order_samples == 1);
  CHECK(st.rejected_samples == 0);

  // Out-of-order rules apply: 5's newest is 200, window 1000.
  const wal::RefSample late[] = {{5, -900, 6}, {5, -800, 7}, {5, 200, 8}};
  REQUIRE(head.ReplaySamples(late).ok());
  st = head.Stats();
  CHECK(st.rejected_samples == 2);  // too old, and a conflict at 200
  CHECK(st.samples_appended == 5);

  // The same labels under another ref: an alias of the same series.
  const wal::RefSeries alias[] = {{11, ea}};
  REQUIRE(head.ReplaySeries(alias).ok());
  const wal::RefSample via_alias[] = {{11, 300, 9}};
  REQUIRE(head.ReplaySamples(via_alias).ok());
  CHECK(head.SeriesRefs() == std::vector<SeriesRef>{5, 9, 11});
  Labels got_labels;
  REQUIRE(head.SeriesLabels(11, &got_labels));
  CHECK(got_labels == a);

  // A known ref with other labels is corruption; so is a malformed label set.
  const wal::RefSeries clash[] = {{9, ec}};
  CHECK(head.ReplaySeries(clash).IsCorruption());
  const wal::RefSeries garbage[] = {{12, "\x05"}};
  CHECK(!head.ReplaySeries(garbage).ok());

  auto got = ReadAll(head, {Eq("__name__", "a")});
  REQUIRE(got.size() == 1);
  CHECK(got[0].ts == std::vector<int64_t>{-800, 100, 150, 200, 300});
  auto app = head.NewAppender(nullptr);
  CHECK(*app->Append(c, 1, 1) == 12);
}

}  // namespace
}  // namespace vigil::storage
