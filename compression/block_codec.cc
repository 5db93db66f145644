#include "compression/block_codec.h"

#include <lz4.h>
#include <lz4hc.h>
#include <zstd.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace vigil::compression {

namespace {

// The decompressed size one payload byte can stand for, at most. They bound a claimed size before
// anything is allocated, so ten bytes of garbage cannot make us allocate a gigabyte.
//  - LZ4: a match of 19 + 255*n bytes costs 3 + n bytes (token, offset, n length bytes), so the
//    ratio approaches but never exceeds 255.
//  - zstd: a block holds at most 128 KiB and costs at least 4 bytes (3-byte block header + 1 RLE
//    byte), so the ratio never exceeds 32768.
constexpr uint64_t kLz4MaxRatio = 255;
constexpr uint64_t kZstdMaxRatio = 32768;

void PutUvarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::string SizeError(const char* what, uint64_t a, uint64_t b) {
  return std::string(what) + " (" + std::to_string(a) + " vs " + std::to_string(b) + ")";
}

bool IsKnownCodec(uint8_t tag) { return tag <= static_cast<uint8_t>(BlockCodec::kZstd); }

}  // namespace

std::string_view BlockCodecName(BlockCodec codec) {
  switch (codec) {
    case BlockCodec::kNone:
      return "none";
    case BlockCodec::kLz4:
      return "lz4";
    case BlockCodec::kZstd:
      return "zstd";
  }
  return "unknown";
}

