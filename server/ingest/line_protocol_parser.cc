#include "server/ingest/line_protocol_parser.h"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "server/ingest/sample_writer.h"

namespace vigil::server::ingest {

std::string LineError::ToString() const {
  return "line " + std::to_string(line_number) + ", column " + std::to_string(column) + ": " +
         message;
}

LineProtocolParser::LineProtocolParser(std::string_view body, size_t max_line_bytes)
    : begin_(body.data()),
      end_(body.data() + body.size()),
      max_line_bytes_(max_line_bytes),
      p_(body.data()) {}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Byte classes of the scanning loops: a byte of class 0 never ends or escapes anything.
enum : uint8_t {
  kEndsName = 1,    // ',' ' ' '\n': ends every name and tag value
  kEquals = 2,      // '=': ends tag and field keys
  kBackslash = 4,   // '\\': may escape the next byte
  kEndsValue = 8,   // ',' ' ' '\n' '\r': ends an unquoted field value
};

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  t[static_cast<unsigned char>(',')] = kEndsName | kEndsValue;
  t[static_cast<unsigned char>(' ')] = kEndsName | kEndsValue;
  t[static_cast<unsigned char>('\n')] = kEndsName | kEndsValue;
  t[static_cast<unsigned char>('\r')] = kEndsValue;
  t[static_cast<unsigned char>('=')] = kEquals;
  t[static_cast<unsigned char>('\\')] = kBackslash;
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

uint8_t ClassOf(char c) { return kClasses[static_cast<unsigned char>(c)]; }

bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Exact powers of ten up to 1e22 (every one is a double without rounding).
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

constexpr uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// The value of eight ASCII digits loaded little-endian (the first digit in the lowest byte).
uint64_t EightDigits(uint64_t w) {
  w -= 0x3030303030303030ULL;
  w = w * 10 + (w >> 8);  // pairs of digits
  return (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
          (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
         32;
}

// Reads at most `max_digits` (>= 0) decimal digits from p into *v (*v = *v * 10^k + digits);
// returns the position after them. Eight bytes at a time where eight bytes remain before `end`
// (which may lie past the token: the token's terminator is no digit).
[[gnu::always_inline]] inline const char* ReadDigits(const char* p, const char* end, int max_digits, uint64_t* v) {
  uint64_t m = *v;
  if constexpr (std::endian::native == std::endian::little) {
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      // High bit of every byte that is no digit; bytes below the first such byte are digits and
      // neither carry nor borrow, so the lowest set bit is exact.
      const uint64_t non_digit =
          ((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) & 0x8080808080808080ULL;
      int k = non_digit == 0 ? 8 : std::countr_zero(non_digit) >> 3;
      if (k > max_digits) k = max_digits;
      if (k == 8) {
        m = m * 100000000 + EightDigits(w);
        p += 8;
        max_digits -= 8;
        continue;
      }
      if (k > 0) {
        // The k digits to the top, '0's below them: the same value.
        const int shift = 8 * (8 - k);
        w = (w << shift) | (0x3030303030303030ULL >> (64 - shift));
        m = m * kPow10Int[k] + EightDigits(w);
        p += k;
      }
      *v = m;
      return p;
    }
  }
  const char* limit = end - p > max_digits ? p + max_digits : end;
  while (p < limit && IsDigit(*p)) {
    m = m * 10 + static_cast<uint64_t>(*p - '0');
    ++p;
  }
  *v = m;
  return p;
}

// The common float token "[-+]digits[.digits]" with at most 15 digits: the digits as an integer
// and the power of ten are both exact doubles, so one division is the correctly rounded value,
// the same double std::from_chars gives. False (nothing set) for any other token. Bytes up to
// `readable_end` (>= the token's end) may be loaded.
bool FastDecimal(std::string_view t, const char* readable_end, double* out) {
  const char* p = t.data();
  const char* end = p + t.size();
  const bool negative = p < end && *p == '-';
  if (p < end && (*p == '-' || *p == '+')) ++p;
  uint64_t m = 0;
  const char* int_start = p;
  p = ReadDigits(p, readable_end, 16, &m);
  if (p > end) return false;  // cannot happen: the token ends at a byte that is no digit
  int digits = static_cast<int>(p - int_start), fraction = 0;
  if (digits == 0 || digits > 15) return false;
  if (p < end && *p == '.') {
    ++p;
    const char* frac_start = p;
    p = ReadDigits(p, readable_end, 16 - digits, &m);
    fraction = static_cast<int>(p - frac_start);
    digits += fraction;
    if (fraction == 0 || digits > 15) return false;
  }
  if (p != end) return false;
  const double v = static_cast<double>(m) / kPow10[fraction];
  *out = negative ? -v : v;
  return true;
}

std::string Quote(std::string_view s) {
  std::string out;
  detail::AppendQuotedForMessage(s, 64, &out);
  return out;
}

}  // namespace

bool LineProtocolParser::Fail(const char* at, std::string message) {
  error_.line_number = line_number_;
  error_.column = static_cast<size_t>(at - line_start_) + 1;
  error_.message = std::move(message);
  return false;
}

LineProtocolParser::Event LineProtocolParser::Next() {
  while (p_ < end_) {
    const char* start = p_;
    const char* p = start;
    while (p < end_ && (IsSpace(*p) || *p == '\r')) ++p;
    if (p == end_ || *p == '\n' || *p == '#') {  // blank line or comment
      const char* nl = p < end_ && *p == '\n'
                           ? p
                           : static_cast<const char*>(std::memchr(p, '\n', end_ - p));
      p_ = nl != nullptr ? nl + 1 : end_;
      ++line_number_;
      continue;
    }
    line_start_ = start;
    newlines_in_line_ = 0;
    // The line is parsed first and its length checked after (the parse finds where it ends); a
    // line over the limit is reported as such whatever the parse said, as if never parsed.
    const bool ok = ParseLine(p, !defer_tags_);
    const char* phys_end;
    if (ok && newlines_in_line_ == 0) {
      phys_end = p_ > start && p_[-1] == '\n' ? p_ - 1 : end_;
    } else {
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - start));
      phys_end = nl != nullptr ? nl : end_;
    }
    if (static_cast<size_t>(phys_end - start) > max_line_bytes_) {
      Fail(start, "line of " + std::to_string(phys_end - start) + " bytes exceeds the limit of " +
                      std::to_string(max_line_bytes_) + " bytes");
      p_ = phys_end < end_ ? phys_end + 1 : end_;
      ++line_number_;
      return Event::kError;
    }
    if (ok) {
      // p_ was set by ParseLine just past the line's '\n'.
      line_number_ += 1 + newlines_in_line_;
      return Event::kLine;
    }
    // Resume after the first '\n' at or after the error; a multi-line string that broke stays
    // broken, but every later line is parsed again.
    const char* at = line_start_ + (error_.column - 1);
    const char* resume = at < end_ ? static_cast<const char*>(std::memchr(at, '\n', end_ - at))
                                   : nullptr;
    for (const char* q = start; q < (resume != nullptr ? resume : end_); ++q) {
      if (*q == '\n') ++line_number_;
    }
    p_ = resume != nullptr ? resume + 1 : end_;
    ++line_number_;
    return Event::kError;
  }
  return Event::kEnd;
}

