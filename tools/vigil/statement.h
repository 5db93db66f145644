#pragma once

// Statement boundaries and error positions in the text the operator typed.

#include <string>
#include <string_view>

namespace vigil::shell {

// True while `text` is an unfinished PromQL statement: a bracket ((, [, {) or a quote (", ', `)
// is still open, or the last line ends with a backslash. Brackets inside strings and # comments
// do not count; more closing than opening brackets count as finished (the server will say why).
bool NeedsMoreInput(std::string_view text);

// Removes one trailing backslash (the explicit continuation mark) from a line.
std::string_view StripContinuation(std::string_view line);

// Finds the first "line:col" position in a server error message ("1:7: parse error: ...",
// "invalid parameter \"query\": 2:3: parse error: ..."). Returns false when there is none.
bool FindErrorPosition(std::string_view message, int* line, int* column);

// The query text with a caret under the position named by `message`, indented by `indent`
// spaces; a multi-line query is shown with line numbers. Empty when the message names no
// position inside the query. `column` counts bytes (as the server does) and is turned into
// terminal columns here (UTF-8 aware; tabs shown as one space).
std::string MarkErrorPosition(std::string_view query, std::string_view message, int indent = 2);

// The number of terminal columns `s` takes (UTF-8 code points; wide East Asian characters and
// emoji count 2, combining marks 0).
int DisplayWidth(std::string_view s);

}  // namespace vigil::shell
