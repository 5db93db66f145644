#include "query/models/state_codec.h"

#include <xxhash.h>

#include <cstring>
#include <vector>

#include "compression/coding.h"

namespace vigil::query::models {

namespace coding = compression::coding;

namespace {
constexpr size_t kHeaderSize = 4 + 2 + 1;
constexpr size_t kTrailerSize = 4;

uint32_t Checksum(std::string_view data) {
  return static_cast<uint32_t>(XXH3_64bits(data.data(), data.size()));
}
}  // namespace

StateWriter::StateWriter(ModelKind kind) {
  buf_.append(kStateMagic, 4);
  char v[2];
  coding::PutFixed16(v, CurrentStateVersion(kind));
  buf_.append(v, 2);
  buf_.push_back(static_cast<char>(kind));
}

void StateWriter::U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
void StateWriter::U32(uint32_t v) { coding::AppendFixed32(v, &buf_); }
void StateWriter::I64(int64_t v) { coding::AppendFixed64(static_cast<uint64_t>(v), &buf_); }
void StateWriter::F64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  coding::AppendFixed64(bits, &buf_);
}
void StateWriter::F32s(std::span<const float> v) {
  U32(static_cast<uint32_t>(v.size()));
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    coding::AppendFixed32(bits, &buf_);
  }
}

std::string StateWriter::Finish() && {
  coding::AppendFixed32(Checksum(buf_), &buf_);
  return std::move(buf_);
}

StateReader::StateReader(std::string_view frame, ModelKind kind) {
  if (frame.size() < kHeaderSize + kTrailerSize) {
    status_ = Status::Corruption("model state: " + std::to_string(frame.size()) +
                                 " bytes is shorter than a frame header and checksum");
    return;
  }
  if (std::memcmp(frame.data(), kStateMagic, 4) != 0) {
    status_ = Status::Corruption("model state: bad magic (expected \"VGMS\")");
    return;
  }
  if (static_cast<uint8_t>(frame[6]) != static_cast<uint8_t>(kind)) {
    status_ = Status::InvalidArgument("model state: holds model kind " +
                                      std::to_string(static_cast<uint8_t>(frame[6])) +
                                      ", expected " + std::to_string(static_cast<uint8_t>(kind)));
    return;
  }
  const uint16_t version = coding::GetFixed16(frame.data() + 4);
  const uint16_t current = CurrentStateVersion(kind);
  if (version < 1 || version > current) {
    status_ = Status::NotSupported("model state: format version " + std::to_string(version) +
                                   " of model kind " + std::to_string(static_cast<uint8_t>(kind)) +
                                   " (this build reads 1 to " + std::to_string(current) + ")");
    return;
  }
  version_ = version;
  const size_t body = frame.size() - kTrailerSize;
  if (Checksum(frame.substr(0, body)) != coding::GetFixed32(frame.data() + body)) {
    status_ = Status::Corruption("model state: checksum mismatch");
    return;
  }
  payload_ = frame.substr(kHeaderSize, body - kHeaderSize);
}

const char* StateReader::Take(size_t n, const char* field) {
  if (!status_.ok()) return nullptr;
  if (payload_.size() - pos_ < n) {
    status_ = Status::Corruption(std::string("model state: truncated at field ") + field +
                                 " (payload offset " + std::to_string(pos_) + ")");
    return nullptr;
  }
  const char* p = payload_.data() + pos_;
  pos_ += n;
  return p;
}

uint8_t StateReader::U8(const char* field) {
  const char* p = Take(1, field);
  return p ? static_cast<uint8_t>(*p) : 0;
}
uint32_t StateReader::U32(const char* field) {
  const char* p = Take(4, field);
  return p ? coding::GetFixed32(p) : 0;
}
int64_t StateReader::I64(const char* field) {
  const char* p = Take(8, field);
  return p ? static_cast<int64_t>(coding::GetFixed64(p)) : 0;
}
double StateReader::F64(const char* field) {
  const char* p = Take(8, field);
  if (!p) return 0;
  const uint64_t bits = coding::GetFixed64(p);
  double v;
  std::memcpy(&v, &bits, 8);
  return v;
}

bool StateReader::F32s(const char* field, size_t max_count, std::vector<float>* out) {
  const uint32_t n = U32(field);
  if (!status_.ok()) return false;
  if (n > max_count) {
    status_ = Status::Corruption(std::string("model state: field ") + field + " holds " +
                                 std::to_string(n) + " values, at most " +
                                 std::to_string(max_count) + " allowed");
    return false;
  }
  const char* p = Take(static_cast<size_t>(n) * 4, field);
  if (!p) return false;
  out->resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t bits = coding::GetFixed32(p + 4 * i);
    std::memcpy(&(*out)[i], &bits, 4);
  }
  return true;
}

Status StateReader::Finish() {
  if (status_.ok() && pos_ != payload_.size()) {
    status_ = Status::Corruption("model state: " + std::to_string(payload_.size() - pos_) +
                                 " unexpected bytes after the last field");
  }
  return status_;
}

}  // namespace vigil::query::models