const char* LineProtocolParser::ScanName(const char* p, bool stop_at_equals, bool measurement,
                                         Slot slot, uint32_t index, std::string_view* out) {
  const char* start = p;
  bool escaped = false;
  const uint8_t stop = kEndsName | (stop_at_equals ? kEquals : 0);
  while (p < end_) {
    const uint8_t cls = ClassOf(*p);
    if (cls == 0) {
      ++p;
      continue;
    }
    if (cls == kBackslash && p + 1 < end_) {
      const char n = p[1];
      if (n == ',' || n == ' ' || n == '\\' || (n == '=' && !measurement)) {
        escaped = true;
        p += 2;
        continue;
      }
    }
    if ((cls & stop) != 0) break;
    ++p;
  }
  if (!escaped) {
    *out = std::string_view(start, p - start);
    return p;
  }
  const size_t offset = unescaped_.size();
  for (const char* q = start; q < p; ++q) {
    if (*q == '\\' && q + 1 < p) {
      const char n = q[1];
      if (n == ',' || n == ' ' || n == '\\' || (n == '=' && !measurement)) {
        unescaped_.push_back(n);
        ++q;
        continue;
      }
    }
    unescaped_.push_back(*q);
  }
  fixups_.push_back({slot, index, static_cast<uint32_t>(offset),
                     static_cast<uint32_t>(unescaped_.size() - offset)});
  *out = {};
  return p;
}

