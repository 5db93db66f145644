#include "storage/labels.h"

#include <xxhash.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace vigil::storage {
namespace {

using namespace std::string_literals;

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<Label> ToVector(const Labels& ls) { return {ls.begin(), ls.end()}; }

TEST_CASE("Label and metric names follow the Prometheus rules", "[storage][labels]") {
  for (const char* ok : {"a", "_", "job", "__name__", "A_9", "_9z"}) {
    INFO(ok);
    CHECK(IsValidLabelName(ok));
    CHECK(IsValidMetricName(ok));
  }
  for (const char* bad : {"", "9a", "a-b", "a.b", "é", "a b", "a:b"}) {
    INFO(bad);
    CHECK_FALSE(IsValidLabelName(bad));
  }
  CHECK(IsValidMetricName("a:b"));
  CHECK(IsValidMetricName(":a"));
  CHECK(IsValidMetricName("job:http_requests:rate5m"));
  CHECK_FALSE(IsValidMetricName("9a"));
  CHECK_FALSE(IsValidMetricName("a-b"));
  CHECK_FALSE(IsValidMetricName(""));
}

TEST_CASE("Builder sorts, replaces, deletes and drops empty values", "[storage][labels]") {
  LabelsBuilder b;
  b.Set("job", "api").Set("__name__", "up").Set("instance", "h:1").Set("job", "web").Set("zone", "");
  auto ls = b.Build();
  REQUIRE(ls.ok());
  CHECK(ToVector(*ls) == std::vector<Label>{{"__name__", "up"}, {"instance", "h:1"}, {"job", "web"}});
  CHECK(ls->size() == 3);
  CHECK(ls->Get("job") == "web");
  CHECK(ls->Get("zone").empty());
  CHECK(ls->MetricName() == "up");
  CHECK(ls->Has("instance"));
  CHECK_FALSE(ls->Has("missing"));

  b.Del("instance").Set("job", "");
  CHECK(b.Build()->ToString() == "up");

  // Setting a value from a view into the builder itself must not dangle when its buffer grows.
  LabelsBuilder alias(Labels::FromPairs({{"a", "value-of-a"}}));
  for (int i = 0; i < 100; ++i) alias.Set("b" + std::to_string(i), alias.Get("a"));
  auto aliased = alias.Build();
  REQUIRE(aliased.ok());
  CHECK(aliased->Get("b99") == "value-of-a");
}

TEST_CASE("Builder reports duplicate names added in bulk", "[storage][labels]") {
  LabelsBuilder b;
  b.Add("job", "a").Add("env", "prod").Add("job", "b");
  auto ls = b.Build();
  REQUIRE_FALSE(ls.ok());
  CHECK(ls.status().IsInvalidArgument());
  CHECK(Contains(ls.status().message(), "duplicate label name \"job\""));

  b.Reset();
  b.Add("job", "a").Add("job", "");  // an empty value is no label
  CHECK(b.Build().ok());
}

TEST_CASE("FromPairs sorts by name and iteration yields pairs in order", "[storage][labels]") {
  const Labels ls = Labels::FromPairs({{"c", "3"}, {"a", "1"}, {"b", "2"}, {"d", ""}});
  CHECK(ToVector(ls) == std::vector<Label>{{"a", "1"}, {"b", "2"}, {"c", "3"}});
  CHECK(Labels().empty());
  CHECK(Labels().size() == 0);
  const Labels none;
  CHECK(none.begin() == none.end());
  CHECK(sizeof(Labels) <= 32);
}

TEST_CASE("Validate refuses a series with more than 65535 labels", "[storage][labels]") {
  std::vector<std::string> names;
  for (size_t i = 0; i < Labels::kMaxLabels; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "l%05zu", i);
    names.emplace_back(name);
  }
  std::vector<Label> ls = {{"__name__", "wide"}};
  for (const std::string& n : names) ls.push_back({n, "v"});
  // __name__ sorts first; 1 + 65534 more labels is the most allowed.
  CHECK(Labels::FromSorted(std::span(ls.data(), Labels::kMaxLabels)).Validate().ok());
  Status s = Labels::FromSorted(std::span(ls.data(), Labels::kMaxLabels + 1)).Validate();
  CHECK(s.IsInvalidArgument());
  CHECK(Contains(s.message(), "series wide has 65536 labels, more than 65535"));
}

