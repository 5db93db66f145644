#pragma once

// Strict UTF-8 helpers, one implementation for every module: label validation, quoting and
// parsing in storage/, the PromQL lexer and string literals in query/.

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

// Decodes the code point starting at s[i]. Returns its length in bytes (1..4) and stores the code
// point in *cp, or returns 0 when the bytes at i are not a well-formed UTF-8 sequence: truncated,
// overlong, a surrogate (U+D800..U+DFFF) or above U+10FFFF; then *cp holds the byte s[i], so
// error messages can show it.
// REQUIRES: i < s.size().
int DecodeUtf8(std::string_view s, size_t i, char32_t* cp);

// Byte offset of the first ill-formed sequence, or std::string_view::npos when s is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

// Appends the UTF-8 encoding of cp. REQUIRES: cp <= 0x10FFFF and not a surrogate.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace vigil
