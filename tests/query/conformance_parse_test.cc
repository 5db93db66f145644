// Every `eval` query of the Prometheus conformance scripts must parse (the promqltest runner
// enables all experimental features), unless the script expects it to fail.

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "query/parser.h"

namespace vigil::query {
namespace {

struct EvalCase {
  std::string file;
  int line = 0;
  std::string query;
  bool expect_fail = false;
  std::string fail_msg;    // exact message, when given
  std::string fail_regex;  // regex, when given
};

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Splits off `n` whitespace-separated words; returns the rest of the line.
bool SkipWords(std::string_view s, int n, std::vector<std::string>* words, std::string* rest) {
  size_t i = 0;
  for (int k = 0; k < n; ++k) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (start == i) return false;
    words->emplace_back(s.substr(start, i - start));
  }
  *rest = Trim(std::string(s.substr(i)));
  return !rest->empty();
}

std::vector<EvalCase> ReadScript(const std::filesystem::path& path) {
  std::vector<EvalCase> out;
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string t = Trim(lines[i]);
    if (t.rfind("eval", 0) != 0) continue;
    std::vector<std::string> words;
    std::string rest;
    EvalCase c;
    c.file = path.filename().string();
    c.line = static_cast<int>(i + 1);
    bool ok = false;
    if (t.find(" instant ") != std::string::npos) {
      ok = SkipWords(t, 4, &words, &rest) && words[1] == "instant" && words[2] == "at";
    } else if (t.find(" range ") != std::string::npos) {
      ok = SkipWords(t, 8, &words, &rest) && words[1] == "range" && words[2] == "from" &&
           words[4] == "to" && words[6] == "step";
    }
    INFO(c.file << ":" << c.line << ": " << t);
    REQUIRE(ok);
    c.query = rest;
    c.expect_fail = words[0] == "eval_fail";
    for (size_t j = i + 1; j < lines.size(); ++j) {
      std::string u = Trim(lines[j]);
      if (u.empty() || u.rfind("eval", 0) == 0 || u.rfind("load", 0) == 0 || u == "clear") break;
      if (u.rfind("expect fail", 0) != 0) continue;
      c.expect_fail = true;
      std::string spec = Trim(u.substr(11));
      if (spec.rfind("msg:", 0) == 0) c.fail_msg = Trim(spec.substr(4));
      if (spec.rfind("regex:", 0) == 0) c.fail_regex = Trim(spec.substr(6));
    }
    out.push_back(std::move(c));
  }
  return out;
}

TEST_CASE("every conformance eval query parses like Prometheus", "[.][conformance][query][parser]") {
  const std::filesystem::path dir =
      std::filesystem::path(VIGIL_SOURCE_DIR) / ".." / "shared" / "conformance" / "promql" /
      "testdata";
  INFO("conformance scripts expected in " << dir.string()
       << " (../shared next to the repository); this test fails rather than skip without them");
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  int total = 0, parsed = 0, expect_fail = 0, fail_parse_ok = 0, fail_rejected = 0;
  int msg_match = 0, msg_mismatch = 0;
  for (const auto& f : files) {
    int file_total = 0, file_parsed = 0;
    for (const EvalCase& c : ReadScript(f)) {
      ++total;
      ++file_total;
      ParseError err;
      auto r = ParseExpr(c.query, ParseOptions::AllEnabled(), &err);
      INFO(c.file << ":" << c.line << ": " << c.query);
      if (!c.expect_fail) {
        CHECK(r.status().message() == "");
        if (r.ok()) {
          ++parsed;
          ++file_parsed;
          // Round trip: the canonical text parses back to the same tree.
          std::string text = Format(**r);
          auto again = ParseExpr(text, ParseOptions::AllEnabled());
          INFO("formatted: " << text);
          REQUIRE(again.ok());
          CHECK(Equal(**r, **again));
          CHECK(Format(**again) == text);
        }
        continue;
      }
      ++expect_fail;
      if (r.ok()) {
        ++fail_parse_ok;  // fails at evaluation in Prometheus
        continue;
      }
      ++fail_rejected;
      if (!c.fail_msg.empty()) {
        if (err.message == c.fail_msg) {
          ++msg_match;
        } else {
          ++msg_mismatch;
          std::printf("  message mismatch %s:%d: want %s, got %s\n", c.file.c_str(), c.line,
                      c.fail_msg.c_str(), err.message.c_str());
        }
      } else {
        std::printf("  rejected at parse time (script expects failure) %s:%d: %s -> %s\n",
                    c.file.c_str(), c.line, c.query.c_str(), r.status().message().c_str());
      }
    }
    std::printf("  %-26s %4d evals, %4d parse\n", f.filename().string().c_str(), file_total,
                file_parsed);
  }
  std::printf(
      "conformance parse: %d eval queries; %d of %d expected to succeed parse; %d expected to "
      "fail: %d parse (fail later, at evaluation), %d rejected by the parser (%d with the "
      "expected message, %d mismatched)\n",
      total, parsed, total - expect_fail, expect_fail, fail_parse_ok, fail_rejected, msg_match,
      msg_mismatch);
  CHECK(parsed == total - expect_fail);
  CHECK(msg_mismatch == 0);
}

}  // namespace
}  // namespace vigil::query
