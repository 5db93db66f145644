#pragma once

// A zero-copy parser of the Influx line protocol (server/docs/protocols/line_protocol.md):
//
//   measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
//
// Names and values come back as views into the body; only tokens holding escapes are unescaped,
// into a buffer of the parser. A line that does not parse is reported with its 1-based line number
// and byte column, and parsing resumes at the next line.
// Thread safety: none; one parser per body.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::server::ingest {

enum class FieldKind : uint8_t { kFloat, kInteger, kUnsigned, kBoolean, kString };

struct LineTag {
  std::string_view key;
  std::string_view value;
};

struct LineField {
  std::string_view key;
  FieldKind kind = FieldKind::kFloat;
  double value = 0;             // numeric and boolean kinds (true = 1, false = 0)
  std::string_view text;        // kString: the unescaped string; other kinds: the raw token
};

// Views are valid until the next call of Next().
struct ParsedLine {
  size_t line_number = 0;             // 1-based, counting every '\n' of the body
  std::string_view series_key;        // "measurement[,tags]" as written (escapes kept)
  std::string_view measurement;
  std::span<const LineTag> tags;      // in line order; empty while tags_deferred
  std::span<const LineField> fields;  // in line order
  bool has_timestamp = false;
  int64_t timestamp = 0;              // in the request's precision
  // Set when the parser defers tags (set_defer_tags) and ParseTags() has not run: measurement and
  // tags are then empty; series_key and the fields are complete.
  bool tags_deferred = false;
};

struct LineError {
  size_t line_number = 0;
  size_t column = 0;  // 1-based byte column in the line
  std::string message;

  // "line 3, column 14: expected '=' after field key "usage""
  std::string ToString() const;
};

class LineProtocolParser {
 public:
  enum class Event { kLine, kError, kEnd };

  // `body` must outlive the parser. Physical lines longer than max_line_bytes are rejected.
  explicit LineProtocolParser(std::string_view body, size_t max_line_bytes = 1u << 20);

  // Advances to the next non-empty, non-comment line.
  Event Next();
  const ParsedLine& line() const { return line_; }

  // Deferred tags (off by default): Next() only finds where "measurement[,tags]" ends, which is
  // all a caller that looks series up by their key as written needs; ParseTags() splits it when
  // the caller needs the names. Every line reports the same error as without deferral: a line that
  // fails anywhere is parsed again eagerly, so its first error is found in line order, and a line
  // whose only error lies in its measurement or tags passes Next() and fails ParseTags().
  void set_defer_tags(bool defer) { defer_tags_ = defer; }
  // Splits the current line's measurement and tags (a no-op when they are not deferred). Returns
  // false with error() set, naming the current line, when they do not parse: the line is malformed,
  // and the next Next() resumes where it resumes after an error (past the first '\n' after the
  // error, even when a string field took the line further). Views from line() stay valid (they
  // are re-pointed).
  bool ParseTags();
  const LineError& error() const { return error_; }

 private:
  // An unescaped token lives in unescaped_, which may grow while the line is parsed; its view is
  // set once the line is complete.
  enum class Slot : uint8_t { kMeasurement, kTagKey, kTagValue, kFieldKey, kFieldText };
  struct Fixup {
    Slot slot;
    uint32_t index;
    uint32_t offset, size;
  };

  bool ParseLine(const char* p, bool eager);
  // Measurement and tags from p; the position after them, or nullptr after Fail().
  const char* ParseKey(const char* p);
  // Fields and timestamp, from the end of the series key.
  bool ParseRest(const char* p);
  const char* FailKey(const char* at, std::string message) {
    Fail(at, std::move(message));
    return nullptr;
  }
  // The end of the series key starting at p: the first ' ' or '\n' that no backslash escapes, or
  // end_.
  const char* FindKeyEnd(const char* p) const;
  // Scans a measurement (stops at ',' ' '), tag key or field key (stops at ',' '=' ' ') or tag
  // value (stops at ',' ' '), honouring backslash escapes. Returns the stop position.
  const char* ScanName(const char* p, bool stop_at_equals, bool measurement, Slot slot,
                       uint32_t index, std::string_view* out);
  // Scans a double-quoted string starting at p (the quote); nullptr when unterminated.
  const char* ScanString(const char* p, uint32_t index, std::string_view* out);
  bool ParseFieldValue(LineField* field, const char* at);
  bool Fail(const char* at, std::string message);
  void ApplyFixups();

  const char* const begin_;
  const char* const end_;
  const size_t max_line_bytes_;
  const char* p_;
  size_t line_number_ = 1;  // line of p_
  const char* line_start_ = nullptr;
  bool defer_tags_ = false;
  size_t newlines_in_line_ = 0;  // '\n' inside quoted strings of the current line

  ParsedLine line_;
  LineError error_;
  std::vector<LineTag> tags_;
  std::vector<LineField> fields_;
  std::string unescaped_;
  std::vector<Fixup> fixups_;
};

}  // namespace vigil::server::ingest
