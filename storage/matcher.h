#pragma once

// Label matchers: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"` with Prometheus semantics.
//
// - A series that lacks the label is matched as if its value were "" (`foo=""` selects series
//   without foo, `foo!=""` requires it).
// - Regexes use RE2 syntax and are fully anchored: `re` means `^(?:re)$`, and `.` also matches a
//   newline, as in Prometheus (which compiles `^(?s:re)$`).
// - Simple regexes are recognised once at Make() and answered without RE2 (see RegexShape), and
//   the postings layer can use the same shapes to turn a regex into look-ups. The shape describes
//   the regex itself; for `!~` the caller negates.
//
// Stored label values are valid UTF-8. For input that is not, fast-path shapes match like
// Prometheus (`.*` matches any bytes), while general regexes follow RE2, whose `.` does not match
// a stray byte.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/labels.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace vigil::storage {

enum class MatchType : uint8_t { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~" or "!~".
std::string_view MatchTypeString(MatchType type);

// What a regex matcher's regex is, beyond "some regex".
enum class RegexShape : uint8_t {
  kGeneral,     // needs RE2
  kLiteralSet,  // `abc`, `a|b|c`, `(?:a|b)`: exactly the strings in SetMatches()
  kPrefix,      // `abc.*`: strings starting with Prefix()
  kAny,         // `.*`: every string, "" included
  kNonEmpty,    // `.+`: every non-empty string
};

// An immutable, cheap-to-copy matcher (a compiled regex is shared between copies).
// Thread safety: all const methods may be called concurrently.
class Matcher {
 public:
  // InvalidArgument, naming the matcher and RE2's reason, when a regex does not compile.
  // Plain (=, !=) matchers take any name and value.
  static Result<Matcher> Make(MatchType type, std::string_view name, std::string_view value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  bool IsRegex() const { return type_ == MatchType::kRegexMatch || type_ == MatchType::kRegexNoMatch; }
  bool IsNegative() const { return type_ == MatchType::kNotEqual || type_ == MatchType::kRegexNoMatch; }

  // Whether a label value (or "" for a missing label) is selected.
  bool Matches(std::string_view value) const;
  // Whether the series is selected: Matches(ls.Get(name())).
  bool Matches(const Labels& ls) const { return Matches(ls.Get(name_)); }
  // Matches(""): whether series lacking the label are selected. Precomputed.
  bool MatchesEmpty() const { return matches_empty_; }

  // Shape of the regex of =~ and !~ matchers; kGeneral for = and !=.
  RegexShape shape() const { return shape_; }
  // kLiteralSet: the strings the regex matches, sorted and unique (one for a plain literal).
  // Empty for other shapes.
  const std::vector<std::string>& SetMatches() const { return set_; }
  // kPrefix: the literal prefix. Empty for other shapes.
  const std::string& Prefix() const { return prefix_; }

  // PromQL notation, e.g. `job=~"api|web"`.
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }

 private:
  Matcher() = default;
  bool RegexMatches(std::string_view v) const;

  MatchType type_ = MatchType::kEqual;
  RegexShape shape_ = RegexShape::kGeneral;
  bool matches_empty_ = false;
  std::string name_;
  std::string value_;
  std::vector<std::string> set_;
  std::string prefix_;
  std::shared_ptr<const re2::RE2> re_;  // set for kGeneral regexes only
};

// How many times the calling thread has run the regex engine (RE2) inside Matcher::Matches().
// Literal sets, prefixes, `.*` and `.+` never do; tests and benchmarks compare this before and after
// an evaluation to check that such matchers were served without RE2. Thread-local, never reset.
uint64_t RegexEngineMatchesOnThisThread();

}  // namespace vigil::storage
