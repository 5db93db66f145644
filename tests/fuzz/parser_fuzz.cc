// libFuzzer entry point for the PromQL parser (clang only; see query/docs/fuzzing.md).
//
// Properties checked on every input: no crash or sanitizer report; a query that parses prints
// (Format) to text that parses again to an equal tree and prints identically.

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include "query/parser.h"

namespace {

void CheckRoundTrip(std::string_view input, const vigil::query::ParseOptions& opts) {
  auto r = vigil::query::ParseExpr(input, opts);
  if (!r.ok()) return;
  std::string text = vigil::query::Format(**r);
  auto again = vigil::query::ParseExpr(text, opts);
  if (!again.ok() || !vigil::query::Equal(**r, **again) ||
      vigil::query::Format(**again) != text) {
    std::fprintf(stderr, "round trip failed\ninput:     %.*s\nformatted: %s\nreparse:   %s\n",
                 static_cast<int>(input.size()), input.data(), text.c_str(),
                 again.ok() ? vigil::query::Format(**again).c_str()
                            : again.status().ToString().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip(input, vigil::query::ParseOptions{});
  CheckRoundTrip(input, vigil::query::ParseOptions::AllEnabled());
  vigil::query::ParseSeriesDescription(input).status().IgnoreError();
  vigil::query::ParseDuration(input).status().IgnoreError();
  return 0;
}
