#include <catch2/catch.hpp>

#include "tools/vigil/statement.h"

using namespace vigil::shell;

TEST_CASE("NeedsMoreInput follows brackets, quotes and backslashes", "[tools][shell][statement]") {
  CHECK_FALSE(NeedsMoreInput("up"));
  CHECK(NeedsMoreInput("sum(rate(x[5m])"));
  CHECK(NeedsMoreInput("up{job=\"a"));
  CHECK(NeedsMoreInput("up{job=\"a\","));
  CHECK_FALSE(NeedsMoreInput("up{job=\"(\"}"));      // bracket inside a string
  CHECK_FALSE(NeedsMoreInput("up{job=\"\\\"(\"}"));  // escaped quote inside a string
  CHECK(NeedsMoreInput("up{job=`a"));
  CHECK_FALSE(NeedsMoreInput("up # a comment with ("));
  CHECK(NeedsMoreInput("sum(\nup # (\n"));
  CHECK(NeedsMoreInput("up +\\"));
  CHECK(NeedsMoreInput("up + \\  "));
  CHECK_FALSE(NeedsMoreInput("up)"));  // too many closers: the server says why
  CHECK_FALSE(NeedsMoreInput("sum(\nup)"));
  CHECK(StripContinuation("up + \\") == "up + ");
  CHECK(StripContinuation("up") == "up");
}

TEST_CASE("FindErrorPosition reads line:col from server messages", "[tools][shell][statement]") {
  int line = 0, col = 0;
  REQUIRE(FindErrorPosition(
      "invalid parameter \"query\": 1:7: parse error: unclosed left parenthesis", &line, &col));
  CHECK(line == 1);
  CHECK(col == 7);
  REQUIRE(FindErrorPosition("2:13: parse error: unexpected <op:*>", &line, &col));
  CHECK(line == 2);
  CHECK(col == 13);
  CHECK_FALSE(FindErrorPosition("query timed out at 12:30 after 2m", &line, &col));
  CHECK_FALSE(FindErrorPosition("no position here", &line, &col));
}

TEST_CASE("MarkErrorPosition puts a caret under the column", "[tools][shell][statement]") {
  CHECK(MarkErrorPosition("sum(up", "1:7: parse error: unclosed left parenthesis") ==
        "  sum(up\n"
        "        ^\n");
  CHECK(MarkErrorPosition("up )", "bad_data: 1:4: parse error: unexpected right parenthesis") ==
        "  up )\n"
        "     ^\n");
  // Multi-line queries get line numbers; the caret goes under the named line.
  CHECK(MarkErrorPosition("sum(\n  up +* 2)", "2:7: parse error: unexpected <op:*>") ==
        "  1| sum(\n"
        "  2|   up +* 2)\n"
        "           ^\n");
  // Columns count bytes on the server; the caret counts terminal columns.
  CHECK(MarkErrorPosition("x{a=\"é\"} )", "1:11: parse error") ==
        "  x{a=\"é\"} )\n"
        "           ^\n");
  CHECK(MarkErrorPosition("up", "9:1: parse error") == "");
  CHECK(MarkErrorPosition("up", "no position") == "");
}

TEST_CASE("DisplayWidth counts terminal columns", "[tools][shell][statement]") {
  CHECK(DisplayWidth("abc") == 3);
  CHECK(DisplayWidth("é") == 1);
  CHECK(DisplayWidth("─") == 1);
  CHECK(DisplayWidth("日本") == 4);
  CHECK(DisplayWidth("e\xcc\x81") == 1);  // e + combining acute
}
