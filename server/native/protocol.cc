#include "server/native/protocol.h"

namespace vigil::native {

Result<const fb::Frame*> VerifyFrame(std::string_view frame) {
  const auto* data = reinterpret_cast<const uint8_t*>(frame.data());
  if (frame.size() < kFrameHeaderBytes + 8) {
    return Status::InvalidArgument("frame of " + std::to_string(frame.size()) +
                                   " bytes is too short for a FlatBuffer");
  }
  if (DecodeFrameLength(data) != frame.size() - kFrameHeaderBytes) {
    return Status::InvalidArgument("frame length prefix " + std::to_string(DecodeFrameLength(data)) +
                                   " does not match the " +
                                   std::to_string(frame.size() - kFrameHeaderBytes) +
                                   " bytes that follow it");
  }
  if (!fb::SizePrefixedFrameBufferHasIdentifier(data)) {
    return Status::InvalidArgument(
        "frame does not carry the file identifier \"VGN1\" at payload bytes 4..7");
  }
  // One table per 8 bytes is more than any valid frame holds; the verifier's work is then bounded
  // by the frame size.
  flatbuffers::Verifier verifier(data, frame.size(), /*max_depth=*/16,
                                 /*max_tables=*/frame.size() / 8 + 16);
  if (!fb::VerifySizePrefixedFrameBuffer(verifier)) {
    return Status::InvalidArgument("frame of " + std::to_string(frame.size() - kFrameHeaderBytes) +
                                   " bytes is not a valid Frame (FlatBuffers verification failed)");
  }
  const fb::Frame* f = fb::GetSizePrefixedFrame(data);
  if (f->message_type() == fb::Message::NONE || f->message() == nullptr) {
    return Status::InvalidArgument("frame holds no message");
  }
  return f;
}

std::string EncodeHello(uint16_t min_version, uint16_t max_version, std::string_view client,
                        std::string_view token) {
  flatbuffers::FlatBufferBuilder fbb;
  auto name = fbb.CreateString(client.data(), client.size());
  flatbuffers::Offset<flatbuffers::String> secret;
  if (!token.empty()) secret = fbb.CreateString(token.data(), token.size());
  auto hello = fb::CreateHello(fbb, min_version, max_version, name, secret);
  return std::string(FinishFrame(fbb, fb::Message::Hello, hello));
}

std::string_view BatchStatusName(fb::BatchStatus status) {
  switch (status) {
    case fb::BatchStatus::Ok:
      return "Ok";
    case fb::BatchStatus::BadInput:
      return "BadInput";
    case fb::BatchStatus::TooLarge:
      return "TooLarge";
    case fb::BatchStatus::Overloaded:
      return "Overloaded";
    case fb::BatchStatus::StorageFault:
      return "StorageFault";
    case fb::BatchStatus::Unavailable:
      return "Unavailable";
    case fb::BatchStatus::VersionMismatch:
      return "VersionMismatch";
    case fb::BatchStatus::ProtocolError:
      return "ProtocolError";
    case fb::BatchStatus::Unauthenticated:
      return "Unauthenticated";
    case fb::BatchStatus::Forbidden:
      return "Forbidden";
  }
  return "Unknown";
}

}  // namespace vigil::native
