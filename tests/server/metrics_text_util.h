#pragma once

// Parses Prometheus text exposition (format 0.0.4) as /metrics serves it, strictly enough that a
// malformed line fails the test: `# HELP` / `# TYPE` comments, then `name{label="value",...} value`
// samples. Samples are keyed by their text before the value (`name{labels}` as written).

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

namespace vigil::server::testing {

struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // metric family -> counter, gauge, histogram...

  bool Has(const std::string& key) const { return samples.count(key) > 0; }
  double At(const std::string& key) const {
    auto it = samples.find(key);
    INFO("no sample " << key);
    REQUIRE(it != samples.end());
    return it->second;
  }
};

inline bool IsMetricNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

inline Exposition ParseExposition(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    INFO("line " << n << ": " << line);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kind, name, rest;
      ls >> hash >> kind >> name;
      REQUIRE((kind == "HELP" || kind == "TYPE"));
      REQUIRE(!name.empty());
      if (kind == "TYPE") {
        ls >> rest;
        REQUIRE((rest == "counter" || rest == "gauge" || rest == "histogram" || rest == "summary" ||
                 rest == "untyped"));
        e.types[name] = rest;
      }
      continue;
    }
    size_t i = 0;
    REQUIRE(IsMetricNameChar(line[0], true));
    while (i < line.size() && IsMetricNameChar(line[i], i == 0)) ++i;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t name_start = i;
        while (i < line.size() && IsMetricNameChar(line[i], i == name_start)) ++i;
        REQUIRE(i > name_start);
        REQUIRE(i + 1 < line.size());
        REQUIRE(line.compare(i, 2, "=\"") == 0);
        i += 2;
        while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
        REQUIRE(i < line.size());
        ++i;
        if (i < line.size() && line[i] == ',') ++i;
      }
      REQUIRE(i < line.size());
      ++i;
    }
    REQUIRE(i < line.size());
    REQUIRE(line[i] == ' ');
    const std::string key = line.substr(0, i);
    const std::string value = line.substr(i + 1);
    double v = 0;
    if (value == "+Inf") {
      v = HUGE_VAL;
    } else if (value == "-Inf") {
      v = -HUGE_VAL;
    } else if (value == "NaN") {
      v = std::nan("");
    } else {
      char* end = nullptr;
      v = std::strtod(value.c_str(), &end);
      REQUIRE(end == value.c_str() + value.size());
    }
    REQUIRE(e.samples.emplace(key, v).second);  // no sample twice
  }
  return e;
}

}  // namespace vigil::server::testing