TEST_CASE("Validate names the series and the offending label", "[storage][labels]") {
  CHECK(Labels::FromPairs({{"__name__", "up"}, {"job", "x"}}).Validate().ok());
  CHECK(Labels::FromPairs({{"job", "x"}}).Validate().ok());  // a metric name is not required
  CHECK(Labels::FromPairs({{"__name__", "up"}, {"v", "é€𝄞"}}).Validate().ok());

  Status empty = Labels().Validate();
  CHECK(empty.IsInvalidArgument());
  CHECK(Contains(empty.message(), "no labels"));

  Status bad_name = Labels::FromPairs({{"__name__", "up"}, {"1abc", "x"}}).Validate();
  CHECK(bad_name.IsInvalidArgument());
  CHECK(Contains(bad_name.message(), "invalid label name \"1abc\""));
  CHECK(Contains(bad_name.message(), "label 0"));
  CHECK(Contains(bad_name.message(), "up{\"1abc\"=\"x\"}"));

  Status bad_metric = Labels::FromPairs({{"__name__", "http.requests"}, {"job", "x"}}).Validate();
  CHECK(bad_metric.IsInvalidArgument());
  CHECK(Contains(bad_metric.message(), "invalid metric name \"http.requests\""));

  struct Case {
    std::string value;
    const char* why;
  };
  const std::vector<Case> invalid = {
      {"\xC0\xAF", "overlong '/'"},
      {"\xE0\x80\xAF", "overlong 3-byte"},
      {"\xF0\x80\x80\xAF", "overlong 4-byte"},
      {"\xED\xA0\x80", "surrogate U+D800"},
      {"\xED\xBF\xBF", "surrogate U+DFFF"},
      {"\xF4\x90\x80\x80", "above U+10FFFF"},
      {"\xE2\x82", "truncated"},
      {"ok\x80", "stray continuation"},
      {"\xFF", "0xFF byte"},
  };
  for (const Case& c : invalid) {
    INFO(c.why);
    Status s = Labels::FromPairs({{"__name__", "up"}, {"path", c.value}}).Validate();
    CHECK(s.IsInvalidArgument());
    CHECK(Contains(s.message(), "label \"path\" is not valid UTF-8"));
    CHECK(Contains(s.message(), "label 1 of series up{path="));
  }
  // Boundaries that are valid.
  CHECK(Labels::FromPairs({{"a", "\xED\x9F\xBF"}}).Validate().ok());      // U+D7FF
  CHECK(Labels::FromPairs({{"a", "\xEE\x80\x80"}}).Validate().ok());      // U+E000
  CHECK(Labels::FromPairs({{"a", "\xF4\x8F\xBF\xBF"}}).Validate().ok());  // U+10FFFF
}

TEST_CASE("Hash is XXH3 of the documented encoding", "[storage][labels]") {
  const Labels ls = Labels::FromPairs({{"__name__", "up"}, {"job", "api"}});
  const std::string encoded = "\x08__name__\x02up\x03job\x03" "api"s;
  CHECK(ls.Encoded() == encoded);
  CHECK(ls.Hash() == XXH3_64bits(encoded.data(), encoded.size()));
  // Pinned: the hash may be persisted, so it must never change between versions.
  CHECK(ls.Hash() == 0x455e9d47d8480df4ull);
  CHECK(Labels().Hash() == XXH3_64bits("", 0));

  // Lengths over 127 take a two-byte varint.
  const std::string long_value(200, 'v');
  const Labels long_ls = Labels::FromPairs({{"k", long_value}});
  CHECK(long_ls.Encoded() == "\x01k\xC8\x01"s + long_value);
}