const char* LineProtocolParser::ScanString(const char* p, uint32_t index, std::string_view* out) {
  const char* start = ++p;  // past the opening quote
  bool escaped = false;
  size_t newlines = 0;
  while (p < end_) {
    const char c = *p;
    if (c == '\\' && p + 1 < end_ && (p[1] == '"' || p[1] == '\\')) {
      escaped = true;
      p += 2;
      continue;
    }
    if (c == '"') break;
    if (c == '\n') ++newlines;
    ++p;
  }
  if (p >= end_) return nullptr;
  newlines_in_line_ += newlines;
  if (!escaped) {
    *out = std::string_view(start, p - start);
    return p + 1;
  }
  const size_t offset = unescaped_.size();
  for (const char* q = start; q < p; ++q) {
    if (*q == '\\' && q + 1 < p && (q[1] == '"' || q[1] == '\\')) ++q;
    unescaped_.push_back(*q);
  }
  fixups_.push_back({Slot::kFieldText, index, static_cast<uint32_t>(offset),
                     static_cast<uint32_t>(unescaped_.size() - offset)});
  *out = {};
  return p + 1;
}

bool LineProtocolParser::ParseFieldValue(LineField* f, const char* at) {
  const std::string_view t = f->text;
  const char last = t.back();
  // The common case first: a short decimal (ends in a digit, so no other kind).
  if (double v; IsDigit(last) && FastDecimal(t, end_, &v)) {
    f->kind = FieldKind::kFloat;
    f->value = v;
    return true;
  }
  if (last == 'i' || last == 'u') {
    const std::string_view digits = t.substr(0, t.size() - 1);
    if (last == 'i') {
      int64_t v;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
        return Fail(at, ec == std::errc::result_out_of_range
                            ? "integer " + Quote(t) + " of field " + Quote(f->key) +
                                  " is out of the int64 range"
                            : "invalid integer " + Quote(t) + " for field " + Quote(f->key));
      }
      f->kind = FieldKind::kInteger;
      f->value = static_cast<double>(v);
    } else {
      uint64_t v;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
        return Fail(at, ec == std::errc::result_out_of_range
                            ? "unsigned integer " + Quote(t) + " of field " + Quote(f->key) +
                                  " is out of the uint64 range"
                            : "invalid unsigned integer " + Quote(t) + " for field " +
                                  Quote(f->key));
      }
      f->kind = FieldKind::kUnsigned;
      f->value = static_cast<double>(v);
    }
    return true;
  }
  if (t == "t" || t == "T" || t == "true" || t == "True" || t == "TRUE") {
    f->kind = FieldKind::kBoolean;
    f->value = 1;
    return true;
  }
  if (t == "f" || t == "F" || t == "false" || t == "False" || t == "FALSE") {
    f->kind = FieldKind::kBoolean;
    f->value = 0;
    return true;
  }
  // Floats: decimal notation with optional sign, fraction and exponent; no inf / nan / hex.
  const char c0 = t[0] == '-' || t[0] == '+' ? (t.size() > 1 ? t[1] : '\0') : t[0];
  if ((c0 >= '0' && c0 <= '9') || c0 == '.') {
    const char* b = t.data() + (t[0] == '+' ? 1 : 0);
    double v;
    auto [ptr, ec] = std::from_chars(b, t.data() + t.size(), v, std::chars_format::general);
    if (ec == std::errc() && ptr == t.data() + t.size() && std::isfinite(v)) {
      f->kind = FieldKind::kFloat;
      f->value = v;
      return true;
    }
    if (ec == std::errc::result_out_of_range) {
      return Fail(at, "float " + Quote(t) + " of field " + Quote(f->key) +
                          " is out of the float64 range");
    }
  }
  return Fail(at, "invalid field value " + Quote(t) + " for field " + Quote(f->key) +
                      " (expected a float, an integer with suffix i, an unsigned with suffix u, "
                      "a boolean or a double-quoted string)");
}

