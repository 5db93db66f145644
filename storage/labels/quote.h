#pragma once

// PromQL string quoting, shared by Labels::ToString and Matcher::ToString. Internal to storage/.

#include <string>
#include <string_view>

namespace vigil::storage::detail {

// Appends s as a double-quoted PromQL string literal. Escapes: \" \\ \a \b \f \n \r \t \v; other
// ASCII control bytes and bytes that are not part of a valid UTF-8 sequence as \xHH; the invisible
// code points U+0080..U+009F, U+00AD, U+2028, U+2029 and U+FEFF as \uHHHH. Everything else,
// including printable non-ASCII text, is copied as is. ParseLabels reads the result back bit-exact.
void AppendQuoted(std::string_view s, std::string* out);

}  // namespace vigil::storage::detail