TEST_CASE("Hash equality is never taken for label equality", "[storage][labels]") {
  // Concatenation-ambiguous pairs differ in encoding, hash and equality.
  const Labels a = Labels::FromPairs({{"a", "bc"}});
  const Labels b = Labels::FromPairs({{"ab", "c"}});
  CHECK(a != b);
  CHECK(a.Encoded() != b.Encoded());
  CHECK(a.Hash() != b.Hash());
  CHECK(a != Labels::FromPairs({{"a", "bd"}}));
  CHECK(a == Labels::FromPairs({{"a", "bc"}}));
}

TEST_CASE("HashSortedLabels equals Labels::Hash for small and large sets", "[storage][labels]") {
  std::vector<std::string> values;
  for (int i = 0; i < 40; ++i) values.push_back(std::string(50, static_cast<char>('a' + i % 26)));
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("label_" + std::to_string(100 + i));
  std::vector<Label> pairs;
  for (int i = 0; i < 40; ++i) pairs.push_back({names[i], values[i]});
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{40}}) {
    INFO(n);
    std::span<const Label> s(pairs.data(), n);
    CHECK(HashSortedLabels(s) == Labels::FromSorted(s).Hash());
  }
}

TEST_CASE("Comparison is lexicographic by pairs as in Prometheus", "[storage][labels]") {
  auto L = [](std::initializer_list<Label> p) { return Labels::FromPairs(p); };
  CHECK(L({{"a", "1"}}) < L({{"a", "2"}}));
  CHECK(L({{"a", "1"}}) < L({{"a", "1"}, {"b", "1"}}));
  CHECK(L({{"a", "2"}}) > L({{"a", "1"}, {"b", "1"}}));
  CHECK(L({{"b", "1"}}) > L({{"a", "1"}, {"c", "1"}}));
  CHECK(L({{"a", "1"}, {"b", "2"}}) < L({{"a", "1"}, {"c", "0"}}));
  CHECK(Labels() < L({{"a", "1"}}));
  CHECK((L({{"a", "x"}}) <=> L({{"a", "x"}})) == std::strong_ordering::equal);
  // Byte order, not length order: "ab" < "b".
  CHECK(L({{"x", "ab"}}) < L({{"x", "b"}}));
}

// The comparison skips the labels the two encodings share byte for byte; it must still order as
// the pairs do, also where one value is a prefix of the other, lengths need two varint bytes, or
// the first difference lies in a length byte.
TEST_CASE("Comparison agrees with comparing the pairs over random sets", "[storage][labels]") {
  std::mt19937_64 rng(3);
  auto random_string = [&](size_t max_len) {
    std::string s(rng() % (max_len + 1), 'a');
    for (char& c : s) c = static_cast<char>("aab\x01z\xff"[rng() % 6]);
    return s;
  };
  auto random_set = [&] {
    std::vector<Label> pairs;
    std::vector<std::string> store;
    store.reserve(16);
    const char* names[] = {"__name__", "a", "b", "instance", "job", "z"};
    for (const char* name : names) {
      if (rng() % 3 == 0) continue;
      store.push_back(rng() % 8 == 0 ? std::string(130 + rng() % 3, 'v') : random_string(4));
      if (store.back().empty()) store.back() = "v";
      pairs.push_back({name, store.back()});
    }
    return std::make_pair(Labels::FromPairs(pairs), std::vector<std::pair<std::string, std::string>>(
                                                        [&] {
                                                          std::vector<std::pair<std::string, std::string>> v;
                                                          for (const Label& l : pairs) v.emplace_back(l.name, l.value);
                                                          return v;
                                                        }()));
  };
  std::vector<std::pair<Labels, std::vector<std::pair<std::string, std::string>>>> sets;
  for (int i = 0; i < 300; ++i) sets.push_back(random_set());
  size_t less = 0, equal = 0;
  for (const auto& [la, pa] : sets) {
    for (const auto& [lb, pb] : sets) {
      const std::strong_ordering got = la <=> lb;
      const std::strong_ordering want = pa <=> pb;
      REQUIRE(got == want);
      less += got == std::strong_ordering::less;
      equal += got == std::strong_ordering::equal;
    }
  }
  CHECK(less > 10000);
  CHECK(equal >= 300);
}