void LineProtocolParser::ApplyFixups() {
  for (const Fixup& fx : fixups_) {
    const std::string_view v(unescaped_.data() + fx.offset, fx.size);
    switch (fx.slot) {
      case Slot::kMeasurement:
        line_.measurement = v;
        break;
      case Slot::kTagKey:
        tags_[fx.index].key = v;
        break;
      case Slot::kTagValue:
        tags_[fx.index].value = v;
        break;
      case Slot::kFieldKey:
        fields_[fx.index].key = v;
        break;
      case Slot::kFieldText:
        fields_[fx.index].text = v;
        break;
    }
  }
}

const char* LineProtocolParser::FindKeyEnd(const char* p) const {
  while (true) {
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (end_ - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i hits = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, newline)),
          _mm_cmpeq_epi8(v, backslash));
      const int mask = _mm_movemask_epi8(hits);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      p += 16;
    }
#endif
    while (p < end_ && *p != ' ' && *p != '\n' && *p != '\\') ++p;
    if (p >= end_ || *p != '\\') return p;
    // As ScanName pairs them: "\ " and "\\" are one character each. ("\," and "\=" may or may not
    // be pairs depending on the token, but neither ',' nor '=' ends the key, so it does not matter.)
    p += p + 1 < end_ && (p[1] == ' ' || p[1] == '\\') ? 2 : 1;
  }
}

const char* LineProtocolParser::ParseKey(const char* p) {
  const char* key_start = p;
  // Measurement.
  p = ScanName(p, /*stop_at_equals=*/false, /*measurement=*/true, Slot::kMeasurement, 0,
               &line_.measurement);
  if (p == key_start) return FailKey(p, "missing measurement");

  // Tags.
  while (p < end_ && *p == ',') {
    ++p;
    const auto index = static_cast<uint32_t>(tags_.size());
    tags_.emplace_back();
    const char* k = p;
    p = ScanName(p, true, false, Slot::kTagKey, index, &tags_.back().key);
    if (p == k) return FailKey(p, "missing tag key");
    if (p >= end_ || *p != '=') {
      return FailKey(p, "expected '=' after tag key " + Quote(std::string_view(k, p - k)));
    }
    ++p;
    const char* v = p;
    p = ScanName(p, false, false, Slot::kTagValue, index, &tags_.back().value);
    if (p == v) {
      return FailKey(p, "missing value for tag key " + Quote(std::string_view(k, v - k - 1)));
    }
  }
  return p;
}

bool LineProtocolParser::ParseTags() {
  if (!line_.tags_deferred) return true;
  line_.tags_deferred = false;
  // Errors name the current line; line_number_ has moved on to the next one.
  const size_t next_line_number = line_number_;
  line_number_ = line_.line_number;
  const char* p = ParseKey(line_.series_key.data());
  line_number_ = next_line_number;
  if (p != nullptr && p != line_.series_key.data() + line_.series_key.size()) {
    // FindKeyEnd and ParseKey agree on where the key ends (see FindKeyEnd); a parser bug must not
    // write a series under a key it was not given.
    error_.line_number = line_.line_number;
    error_.column = static_cast<size_t>(p - line_start_) + 1;
    error_.message = "internal error: the series key ends at two places";
    p = nullptr;
  }
  if (p == nullptr) {
    // Resume where Next() resumes after an error: past the first '\n' after the error, which the
    // eager parse never went beyond (a string field may have taken this line further). The key
    // holds no '\n', so the line number moves on by one.
    const char* at = line_start_ + (error_.column - 1);
    const char* resume = static_cast<const char*>(std::memchr(at, '\n', end_ - at));
    p_ = resume != nullptr ? resume + 1 : end_;
    line_number_ = line_.line_number + 1;
    return false;
  }
  ApplyFixups();  // the names may have grown unescaped_: every view is pointed at it again
  line_.tags = tags_;
  line_.fields = fields_;
  return true;
}