BlockStatus CompressBlock(BlockCodec codec, std::string_view input, int level, std::string* out) {
  if (input.size() > kMaxBlockSize) {
    return BlockStatus::Error(SizeError("block input larger than kMaxBlockSize", input.size(),
                                        kMaxBlockSize));
  }
  if (!IsKnownCodec(static_cast<uint8_t>(codec))) {
    return BlockStatus::Error("unknown block codec " + std::to_string(static_cast<int>(codec)));
  }
  const size_t start = out->size();
  out->push_back(static_cast<char>(codec));
  PutUvarint(input.size(), out);
  const size_t payload_at = out->size();

  switch (codec) {
    case BlockCodec::kNone:
      out->append(input);
      return BlockStatus::Ok();

    case BlockCodec::kLz4: {
      // kMaxBlockSize < LZ4_MAX_INPUT_SIZE, so the int conversions below cannot overflow.
      static_assert(kMaxBlockSize <= LZ4_MAX_INPUT_SIZE);
      const int src_size = static_cast<int>(input.size());
      const int bound = LZ4_compressBound(src_size);
      out->resize(payload_at + static_cast<size_t>(bound));
      char* dst = out->data() + payload_at;
      int n;
      if (level <= 0) {
        n = LZ4_compress_default(input.data(), dst, src_size, bound);
      } else {
        n = LZ4_compress_HC(input.data(), dst, src_size, bound, std::clamp(level, 1, 12));
      }
      if (n <= 0) {
        out->resize(start);
        return BlockStatus::Error("lz4 compression failed");
      }
      out->resize(payload_at + static_cast<size_t>(n));
      return BlockStatus::Ok();
    }

    case BlockCodec::kZstd: {
      const size_t bound = ZSTD_compressBound(input.size());
      out->resize(payload_at + bound);
      const int zlevel = level == 0 ? ZSTD_CLEVEL_DEFAULT
                                    : std::clamp(level, ZSTD_minCLevel(), ZSTD_maxCLevel());
      // ZSTD_compress() writes the content size into the frame header; DecompressBlock checks it.
      // One compression context per thread (ZSTD_compress() would make one, over 1 MiB, per call);
      // ZSTD_compressCCtx() applies `zlevel` afresh each time, so the frame is the same.
      thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
      if (cctx == nullptr) {
        out->resize(start);
        return BlockStatus::Error("zstd: cannot create a compression context");
      }
      const size_t n = ZSTD_compressCCtx(cctx.get(), out->data() + payload_at, bound, input.data(),
                                         input.size(), zlevel);
      if (ZSTD_isError(n)) {
        out->resize(start);
        return BlockStatus::Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      out->resize(payload_at + n);
      return BlockStatus::Ok();
    }
  }
  out->resize(start);
  return BlockStatus::Error("unknown block codec");
}

BlockStatus ReadBlockHeader(std::string_view block, BlockHeader* header, uint64_t max_size) {
  max_size = std::min(max_size, kMaxBlockSize);
  if (block.empty()) return BlockStatus::Error("block frame is empty");
  const auto tag = static_cast<uint8_t>(block[0]);
  if (!IsKnownCodec(tag)) {
    return BlockStatus::Error("unknown block codec tag " + std::to_string(tag));
  }
  // uvarint, little-endian base 128. kMaxBlockSize needs 31 bits, so at most 5 bytes are valid;
  // longer (or non-terminated) encodings are corruption.
  uint64_t size = 0;
  size_t pos = 1;
  for (int shift = 0;; shift += 7) {
    if (pos >= block.size()) return BlockStatus::Error("block frame header truncated");
    if (pos >= kMaxBlockHeaderSize) {
      return BlockStatus::Error("block uncompressed length varint too long");
    }
    const auto byte = static_cast<uint8_t>(block[pos++]);
    size |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (size > max_size) {
    return BlockStatus::Error(SizeError("block claims an uncompressed size above the limit", size,
                                        max_size));
  }
  header->codec = static_cast<BlockCodec>(tag);
  header->uncompressed_size = size;
  header->header_size = pos;
  return BlockStatus::Ok();
}

BlockStatus DecompressBlock(std::string_view block, std::string* out, uint64_t max_size) {
  BlockHeader h;
  if (BlockStatus s = ReadBlockHeader(block, &h, max_size); !s.ok()) return s;
  const std::string_view payload = block.substr(h.header_size);
  const uint64_t want = h.uncompressed_size;

  switch (h.codec) {
    case BlockCodec::kNone:
      if (payload.size() != want) {
        return BlockStatus::Error(SizeError("uncompressed block payload size differs from header",
                                            payload.size(), want));
      }
      out->append(payload);
      return BlockStatus::Ok();

    case BlockCodec::kLz4: {
      if (payload.empty()) return BlockStatus::Error("lz4 block payload is empty");
      if (want > kLz4MaxRatio * payload.size()) {
        return BlockStatus::Error(SizeError("lz4 block claims more than 255x its payload", want,
                                            payload.size()));
      }
      const size_t start = out->size();
      out->resize(start + want);
      // LZ4_decompress_safe never writes beyond `want` nor reads beyond the payload.
      const int n = LZ4_decompress_safe(payload.data(), out->data() + start,
                                        static_cast<int>(payload.size()), static_cast<int>(want));
      if (n < 0 || static_cast<uint64_t>(n) != want) {
        out->resize(start);
        return BlockStatus::Error(n < 0 ? std::string("lz4 block payload is corrupt")
                                        : SizeError("lz4 block decompressed to a different size",
                                                    static_cast<uint64_t>(n), want));
      }
      return BlockStatus::Ok();
    }

    case BlockCodec::kZstd: {
      // Exactly one complete frame, whose own content size agrees with the header.
      const size_t frame_size = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
      if (ZSTD_isError(frame_size)) {
        return BlockStatus::Error(std::string("zstd block payload is corrupt: ") +
                                  ZSTD_getErrorName(frame_size));
      }
      if (frame_size != payload.size()) {
        return BlockStatus::Error(SizeError("zstd block has bytes after its frame", payload.size(),
                                            frame_size));
      }
      const unsigned long long content =
          ZSTD_getFrameContentSize(payload.data(), payload.size());
      if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
        return BlockStatus::Error("zstd block frame lacks a valid content size");
      }
      if (content != want) {
        return BlockStatus::Error(SizeError("zstd frame content size differs from block header",
                                            content, want));
      }
      if (want / kZstdMaxRatio > payload.size()) {
        return BlockStatus::Error(SizeError("zstd block claims more than 32768x its payload", want,
                                            payload.size()));
      }
      const size_t start = out->size();
      out->resize(start + want);
      // One decompression context per thread: ZSTD_decompress() would allocate and free one
      // (about 100 KiB) per call.
      thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
      if (dctx == nullptr) return BlockStatus::Error("zstd: cannot create a decompression context");
      const size_t n = ZSTD_decompressDCtx(dctx.get(), out->data() + start, want, payload.data(), payload.size());
      if (ZSTD_isError(n) || n != want) {
        out->resize(start);
        return BlockStatus::Error(ZSTD_isError(n)
                                      ? std::string("zstd block payload is corrupt: ") +
                                            ZSTD_getErrorName(n)
                                      : SizeError("zstd block decompressed to a different size", n,
                                                  want));
      }
      return BlockStatus::Ok();
    }
  }
  return BlockStatus::Error("unknown block codec");
}

}  // namespace vigil::compression
