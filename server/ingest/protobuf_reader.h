#pragma once

// Internal to server/ingest: a zero-copy reader of the protobuf wire format
// (https://protobuf.dev/programming-guides/encoding/), enough for the remote-write messages.
// Length-delimited fields come back as views into the input; errors are sticky (STYLE.md §3):
// after the first one every read returns zero values and ok() is false, so loops carry no checks.
// Offsets in messages are counted from the start of the outermost message (base_offset).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vigil::server::ingest::detail {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

class ProtoReader {
 public:
  // `data` must outlive the reader and every view it returns.
  explicit ProtoReader(std::string_view data, size_t base_offset = 0)
      : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()), base_(base_offset) {}

  // Reads the next tag. False at the end of the message or after an error.
  bool NextField(uint32_t* field, WireType* type) {
    if (p_ >= end_ || !ok()) return false;
    const size_t at = offset();
    tag_offset_ = at;
    const uint64_t tag = ReadVarint();
    if (!ok()) return false;
    const auto wt = static_cast<uint32_t>(tag & 7);
    const uint64_t number = tag >> 3;
    if (number == 0 || number > 0x1fffffff)
      return Fail(at, "invalid field number " + std::to_string(number));
    if (wt == 3 || wt == 4)
      return Fail(at, "groups (wire type " + std::to_string(wt) + ") are not supported");
    if (wt > 5) return Fail(at, "invalid wire type " + std::to_string(wt));
    *field = static_cast<uint32_t>(number);
    *type = static_cast<WireType>(wt);
    return true;
  }

  uint64_t ReadVarint() {
    if (!ok()) return 0;
    // Fast path: one byte.
    if (p_ < end_ && static_cast<unsigned char>(*p_) < 0x80)
      return static_cast<unsigned char>(*p_++);
    const char* start = p_;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) {
        Fail(static_cast<size_t>(start - begin_) + base_, "truncated varint");
        return 0;
      }
      const auto b = static_cast<unsigned char>(*p_++);
      if (shift == 63 && b > 1) {
        Fail(static_cast<size_t>(start - begin_) + base_, "varint overflows 64 bits");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    Fail(static_cast<size_t>(start - begin_) + base_, "varint longer than 10 bytes");
    return 0;
  }

  uint64_t ReadFixed64() {
    if (!Need(8, "fixed64")) return 0;
    uint64_t v;
    std::memcpy(&v, p_, 8);  // little-endian hosts only (x86-64, aarch64)
    p_ += 8;
    return v;
  }
  uint32_t ReadFixed32() {
    if (!Need(4, "fixed32")) return 0;
    uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return v;
  }
  double ReadDouble() {
    const uint64_t bits = ReadFixed64();
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }

  // A length-delimited field's payload; *payload_offset receives its offset for nested readers.
  std::string_view ReadBytes(size_t* payload_offset = nullptr) {
    const size_t at = offset();
    const uint64_t len = ReadVarint();
    if (!ok()) return {};
    if (len > static_cast<uint64_t>(end_ - p_)) {
      Fail(at, "length " + std::to_string(len) + " exceeds the " + std::to_string(end_ - p_) +
                   " bytes left");
      return {};
    }
    if (payload_offset != nullptr) *payload_offset = offset();
    std::string_view v(p_, static_cast<size_t>(len));
    p_ += len;
    return v;
  }

  // A length-delimited field whose tag is the single byte `tag`, when the next field is one and
  // its length varint and payload are whole; otherwise false and nothing is consumed (the caller
  // then reads the field with NextField / ReadBytes, which report any error).
  bool TryReadLenField(unsigned char tag, std::string_view* payload, size_t* payload_offset) {
    if (p_ >= end_ || static_cast<unsigned char>(*p_) != tag || !ok()) return false;
    const char* q = p_ + 1;
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (q >= end_ || shift > 28) return false;
      const auto b = static_cast<unsigned char>(*q++);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (len > static_cast<uint64_t>(end_ - q)) return false;
    tag_offset_ = offset();
    p_ = q;
    *payload_offset = offset();
    *payload = std::string_view(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  void Skip(WireType type) {
    switch (type) {
      case WireType::kVarint:
        ReadVarint();
        break;
      case WireType::kFixed64:
        Need(8, "fixed64") ? void(p_ += 8) : void();
        break;
      case WireType::kLen:
        ReadBytes();
        break;
      case WireType::kFixed32:
        Need(4, "fixed32") ? void(p_ += 4) : void();
        break;
      default:
        Fail(offset(), "cannot skip wire type " + std::to_string(static_cast<int>(type)));
    }
  }

  // Offset of the last tag read: errors about a field point at its tag.
  size_t tag_offset() const { return tag_offset_; }

  // Fails unless `type` is `want`; for messages about known fields of the named message.
  bool Expect(WireType type, WireType want, const char* message, uint32_t field) {
    if (type == want) return true;
    return Fail(tag_offset_, std::string(message) + " field " + std::to_string(field) +
                                 " has wire type " + std::to_string(static_cast<int>(type)) +
                                 ", expected " + std::to_string(static_cast<int>(want)));
  }

  bool Fail(size_t at, std::string what) {
    if (error_.empty()) {
      error_ = "malformed protobuf at byte " + std::to_string(at) + ": " + std::move(what);
    }
    p_ = end_;
    return false;
  }

  // Takes over a nested reader's error (its offsets are already absolute). False if it had one.
  bool Adopt(const ProtoReader& child) {
    if (child.ok()) return true;
    if (error_.empty()) error_ = child.error_;
    p_ = end_;
    return false;
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return p_ >= end_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_) + base_; }

 private:
  bool Need(size_t n, const char* what) {
    if (!ok()) return false;
    if (static_cast<size_t>(end_ - p_) < n) {
      return Fail(offset(), std::string("truncated ") + what);
    }
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t base_;
  size_t tag_offset_ = 0;
  std::string error_;
};

}  // namespace vigil::server::ingest::detail
