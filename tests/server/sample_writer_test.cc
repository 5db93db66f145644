// The ingest paths' one meeting point with storage: samples an OK commit could not keep are
// reported as rejected, never as written.

#include <catch2/catch.hpp>

#include "server/ingest/sample_writer.h"
#include "storage/labels.h"
#include "tests/server/ingest_test_util.h"

namespace vigil::server::ingest {
namespace {

using testing::TestDb;
using testing::TestSample;

TEST_CASE("ingest: a sample another writer pushed out of the window meanwhile is rejected, not "
          "written",
          "[server][ingest]") {
  TestDb db(/*ooo_window_ms=*/1000);
  const storage::Labels ls = storage::Labels::FromPairs({{"__name__", "up"}, {"job", "a"}});
  IngestOptions options;
  IngestOutcome out;
  {
    detail::SampleWriter writer(db.db(), Protocol::kRemoteWrite1, options, &out);
    bool labels_invalid = false;
    REQUIRE(writer.Append(ls, 10'000, 1, &labels_invalid) != storage::kNoSeriesRef);
    REQUIRE(writer.Append(storage::Labels::FromPairs({{"__name__", "up"}, {"job", "b"}}), 10'000,
                          2, &labels_invalid) != storage::kNoSeriesRef);
    // Another request commits a newer sample of job="a" before this one commits.
    auto other = db.db().NewAppender();
    REQUIRE(other->Append(ls, 60'000, 6).ok());
    REQUIRE(other->Commit().ok());
    writer.Finish();
  }
  CHECK(out.samples_written == 1);
  CHECK(out.samples_rejected() == 1);
  CHECK(out.rejected[static_cast<size_t>(RejectReason::kOutOfOrder)] == 1);
  CHECK(out.code == IngestCode::kBadInput);
  CHECK(out.http_status() == 400);
  CHECK_THAT(out.message, Catch::Contains(R"(up{job="a"})"));
  CHECK_THAT(out.message, Catch::Contains("timestamp 10000"));
  CHECK(db.Read(R"(up{job="a"})") == std::vector<TestSample>{{60'000, 6}});
  CHECK(db.Read(R"(up{job="b"})") == std::vector<TestSample>{{10'000, 2}});
}

}  // namespace
}  // namespace vigil::server::ingest