bool LineProtocolParser::ParseLine(const char* const start, bool eager) {
  tags_.clear();
  fields_.clear();
  unescaped_.clear();
  fixups_.clear();
  line_ = ParsedLine();
  line_.line_number = line_number_;
  const char* p = start;

  if (eager) {
    p = ParseKey(p);
    if (p == nullptr) return false;
  } else {
    p = FindKeyEnd(p);
    // Anything unusual: the eager parse finds the first error.
    if (p == start || p >= end_ || *p != ' ') return ParseLine(start, true);
    line_.tags_deferred = true;
  }
  line_.series_key = std::string_view(start, p - start);
  if (ParseRest(p)) return true;
  if (eager) return false;
  newlines_in_line_ = 0;
  return ParseLine(start, true);
}

bool LineProtocolParser::ParseRest(const char* p) {
  if (p >= end_ || *p != ' ') {
    return Fail(p, p >= end_ || *p == '\n' || *p == '\r' ? "missing fields"
                                                        : "expected a space before the fields");
  }

  // Fields.
  while (p < end_ && *p == ' ') ++p;
  if (p >= end_ || *p == '\n' || *p == '\r') return Fail(p, "missing fields");
  while (true) {
    const auto index = static_cast<uint32_t>(fields_.size());
    fields_.emplace_back();
    const char* k = p;
    p = ScanName(p, true, false, Slot::kFieldKey, index, &fields_.back().key);
    if (p == k) return Fail(p, "missing field key");
    const std::string_view raw_key(k, p - k);
    if (p >= end_ || *p != '=') return Fail(p, "expected '=' after field key " + Quote(raw_key));
    ++p;
    const char* v = p;
    if (p < end_ && *p == '"') {
      p = ScanString(p, index, &fields_.back().text);
      if (p == nullptr) return Fail(v, "unterminated string value for field " + Quote(raw_key));
      fields_.back().kind = FieldKind::kString;
    } else {
      while (p < end_ && (ClassOf(*p) & kEndsValue) == 0) ++p;
      if (p == v) return Fail(v, "missing value for field " + Quote(raw_key));
      LineField& f = fields_.back();
      f.text = std::string_view(v, p - v);
      f.key = raw_key;  // for messages; replaced by the unescaped key in ApplyFixups
      if (!ParseFieldValue(&f, v)) return false;
    }
    if (p < end_ && *p == ',') {
      ++p;
      continue;
    }
    break;
  }

  // Timestamp.
  while (p < end_ && IsSpace(*p)) ++p;
  // Fast path: [-]digits (at most 18, no overflow) ending the token; anything else below.
  const char* const ts_start = p;
  {
    const bool negative = p < end_ && *p == '-';
    const char* d = p + (negative ? 1 : 0);
    uint64_t v = 0;
    const char* q = ReadDigits(d, end_, 18, &v);
    if (q > d && (q >= end_ || IsSpace(*q) || *q == '\n' || *q == '\r')) {
      line_.has_timestamp = true;
      line_.timestamp = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
      p = q;
    }
  }
  if (p == ts_start && p < end_ && *p != '\n' && *p != '\r') {
    const char* t = p;
    while (p < end_ && !IsSpace(*p) && *p != '\n' && *p != '\r') ++p;
    int64_t ts;
    auto [ptr, ec] = std::from_chars(t, p, ts);
    if (ec != std::errc() || ptr != p) {
      return Fail(t, ec == std::errc::result_out_of_range
                         ? "timestamp " + Quote(std::string_view(t, p - t)) +
                               " is out of the int64 range"
                         : "invalid timestamp " + Quote(std::string_view(t, p - t)));
    }
    line_.has_timestamp = true;
    line_.timestamp = ts;
  }
  while (p < end_ && (IsSpace(*p) || *p == '\r')) ++p;
  if (p < end_ && *p != '\n') {
    return Fail(p, "unexpected " + Quote(std::string_view(p, 1)) + " after the " +
                       (line_.has_timestamp ? "timestamp" : "fields"));
  }
  p_ = p < end_ ? p + 1 : end_;
  ApplyFixups();
  line_.tags = tags_;
  line_.fields = fields_;
  return true;
}

}  // namespace vigil::server::ingest
