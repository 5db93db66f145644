#include "server/ingest/line_protocol_parser.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

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
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - start));
    const char* phys_end = nl != nullptr ? nl : end_;
    const char* p = start;
    while (p < phys_end && (IsSpace(*p) || *p == '\r')) ++p;
    if (p == phys_end || *p == '#') {  // blank line or comment
      p_ = nl != nullptr ? nl + 1 : end_;
      ++line_number_;
      continue;
    }
    line_start_ = start;
    newlines_in_line_ = 0;
    if (static_cast<size_t>(phys_end - start) > max_line_bytes_) {
      Fail(start, "line of " + std::to_string(phys_end - start) + " bytes exceeds the limit of " +
                      std::to_string(max_line_bytes_) + " bytes");
      p_ = nl != nullptr ? nl + 1 : end_;
      ++line_number_;
      return Event::kError;
    }
    const bool ok = ParseLine(p);
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
  while (p < end_) {
    const char c = *p;
    if (c == '\\' && p + 1 < end_) {
      const char n = p[1];
      if (n == ',' || n == ' ' || n == '\\' || (n == '=' && !measurement)) {
        escaped = true;
        p += 2;
        continue;
      }
    }
    if (c == ',' || c == ' ' || c == '\n' || (stop_at_equals && c == '=')) break;
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

bool LineProtocolParser::ParseLine(const char* p) {
  tags_.clear();
  fields_.clear();
  unescaped_.clear();
  fixups_.clear();
  line_ = ParsedLine();
  line_.line_number = line_number_;
  const char* key_start = p;

  // Measurement.
  p = ScanName(p, /*stop_at_equals=*/false, /*measurement=*/true, Slot::kMeasurement, 0,
               &line_.measurement);
  if (p == key_start) return Fail(p, "missing measurement");

  // Tags.
  while (p < end_ && *p == ',') {
    ++p;
    const auto index = static_cast<uint32_t>(tags_.size());
    tags_.emplace_back();
    const char* k = p;
    p = ScanName(p, true, false, Slot::kTagKey, index, &tags_.back().key);
    if (p == k) return Fail(p, "missing tag key");
    if (p >= end_ || *p != '=') {
      return Fail(p, "expected '=' after tag key " + Quote(std::string_view(k, p - k)));
    }
    ++p;
    const char* v = p;
    p = ScanName(p, false, false, Slot::kTagValue, index, &tags_.back().value);
    if (p == v) return Fail(p, "missing value for tag key " + Quote(std::string_view(k, v - k - 1)));
  }
  line_.series_key = std::string_view(key_start, p - key_start);
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
      while (p < end_ && *p != ',' && *p != ' ' && *p != '\n' && *p != '\r') ++p;
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
  if (p < end_ && *p != '\n' && *p != '\r') {
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
