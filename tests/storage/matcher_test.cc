#include "storage/matcher.h"

#include <re2/re2.h>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

namespace vigil::storage {
namespace {

Matcher M(MatchType type, std::string_view name, std::string_view value) {
  auto m = Matcher::Make(type, name, value);
  REQUIRE(m.ok());
  return *m;
}

TEST_CASE("Matcher semantics on series", "[storage][matcher]") {
  struct Case {
    MatchType type;
    const char* name;
    const char* value;
    const char* series;
    bool want;
  };
  using enum MatchType;
  const std::vector<Case> cases = {
      {kEqual, "job", "api", R"(up{job="api"})", true},
      {kEqual, "job", "api", R"(up{job="web"})", false},
      {kEqual, "job", "api", "up", false},
      {kNotEqual, "job", "api", R"(up{job="web"})", true},
      {kNotEqual, "job", "api", "up", true},
      // A missing label compares as "".
      {kEqual, "job", "", "up", true},
      {kEqual, "job", "", R"(up{job="api"})", false},
      {kNotEqual, "job", "", "up", false},
      {kNotEqual, "job", "", R"(up{job="api"})", true},
      {kRegexMatch, "job", ".*", "up", true},
      {kRegexMatch, "job", ".+", "up", false},
      {kRegexNoMatch, "job", ".+", "up", true},
      {kRegexMatch, "job", "api|", "up", true},
      {kRegexMatch, "job", "a.*", "up", false},
      // Fully anchored.
      {kRegexMatch, "job", "api", R"(up{job="api-2"})", false},
      {kRegexMatch, "job", "pi", R"(up{job="api"})", false},
      {kRegexMatch, "job", "a.i", R"(up{job="api"})", true},
      {kRegexMatch, "job", "a.i", R"(up{job="xapix"})", false},
      {kRegexMatch, "job", "a|ap", R"(up{job="ap"})", true},
      {kRegexMatch, "job", "x|api", R"(up{job="api"})", true},
      {kRegexNoMatch, "job", "api|web", R"(up{job="web"})", false},
      {kRegexNoMatch, "job", "api|web", R"(up{job="db"})", true},
      {kRegexMatch, "job", "ap.*", R"(up{job="api"})", true},
      {kRegexMatch, "job", "ap.*", R"(up{job="xapi"})", false},
      // `.` matches a newline, as in Prometheus.
      {kRegexMatch, "v", "a.b", "{v=\"a\\nb\"}", true},
      {kRegexMatch, "v", ".*", "{v=\"x\\ny\"}", true},
      {kRegexMatch, "v", "x.*", "{v=\"x\\ny\"}", true},
      {kRegexMatch, "v", "(?i)API", R"({v="api"})", true},
      {kRegexMatch, "v", "(?i)api|web", R"({v="WEB"})", true},  // a flag holds to the end of its group
      {kRegexMatch, "v", "(?i:api|web)", R"({v="WEB"})", true},
      {kRegexMatch, "v", "a\\.b", R"({v="a.b"})", true},
      {kRegexMatch, "v", "a\\.b", R"({v="axb"})", false},
      {kRegexMatch, "v", "é+", R"({v="ééé"})", true},
      {kRegexMatch, "__name__", "http_.*_total", R"(http_requests_total{v="1"})", true},
  };
  for (const Case& c : cases) {
    const Matcher m = M(c.type, c.name, c.value);
    const Labels ls = *ParseLabels(c.series);
    INFO(m.ToString() << " on " << c.series);
    CHECK(m.Matches(ls) == c.want);
    CHECK(m.Matches(ls.Get(c.name)) == c.want);
  }
}

TEST_CASE("MatchesEmpty tells whether series without the label match", "[storage][matcher]") {
  using enum MatchType;
  CHECK(M(kEqual, "a", "").MatchesEmpty());
  CHECK_FALSE(M(kEqual, "a", "x").MatchesEmpty());
  CHECK_FALSE(M(kNotEqual, "a", "").MatchesEmpty());
  CHECK(M(kNotEqual, "a", "x").MatchesEmpty());
  CHECK(M(kRegexMatch, "a", ".*").MatchesEmpty());
  CHECK_FALSE(M(kRegexMatch, "a", ".+").MatchesEmpty());
  CHECK(M(kRegexNoMatch, "a", ".+").MatchesEmpty());
  CHECK(M(kRegexMatch, "a", "x|").MatchesEmpty());
  CHECK(M(kRegexMatch, "a", "x?").MatchesEmpty());
  CHECK_FALSE(M(kRegexMatch, "a", "x.*").MatchesEmpty());
}

TEST_CASE("Invalid regexes are rejected with the matcher named", "[storage][matcher]") {
  for (const char* re : {"a(b", "*", "a)|(b", "[z-a]", "(?P<n", "a{2,1}", "\\"}) {
    INFO(re);
    auto m = Matcher::Make(MatchType::kRegexMatch, "job", re);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().IsInvalidArgument());
    CHECK(m.status().message().find("invalid regular expression in matcher job=~") != std::string::npos);
  }
  auto neg = Matcher::Make(MatchType::kRegexNoMatch, "job", "a(b");
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.status().message().find("job!~\"a(b\"") != std::string::npos);
  // Plain matchers never fail, whatever their value.
  CHECK(Matcher::Make(MatchType::kEqual, "job", "a(b").ok());
}

