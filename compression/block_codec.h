#pragma once

// Block compression: general-purpose compression (LZ4, zstd) of a byte buffer such as a run of
// chunks in a cold block, wrapped in a small self-describing frame. The frame layout is documented
// byte for byte in compression/docs/block_codec.md:
//
//   +-----------+-----------------------------+------------------------------+
//   | codec (1) | uncompressed length (uvarint) | payload (to the end of view) |
//   +-----------+-----------------------------+------------------------------+
//
// A frame does not record its own compressed size: the container that stores it (chunk file,
// index section) delimits it, and DecompressBlock() takes exactly one frame.
//
// Thread safety: all functions are reentrant; no shared state.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::compression {

// The first byte of a framed block. Values are part of the on-disk format: never renumber.
enum class BlockCodec : uint8_t {
  kNone = 0,  // payload is the input, unchanged
  kLz4 = 1,   // payload is one LZ4 block (lz4.h raw block format, no LZ4 frame)
  kZstd = 2,  // payload is one zstd frame (with its content size)
};

// Largest uncompressed size a frame may claim. Larger claims are rejected as corrupt before any
// allocation, and CompressBlock() refuses larger inputs.
inline constexpr uint64_t kMaxBlockSize = uint64_t{1} << 30;  // 1 GiB

// Longest frame header: tag byte + uvarint of kMaxBlockSize (31 bits -> 5 bytes).
inline constexpr size_t kMaxBlockHeaderSize = 6;

// "none", "lz4", "zstd", or "unknown".
std::string_view BlockCodecName(BlockCodec codec);

// Success or an error message. Compression keeps no dependency on storage/ (DESIGN.md §2), so this
// is a local type; storage wraps a failure into Status::Corruption / InvalidArgument.
class [[nodiscard]] BlockStatus {
 public:
  BlockStatus() = default;
  static BlockStatus Ok() { return BlockStatus(); }
  static BlockStatus Error(std::string message) {
    BlockStatus s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return ok_; }
  // Empty when ok().
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

// The decoded frame header.
struct BlockHeader {
  BlockCodec codec = BlockCodec::kNone;
  uint64_t uncompressed_size = 0;
  size_t header_size = 0;  // bytes of tag + uvarint; the payload starts here
};

// Appends one framed block holding `input` to *out (existing contents are kept).
// `level`: for kLz4, <= 0 selects the fast LZ4 compressor and 1..12 LZ4-HC at that level (clamped);
// for kZstd, the zstd level (0 = zstd's default, clamped to the library's range); ignored for kNone.
// Fails (and leaves *out as it was) if input.size() > kMaxBlockSize, the codec is unknown, or the
// compressor reports an error.
BlockStatus CompressBlock(BlockCodec codec, std::string_view input, int level, std::string* out);

// Parses the frame header of `block` without decompressing. Fails on an unknown codec tag, a
// truncated or over-long uvarint, or a size above `max_size` (itself capped at kMaxBlockSize).
BlockStatus ReadBlockHeader(std::string_view block, BlockHeader* header,
                            uint64_t max_size = kMaxBlockSize);

// Decompresses the single framed block `block` (the whole view) and appends the result to *out.
// Never reads outside `block` and never allocates more than the claimed size, which must be
// <= max_size (capped at kMaxBlockSize). Any corruption -- unknown codec, truncated header or
// payload, trailing bytes, a decompressed size different from the claimed one -- returns an error
// naming the problem and leaves *out as it was.
BlockStatus DecompressBlock(std::string_view block, std::string* out,
                            uint64_t max_size = kMaxBlockSize);

}  // namespace vigil::compression
