#include <catch2/catch.hpp>

#include "tools/vigil/time_format.h"

using namespace vigil::shell;

TEST_CASE("ParseTime: relative, RFC 3339 and Unix seconds", "[tools][shell][time]") {
  const int64_t now = 1'800'000'000'000;
  CHECK(*ParseTime("now", now) == now);
  CHECK(*ParseTime("-1h", now) == now - 3'600'000);
  CHECK(*ParseTime("now-1h30m", now) == now - 5'400'000);
  CHECK(*ParseTime("now+5m", now) == now + 300'000);
  CHECK(*ParseTime("+500ms", now) == now + 500);
  CHECK(*ParseTime("2023-11-14T22:13:20Z", now) == 1'700'000'000'000);
  CHECK(*ParseTime("2023-11-14T22:13:20.25Z", now) == 1'700'000'000'250);
  CHECK(*ParseTime("2023-11-14T23:13:20+01:00", now) == 1'700'000'000'000);
  CHECK(*ParseTime("2023-11-14 22:13:20", now) == 1'700'000'000'000);
  CHECK(*ParseTime("2023-11-14", now) == 1'699'920'000'000);
  CHECK(*ParseTime("1700000000", now) == 1'700'000'000'000);
  CHECK(*ParseTime("1700000000.5", now) == 1'700'000'000'500);
  CHECK(*ParseTime("1969-12-31T23:59:59Z", now) == -1000);
  CHECK(IsRelativeTime("-1h"));
  CHECK(IsRelativeTime("now"));
  CHECK_FALSE(IsRelativeTime("1700000000"));
}

TEST_CASE("ParseTime rejects bad input with the text in the message", "[tools][shell][time]") {
  for (const char* bad :
       {"", "yesterday", "now-", "-1x", "2023-13-01T00:00:00Z", "2023-11-14T25:00:00Z",
        "2023-11-14T22:13:20", "2023-11-14T22:13:20Q", "17e", "nowish"}) {
    INFO(bad);
    auto r = ParseTime(bad, 0);
    if (std::string_view(bad) == "2023-11-14T22:13:20") {
      CHECK(r.ok());  // no zone means UTC
      continue;
    }
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(std::string("'") + bad + "'"));
  }
}

TEST_CASE("ParseStep: durations and seconds", "[tools][shell][time]") {
  CHECK(*ParseStep("15s") == 15'000);
  CHECK(*ParseStep("1m30s") == 90'000);
  CHECK(*ParseStep("15") == 15'000);
  CHECK(*ParseStep("0.5") == 500);
  CHECK_FALSE(ParseStep("0").ok());
  CHECK_FALSE(ParseStep("-1").ok());
  CHECK_FALSE(ParseStep("fast").ok());
}

TEST_CASE("Times and durations print for humans", "[tools][shell][time]") {
  CHECK(FormatTimestamp(1'700'000'000'000) == "2023-11-14 22:13:20");
  CHECK(FormatTimestamp(1'700'000'000'250) == "2023-11-14 22:13:20.250");
  CHECK(FormatTimestamp(-1) == "1969-12-31 23:59:59.999");
  CHECK(FormatDuration(5'400'000) == "1h30m");
  CHECK(FormatDuration(86'400'000 + 1) == "1d1ms");
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatElapsed(0.25) == "250µs");
  CHECK(FormatElapsed(12.34) == "12.3ms");
  CHECK(FormatElapsed(1520) == "1.52s");
}
