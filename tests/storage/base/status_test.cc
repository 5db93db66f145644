#include "storage/base/status.h"

#include <catch2/catch.hpp>

#include <memory>

namespace vigil {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("value " + std::to_string(v) + " is not positive");
  return v;
}

Result<int> Doubled(int v) {
  VIGIL_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status CheckBoth(int a, int b) {
  VIGIL_RETURN_IF_ERROR(ParsePositive(a).status());
  VIGIL_RETURN_IF_ERROR(ParsePositive(b).status().WithContext("second"));
  return Status::OK();
}

TEST_CASE("OK status carries no message", "[storage][base][status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.ToString() == "OK");
  CHECK(s.WithContext("ctx").ok());
}

TEST_CASE("error status names its code and message", "[storage][base][status]") {
  Status s = Status::Corruption("segment 3 offset 128: bad checksum");
  CHECK_FALSE(s.ok());
  CHECK(s.IsCorruption());
  CHECK(s.ToString() == "corruption: segment 3 offset 128: bad checksum");
  CHECK(s.WithContext("wal replay").message() == "wal replay: segment 3 offset 128: bad checksum");
}

TEST_CASE("Result holds a value or an error", "[storage][base][status]") {
  auto good = Doubled(21);
  REQUIRE(good.ok());
  CHECK(*good == 42);
  auto bad = Doubled(-1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().IsInvalidArgument());
  CHECK(bad.status().message() == "value -1 is not positive");
}

TEST_CASE("Result moves out move-only values", "[storage][base][status]") {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

TEST_CASE("RETURN_IF_ERROR stops at the first failure", "[storage][base][status]") {
  CHECK(CheckBoth(1, 2).ok());
  CHECK(CheckBoth(-1, 2).message() == "value -1 is not positive");
  CHECK(CheckBoth(1, -2).message() == "second: value -2 is not positive");
}

}  // namespace
}  // namespace vigil