TEST_CASE("ToString writes PromQL notation with escapes", "[storage][labels]") {
  CHECK(Labels::FromPairs({{"__name__", "up"}, {"job", "api"}, {"path", "/x"}}).ToString() ==
        R"(up{job="api",path="/x"})");
  CHECK(Labels::FromPairs({{"__name__", "up"}}).ToString() == "up");
  CHECK(Labels().ToString() == "{}");
  CHECK(Labels::FromPairs({{"a", "b"}}).ToString() == R"({a="b"})");
  CHECK(Labels::FromPairs({{"__name__", "a.b"}, {"c", "d"}}).ToString() == R"({__name__="a.b",c="d"})");
  CHECK(Labels::FromPairs({{"v", "say \"hi\"\\\n\t\x01\x7f"}}).ToString() ==
        R"({v="say \"hi\"\\\n\t\x01\x7f"})");
  CHECK(Labels::FromPairs({{"v", "é€\xE2\x80\xA8"}}).ToString() == "{v=\"é€\\u2028\"}");
  CHECK(Labels::FromPairs({{"v", "bad\xFF"}}).ToString() == R"({v="bad\xff"})");
}

TEST_CASE("ParseLabels accepts every series form", "[storage][labels]") {
  const Labels want = Labels::FromPairs({{"__name__", "up"}, {"job", "x"}});
  for (const char* text : {R"(up{job="x"})", R"(  up { job = "x" , } )", R"({__name__="up",job="x"})",
                           R"({job='x', __name__=`up`})", R"({"up", job="x"})", R"(up{"job"="x"})",
                           "up{job=\"x\"}\n"}) {
    INFO(text);
    auto ls = ParseLabels(text);
    REQUIRE(ls.ok());
    CHECK(*ls == want);
  }
  CHECK(*ParseLabels("up") == Labels::FromPairs({{"__name__", "up"}}));
  CHECK(*ParseLabels("up{}") == Labels::FromPairs({{"__name__", "up"}}));
  CHECK(ParseLabels("{}")->empty());
  CHECK(*ParseLabels(R"({a="", b="1"})") == Labels::FromPairs({{"b", "1"}}));
  CHECK(*ParseLabels(R"({a="\x41\101\u00e9\U0001F600\a\b\f\n\r\t\v\\\"\'"})") ==
        Labels::FromPairs({{"a", "AAé\xF0\x9F\x98\x80\a\b\f\n\r\t\v\\\"'"}}));
  CHECK(*ParseLabels(R"({a=`raw \n "q"`})") == Labels::FromPairs({{"a", R"(raw \n "q")"}}));
  CHECK(*ParseLabels("job:rate5m{a=\"1\"}") == Labels::FromPairs({{"__name__", "job:rate5m"}, {"a", "1"}}));
}

TEST_CASE("ParseLabels errors state the position", "[storage][labels]") {
  struct Case {
    std::string text;
    std::string position;
    std::string what;
  };
  const std::vector<Case> cases = {
      {R"(up{job="x")", "position 10", "expected ',' or '}'"},
      {R"(up{job=x})", "position 7", "expected a quoted label value"},
      {R"(up{job="x",job="y"})", "position 11", "duplicate label name \"job\""},
      {R"(up{1a="x"})", "position 3", "expected a label name"},
      {R"(up{job=~"x"})", "position 6", "matchers are not allowed"},
      {R"(up{job!="x"})", "position 6", "expected '='"},
      {R"(up{job="x} )", "position 7", "unterminated string"},
      {R"(up{job="x"} extra)", "position 12", "trailing input"},
      {R"({a="\xff"})", "position 3", "not valid UTF-8"},
      {R"({a="\u12"})", "position 8", "hexadecimal digit"},
      {R"({a="\ud800"})", "position 4", "not a valid Unicode code point"},
      {R"({a="\q"})", "position 4", "unknown escape"},
      {R"({a="\400"})", "position 4", "octal escape value above 255"},
      {"{a=\"x\ny\"}", "position 5", "newline in string"},
      {R"({"a.b"="x"})", "position 1", "invalid label name \"a.b\""},
      {R"({__name__="a-b"})", "position 1", "invalid metric name \"a-b\""},
      {R"({"a","b"})", "position 5", "second quoted metric name"},
      {R"(up{"a"})", "position 3", "duplicate label name \"__name__\""},
      {"", "position 0", "expected a metric name or '{'"},
      {"9up", "position 0", "expected a metric name"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto ls = ParseLabels(c.text);
    REQUIRE_FALSE(ls.ok());
    CHECK(ls.status().IsInvalidArgument());
    INFO(ls.status().message());
    CHECK(Contains(ls.status().message(), c.position));
    CHECK(Contains(ls.status().message(), c.what));
  }
}

