#pragma once

// Text helpers of the PromQL front end: Go-compatible number and string spelling (Prometheus
// prints with Go's fmt), string unquoting, UTF-8. Internal to query/.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/utf8.h"

namespace vigil::query::detail {

// Go's fmt.Sprint(float64): shortest round-trip digits, exponent form ("1e+06") when the decimal
// exponent is < -4 or >= 6, "+Inf", "-Inf", "NaN".
std::string FormatNumber(double v);

// Appends s as a Go-style double-quoted literal (strconv.Quote): \a \b \f \n \r \t \v \\ \",
// \xHH for bytes outside valid UTF-8, \u/\U for non-printable code points.
void AppendQuoted(std::string_view s, std::string* out);
std::string Quoted(std::string_view s);

// Go's %q of a single code point, e.g. '{' or '\n'; %#U: "U+0071 'q'".
std::string QuoteRune(char32_t r);
std::string UnicodeRune(char32_t r);

// Decodes the UTF-8 sequence at s[i]; returns its length (1..4), or 0 when ill-formed (then
// *cp is the byte value). REQUIRES: i < s.size().
// UTF-8 decoding and encoding are Vigil's shared ones (storage/base/utf8.h).
using ::vigil::AppendUtf8;
using ::vigil::DecodeUtf8;
using ::vigil::IsValidUtf8;

// Removes the quotes of a lexed string token ("…", '…' or `…`) and resolves escapes. The token
// was validated by the lexer, so this cannot fail on lexer output; other input yields false.
bool Unquote(std::string_view token, std::string* out);

// Legacy Prometheus names: [a-zA-Z_][a-zA-Z0-9_]* (labels), plus ':' for metric names.
bool IsLegacyLabelName(std::string_view s);
bool IsLegacyMetricName(std::string_view s);

}  // namespace vigil::query::detail