TEST_CASE("Simple regexes are recognised", "[storage][matcher]") {
  using S = RegexShape;
  struct Case {
    const char* re;
    S shape;
    std::vector<std::string> set;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"abc", S::kLiteralSet, {"abc"}, ""},
      {"", S::kLiteralSet, {""}, ""},
      {"c|a|b|a", S::kLiteralSet, {"a", "b", "c"}, ""},
      {"(?:a|b)", S::kLiteralSet, {"a", "b"}, ""},
      {"(a|b)", S::kLiteralSet, {"a", "b"}, ""},
      {"((abc))", S::kLiteralSet, {"abc"}, ""},
      {"a||b", S::kLiteralSet, {"", "a", "b"}, ""},
      {"a\\.b|c\\|d", S::kLiteralSet, {"a.b", "c|d"}, ""},
      {"a b/c-d_é", S::kLiteralSet, {"a b/c-d_é"}, ""},
      {"\\(x\\)\\[\\]\\{\\}\\^\\$\\*\\+\\?\\\\", S::kLiteralSet, {"(x)[]{}^$*+?\\"}, ""},
      {"abc.*", S::kPrefix, {}, "abc"},
      {"(?:abc.*)", S::kPrefix, {}, "abc"},
      {"a\\.b.*", S::kPrefix, {}, "a.b"},
      {".*", S::kAny, {}, ""},
      {"(.*)", S::kAny, {}, ""},
      {".+", S::kNonEmpty, {}, ""},
      {"(?i)abc", S::kGeneral, {}, ""},
      {"(?i:a|b)", S::kGeneral, {}, ""},
      {"a.c", S::kGeneral, {}, ""},
      {"a\\.*", S::kGeneral, {}, ""},
      {"ab*", S::kGeneral, {}, ""},
      {"abc.*?", S::kGeneral, {}, ""},
      {"abc.+", S::kGeneral, {}, ""},
      {".*abc", S::kGeneral, {}, ""},
      {"a.*|b", S::kGeneral, {}, ""},
      {"[ab]", S::kGeneral, {}, ""},
      {"[(]|a", S::kGeneral, {}, ""},
      {"(a)|(b)", S::kGeneral, {}, ""},
      {"\\d", S::kGeneral, {}, ""},
      {"a\\nb", S::kGeneral, {}, ""},
      {"^abc$", S::kGeneral, {}, ""},
      {"a{2}", S::kGeneral, {}, ""},
      {"(?s).*", S::kGeneral, {}, ""},
  };
  for (const Case& c : cases) {
    INFO(c.re);
    const Matcher m = M(MatchType::kRegexMatch, "l", c.re);
    CHECK(m.shape() == c.shape);
    CHECK(m.SetMatches() == c.set);
    CHECK(m.Prefix() == c.prefix);
  }
  CHECK(M(MatchType::kEqual, "l", "abc").shape() == RegexShape::kGeneral);
  CHECK(M(MatchType::kEqual, "l", "abc").SetMatches().empty());
  CHECK(M(MatchType::kRegexNoMatch, "l", "a|b").SetMatches() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("Large literal sets use bisection", "[storage][matcher]") {
  std::string re;
  for (int i = 0; i < 50; ++i) re += (i ? "|" : "") + std::string("v") + std::to_string(i);
  const Matcher m = M(MatchType::kRegexMatch, "l", re);
  REQUIRE(m.shape() == RegexShape::kLiteralSet);
  CHECK(m.SetMatches().size() == 50);
  for (int i = 0; i < 60; ++i) CHECK(m.Matches("v" + std::to_string(i)) == (i < 50));
  CHECK_FALSE(m.Matches("v"));
}

TEST_CASE("ToString writes PromQL matchers", "[storage][matcher]") {
  CHECK(M(MatchType::kEqual, "job", "a\"b").ToString() == R"(job="a\"b")");
  CHECK(M(MatchType::kNotEqual, "job", "x").ToString() == R"(job!="x")");
  CHECK(M(MatchType::kRegexMatch, "job", "a\\.b").ToString() == R"(job=~"a\\.b")");
  CHECK(M(MatchType::kRegexNoMatch, "job", "x").ToString() == R"(job!~"x")");
  CHECK(M(MatchType::kEqual, "a.b", "x").ToString() == R"("a.b"="x")");
  CHECK(M(MatchType::kEqual, "job", "x") == M(MatchType::kEqual, "job", "x"));
}

// Independent reference: RE2's full match with Prometheus' own wrapping.
bool Reference(const RE2& re, const std::string& s) { return RE2::FullMatch(s, re); }

// Pieces of regexes that stay within the fast-path shapes, and input pieces that overlap them.
const std::vector<std::string> kRegexAtoms = {"a", "b", "ab", "é", "\\.", "\\|", "\\*", "\\(", "\\)",
                                              "\\-", "\\/", "\\_", "\\ ", "\\\\", "\\[", "\\{",
                                              "\\^", "\\$", "\\?", "\\+", "-", "/", "_", " ", "x"};
const std::vector<std::string> kInputAtoms = {"a", "b", "ab", "é", ".", "|", "*", "(", ")", "-", "/",
                                              "_", " ", "\\", "[", "{", "^", "$", "?", "+", "x",
                                              "\n", "A", "É", "€"};

std::string RandomLiteralRegex(std::mt19937& rng) {
  std::string re;
  for (size_t n = rng() % 4; n > 0; --n) re += kRegexAtoms[rng() % kRegexAtoms.size()];
  return re;
}

std::string RandomRegex(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0:
      return RandomLiteralRegex(rng);
    case 1:
    case 2: {
      std::string re = RandomLiteralRegex(rng);
      for (size_t n = 1 + rng() % 4; n > 0; --n) re += "|" + RandomLiteralRegex(rng);
      return rng() % 2 ? "(?:" + re + ")" : re;
    }
    case 3:
      return RandomLiteralRegex(rng) + ".*";
    case 4:
      return rng() % 2 ? ".*" : ".+";
    default:
      return "(" + RandomLiteralRegex(rng) + "|" + RandomLiteralRegex(rng) + ")";
  }
}