// Random valid UTF-8, biased to the characters that need escaping.
std::string RandomValue(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "a", "Z", "0", " ", "\"", "'", "`", "\\", "\n", "\t", "\r", "\x01", "\x7f", "{", "}", ",", "=",
      "é", "€", "𝄞", "\xC2\x80", "\xE2\x80\xA8", "\xEF\xBB\xBF", "\xC2\xAD", "\xF4\x8F\xBF\xBF"};
  std::uniform_int_distribution<size_t> len(1, 12), pick(0, pieces.size() - 1);
  std::string s;
  for (size_t i = len(rng); i > 0; --i) s += pieces[pick(rng)];
  return s;
}

TEST_CASE("ToString and ParseLabels round-trip escapes and UTF-8", "[storage][labels]") {
  std::mt19937 rng(20240611);
  const std::vector<std::string> names = {"__name__", "a", "job", "_x", "le", "zone_9"};
  for (int iter = 0; iter < 2000; ++iter) {
    LabelsBuilder b;
    for (const std::string& n : names) {
      if (rng() % 2 == 0) continue;
      b.Set(n, n == "__name__" ? (rng() % 2 ? "up" : "ns:metric_total") : RandomValue(rng));
    }
    const Labels ls = *b.Build();
    const std::string text = ls.ToString();
    INFO(text);
    auto back = ParseLabels(text);
    REQUIRE(back.ok());
    CHECK(*back == ls);
    if (!ls.empty()) CHECK(ls.Validate().ok());
  }
}

TEST_CASE("FromEncoded reads Encoded and rejects corruption", "[storage][labels]") {
  const Labels ls = Labels::FromPairs({{"__name__", "up"}, {"job", "api"}});
  auto back = Labels::FromEncoded(ls.Encoded());
  REQUIRE(back.ok());
  CHECK(*back == ls);
  CHECK(Labels::FromEncoded("")->empty());
  const std::string enc(ls.Encoded());
  CHECK(Labels::FromEncoded(enc.substr(0, enc.size() - 1)).status().IsCorruption());
  CHECK(Labels::FromEncoded("\x01" "a\x00"s).status().IsCorruption());                  // empty value
  CHECK(Labels::FromEncoded("\x01" "b\x01" "x\x01" "a\x01" "y"s).status().IsCorruption());  // unsorted
  CHECK(Labels::FromEncoded("\x01" "a\x01" "x\x01" "a\x01" "y"s).status().IsCorruption());  // duplicate
  CHECK(Labels::FromEncoded("\xFF\xFF\xFF\xFF\xFF\xFF"s).status().IsCorruption());       // bad varint
}

TEST_CASE("Copies are independent and cheap", "[storage][labels]") {
  Labels a = Labels::FromPairs({{"__name__", "http_requests_total"}, {"handler", "/api/v1/query"}});
  Labels b = a;
  CHECK(a == b);
  CHECK(b.MemoryUsage() >= b.Encoded().size());
  a = Labels::FromPairs({{"x", "y"}});
  CHECK(b.Get("handler") == "/api/v1/query");
}

}  // namespace
}  // namespace vigil::storage
