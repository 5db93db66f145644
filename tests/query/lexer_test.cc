#include "query/parser/lexer.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace vigil::query::detail {
namespace {

// Renders the token stream as "kind:text" words, e.g. "id:foo {:{ ...".
std::string Lex(std::string_view input) {
  Lexer lexer(input);
  std::string out;
  for (int i = 0; i < 100; ++i) {
    Token t = lexer.Next();
    if (!out.empty()) out += ' ';
    switch (t.kind) {
      case Tok::kEOF: return out + "EOF";
      case Tok::kError: return out + "ERR(" + std::string(t.text) + ")@" + std::to_string(t.pos);
      case Tok::kIdentifier: out += t.keyword == Keyword::kNone ? "id:" : "kw:"; break;
      case Tok::kMetricIdentifier: out += "mid:"; break;
      case Tok::kNumber: out += "num:"; break;
      case Tok::kDuration: out += "dur:"; break;
      case Tok::kString: out += "str:"; break;
      default: break;
    }
    out += t.text;
  }
  return out;
}

struct LexCase {
  const char* input;
  const char* want;
};

TEST_CASE("lexer token streams", "[query][parser][lexer]") {
  const LexCase cases[] = {
      {"", "EOF"},
      {"   \n\t", "EOF"},
      {"foo", "id:foo EOF"},
      {"foo:bar_1", "mid:foo:bar_1 EOF"},
      {":foo", "mid::foo EOF"},
      {"sum BY Offset bool", "kw:sum kw:BY kw:Offset kw:bool EOF"},
      {"inf NaN -Inf", "num:inf num:NaN - num:Inf EOF"},
      {"1 1.5 .5 5. 1e3 1E-3 0x1F 0X_ff 1_000", "num:1 num:1.5 num:.5 num:5. num:1e3 num:1E-3 num:0x1F num:0X_ff num:1_000 EOF"},
      {"5m 1h30m 1.5m 10ms 2y3w", "dur:5m dur:1h30m dur:1.5m dur:10ms dur:2y3w EOF"},
      {"a+b-c*d/e%f^g", "id:a + id:b - id:c * id:d / id:e % id:f ^ id:g EOF"},
      {"== != < <= > >= </ >/", "== != < <= > >= </ >/ EOF"},
      {"a @ 100", "id:a @ num:100 EOF"},
      {"{a=\"b\", c!=\"d\", e=~'f', g!~`h`}",
       "{ id:a = str:\"b\" , id:c != str:\"d\" , id:e =~ str:'f' , id:g !~ str:`h` } EOF"},
      {"{offset=\"x\", sum=\"y\"}", "{ id:offset = str:\"x\" , id:sum = str:\"y\" } EOF"},
      {"{\"metric.name\", \"label.x\"=\"v\"}",
       "{ str:\"metric.name\" , str:\"label.x\" = str:\"v\" } EOF"},
      {"x[5m]", "id:x [ dur:5m ] EOF"},
      {"x[1h:5m]", "id:x [ dur:1h : dur:5m ] EOF"},
      {"x[ 5m + step() ]", "id:x [ dur:5m + kw:step ( ) ] EOF"},
      {"x[max_of(1m, 2m)]", "id:x [ id:max_of ( dur:1m , dur:2m ) ] EOF"},
      {"# comment\nfoo # trailing", "id:foo EOF"},
      {"foo{# inside\na=\"b\"}", "id:foo { id:a = str:\"b\" } EOF"},
      {"\"a\\\"b\" 'c\\'d' `e\\f`", "str:\"a\\\"b\" str:'c\\'d' str:`e\\f` EOF"},
      {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\x41\\101\\u00e9\\U0001F600\"",
       "str:\"\\a\\b\\f\\n\\r\\t\\v\\\\\\x41\\101\\u00e9\\U0001F600\" EOF"},
      {"\"héllo ✓\"", "str:\"héllo ✓\" EOF"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(Lex(c.input) == c.want);
  }
}

TEST_CASE("lexer errors say what went wrong and where", "[query][parser][lexer]") {
  const LexCase cases[] = {
      {"(foo", "( id:foo ERR(unclosed left parenthesis)@4"},
      {"foo)", "id:foo ERR(unexpected right parenthesis ')')@3"},
      {"foo}", "id:foo ERR(unexpected right brace '}')@3"},
      {"foo]", "id:foo ERR(unexpected right bracket ']')@3"},
      {"foo{", "id:foo { ERR(unexpected end of input inside braces)@4"},
      {"foo{{", "id:foo { ERR(unexpected left brace '{')@4"},
      {"foo[5m", "id:foo [ dur:5m ERR(unexpected end of input in duration expression)@6"},
      {"foo[5x]", "id:foo [ ERR(bad number or duration syntax: \"5\")@4"},
      {"1a", "ERR(bad number or duration syntax: \"1\")@0"},
      {"1e", "ERR(bad number or duration syntax: \"1e\")@0"},
      {"1..2", "ERR(bad number or duration syntax: \"1..\")@0"},
      {"a =~ b", "id:a ERR(unexpected character after '=': '~')@2"},
      {"!a", "ERR(unexpected character after '!': 'a')@0"},
      {"{a!b}", "{ id:a ERR(unexpected character after '!' inside braces: 'b')@2"},
      {"$", "ERR(unexpected character: '$')@0"},
      {"{a=$}", "{ id:a = ERR(unexpected character inside braces: '$')@3"},
      {"\"abc", "ERR(unterminated quoted string)@0"},
      {"\"ab\nc\"", "ERR(unterminated quoted string)@0"},
      {"`abc", "ERR(unterminated raw string)@0"},
      {"\"\\q\"", "ERR(unknown escape sequence U+0071 'q')@0"},
      {"\"\\xZZ\"", "ERR(illegal character U+005A 'Z' in escape sequence)@0"},
      {"\"\\400\"", "ERR(escape sequence is an invalid Unicode code point)@0"},
      {"\"\\uD800\"", "ERR(escape sequence is an invalid Unicode code point)@0"},
      {"\"\\u12", "ERR(escape sequence not terminated)@0"},
      {"'\\\"'", "ERR(unknown escape sequence U+0022 '\"')@0"},
      {"\"\xff\"", "ERR(invalid UTF-8 rune)@0"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    CHECK(Lex(c.input) == c.want);
  }
}

TEST_CASE("token descriptions match Prometheus' wording", "[query][parser][lexer]") {
  auto first = [](std::string_view input) {
    Lexer l(input);
    return Describe(l.Next());
  };
  CHECK(first("foo") == "identifier \"foo\"");
  CHECK(first("foo:bar") == "metric identifier \"foo:bar\"");
  CHECK(first("by") == "<by>");
  CHECK(first("sum") == "<aggr:sum>");
  CHECK(first("and") == "<op:and>");
  CHECK(first("*") == "<op:*>");
  CHECK(first("(") == "\"(\"");
  CHECK(first("42") == "number \"42\"");
  CHECK(first("5m") == "duration \"5m\"");
  CHECK(first("\"abcdefghijklmn\"") == "string \"\\\"abcdefghi\"...");
  CHECK(first("") == "end of input");
}

}  // namespace
}  // namespace vigil::query::detail