std::string RandomInput(std::mt19937& rng, const Matcher& m) {
  std::string s;
  // Often start from a string the regex is about, so matches are not all false.
  if (rng() % 2 && !m.SetMatches().empty()) s = m.SetMatches()[rng() % m.SetMatches().size()];
  if (rng() % 2 && m.shape() == RegexShape::kPrefix) s = m.Prefix();
  for (size_t n = rng() % 3; n > 0; --n) s += kInputAtoms[rng() % kInputAtoms.size()];
  return s;
}

TEST_CASE("Fast paths agree with RE2 on random strings", "[storage][matcher]") {
  std::mt19937 rng(7091);
  RE2::Options opts;
  opts.set_dot_nl(true);
  opts.set_log_errors(false);
  int fast = 0, matched = 0, checks = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string re_text = RandomRegex(rng);
    INFO("regex: " << re_text);
    const RE2 reference("(?s:" + re_text + ")");
    REQUIRE(reference.ok());
    const Matcher m = M(MatchType::kRegexMatch, "l", re_text);
    const Matcher neg = M(MatchType::kRegexNoMatch, "l", re_text);
    if (m.shape() != RegexShape::kGeneral) ++fast;
    CHECK(m.MatchesEmpty() == Reference(reference, ""));
    for (int k = 0; k < 30; ++k) {
      const std::string s = RandomInput(rng, m);
      INFO("input: " << s);
      const bool want = Reference(reference, s);
      REQUIRE(m.Matches(s) == want);
      REQUIRE(neg.Matches(s) == !want);
      matched += want;
      ++checks;
    }
  }
  INFO("fast-path regexes: " << fast << ", matches: " << matched << " of " << checks);
  CHECK(fast == 3000);           // the generator stays within the fast-path shapes
  CHECK(matched > checks / 10);  // and the inputs hit them
}

TEST_CASE("Every escape read as a literal is a literal to RE2", "[storage][matcher]") {
  for (char c : std::string("\\.+*?()|[]{}^$-/_ ")) {
    const std::string re = std::string("\\") + c;
    INFO(re);
    const Matcher m = M(MatchType::kRegexMatch, "l", re);
    REQUIRE(m.shape() == RegexShape::kLiteralSet);
    CHECK(m.SetMatches() == std::vector<std::string>{std::string(1, c)});
    CHECK(RE2::FullMatch(std::string(1, c), RE2(re)));
  }
}

}  // namespace
}  // namespace vigil::storage
