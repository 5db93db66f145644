#pragma once

// The native write protocol's framing, shared by the server (native_server.h) and the client
// library (client.h). Specification: server/docs/protocols/native.md; schema: native.fbs.
//
//   frame := uint32 little-endian N | N bytes: FlatBuffer, root Frame, file identifier "VGN1"
//
// which is exactly a FlatBuffers *size-prefixed* buffer (FinishSizePrefixed): the alignment of the
// payload's fields is relative to the start of the length prefix, so a frame is verified and read
// as a whole, prefix included.
//
// This header pulls in only the generated FlatBuffers code and the Status type, so that backends
// embedding the client do not depend on Vigil's server or storage internals.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "server/native/native_generated.h"
#include "storage/base/status.h"

namespace vigil::native {

// Version history (native.md): 1 = Hello/HelloAck, WriteBatch/Ack, Error; still 1 with
// Hello.token and the Unauthenticated / Forbidden handshake statuses (a compatible addition: a
// server without auth ignores the token, an old client sees a refused handshake).
inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr uint16_t kMinProtocolVersion = 1;

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 16u << 20;
inline constexpr char kFileIdentifier[] = "VGN1";

// Reads the length prefix. REQUIRES: 4 readable bytes.
inline uint32_t DecodeFrameLength(const void* header) {
  const auto* b = static_cast<const unsigned char*>(header);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

// Finishes `fbb` as a frame holding `message` and returns a view of its bytes (valid until fbb
// changes).
template <typename T>
std::string_view FinishFrame(flatbuffers::FlatBufferBuilder& fbb, fb::Message type,
                             flatbuffers::Offset<T> message) {
  fbb.FinishSizePrefixed(fb::CreateFrame(fbb, type, message.Union()), kFileIdentifier);
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

// Checks a whole frame (length prefix included) with the FlatBuffers verifier: length, identifier,
// every offset, string and vector inside the buffer, nesting depth, alignment. On success the Frame
// points into `frame`. InvalidArgument naming what is wrong otherwise.
// REQUIRES: frame.data() is 8-byte aligned (heap buffers are).
Result<const fb::Frame*> VerifyFrame(std::string_view frame);

std::string_view BatchStatusName(fb::BatchStatus status);

// The Hello frame a client opens with: versions min_version..max_version, free-text client name,
// and the bearer token (left out of the frame when empty, which is exactly what clients before
// the token field sent).
std::string EncodeHello(uint16_t min_version, uint16_t max_version, std::string_view client,
                        std::string_view token);

// Element i of a verified [long] / [double] vector. The FlatBuffers verifier checks a vector's
// 4-byte length alignment but not the 8-byte alignment of its elements, so a hostile frame can
// place them misaligned; reading through memcpy is defined for any address (the accessors' direct
// loads are not). Little-endian hosts only, like FlatBuffers itself here.
template <typename T>
inline T LoadElement(const flatbuffers::Vector<T>* v, size_t i) {
  static_assert(sizeof(T) == 8);
  T x;
  std::memcpy(&x, v->Data() + i * sizeof(T), sizeof(T));
  return x;
}

}  // namespace vigil::native
