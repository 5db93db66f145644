#pragma once

// Chunk codecs: a chunk holds the samples (int64 millisecond timestamp, float64 value) of one
// series over a short time range, about 120-240 samples. Every chunk starts with an encoding byte
// (enum Encoding) so that encodings can be added without a format break. Layouts are documented bit
// for bit in compression/docs/.
//
// Thread safety: encoders and decoders are single-threaded objects; distinct objects may be used
// from different threads. Chunk bytes are immutable once finished and may be shared freely.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <cstring>

#include "compression/detail/bit_reader.h"
#include "compression/detail/bit_writer.h"
#include "compression/detail/int_series_reader.h"
#include "compression/detail/xor_column_reader.h"
#include "compression/detail/xor_codec.h"

namespace vigil::compression {

// The first byte of every chunk. Values are part of the on-disk format: never renumber.
enum class Encoding : uint8_t {
  kXor = 1,             // Gorilla: delta-of-delta timestamps, XOR values
  kConstant = 2,        // one value repeated; timestamps in the shared column coder (below)
  kIntDoubleDelta = 3,  // integral values as delta-of-delta integers (counters)
  kDecimal = 4,         // values = integer * 10^-k, integers as delta-of-delta
  kXorColumnar = 5,     // XOR values as in kXor, after a timestamp column (irregular floats)
};
// kConstant, kIntDoubleDelta, kDecimal and kXorColumnar share one timestamp coder, a packed column
// (compression/docs/int_series.md); kXor codes timestamps sample by sample so that it can stream.

// Appends samples one at a time to a Gorilla (kXor) chunk. This is the head's open chunk.
// Timestamps should be non-decreasing; see compression/docs/xor_chunk.md for what is stored
// when they are not (any int64 sequence round-trips exactly).
class XorAppender {
 public:
  // `out` is caller-owned and must outlive the appender; the chunk is written to its end.
  explicit XorAppender(std::string* out);
  void Append(int64_t t, double v);
  uint32_t num_samples() const;
  // Flushes pending bits; after Finish() the chunk in *out is complete. Appending after Finish()
  // is allowed in the implementation only if documented there.
  // Vigil: appending after Finish() is allowed (the padding Finish() wrote is taken back first);
  // the sample count in the header is patched on every Append(). REQUIRES: < 65535 samples.
  void Finish();

 private:
  std::string* out_;
  size_t start_;  // offset of the chunk in *out_
  detail::BitWriter writer_;
  detail::XorStream<detail::BitWriter> stream_;
  bool finished_ = false;
};

// A byte buffer over caller-owned memory that it never reallocates, for chunk bytes kept in an
// allocation of the caller's own (the head keeps its open chunk's bytes after the appender's state
// in one block). Bytes past the capacity go to a small spill area instead; the caller then moves
// them (spilled()) into a larger allocation. CompactXorAppender adds at most kSpillBytes per
// Append() or Finish(), so when nothing was spilled before a call, the spill area holds what the
// call adds beyond the capacity (asserted).
class SpillBuffer {
 public:
  static constexpr size_t kSpillBytes = 32;

  SpillBuffer(char* data, size_t size, size_t capacity)
      : data_(data), size_(size), capacity_(capacity) {
    assert(size <= capacity);
  }
  size_t size() const { return size_; }  // every byte, spilled ones included
  char& operator[](size_t i) { return i < capacity_ ? data_[i] : spill_[i - capacity_]; }
  void push_back(char c) {
    if (size_ < capacity_) {
      data_[size_] = c;
    } else {
      assert(size_ - capacity_ < kSpillBytes);
      spill_[size_ - capacity_] = c;
    }
    ++size_;
  }
  void append(const char* p, size_t n) {
    if (size_ <= capacity_ && n <= capacity_ - size_) {
      std::memcpy(data_ + size_, p, n);
      size_ += n;
      return;
    }
    for (size_t i = 0; i < n; ++i) push_back(p[i]);
  }
  // REQUIRES: n <= size() (shrinks only).
  void resize(size_t n) {
    assert(n <= size_);
    size_ = n;
  }
  // The bytes past the capacity, which belong right after data[capacity - 1].
  std::string_view spilled() const {
    return size_ > capacity_ ? std::string_view(spill_, size_ - capacity_) : std::string_view();
  }

 private:
  char* data_;
  size_t size_;
  size_t capacity_;
  char spill_[kSpillBytes];
};

// XorAppender's bytes from 24 bytes of state (XorAppender takes 96): no pointer to the buffer, no
// chunk offset, and no copy of the previous sample, which the caller passes to Append() (the head's
// open chunk: its series keeps its newest timestamp and value bits anyway). The chunk starts at
// offset 0 of a caller-owned buffer (std::string or SpillBuffer) given to every call; the same
// bytes each time. Appending after Finish() is allowed (the padding is taken back first); the
// header's sample count is patched on every Append(). REQUIRES: < 65535 samples.
class CompactXorAppender {
 public:
  // The most bytes one call adds to the buffer: a sample takes at most 146 bits (a 69-bit escaped
  // delta-of-delta and a 77-bit value), which with up to 63 pending bits leave in three 8-byte
  // words; Finish() adds at most 8 bytes, Start() 3.
  static constexpr size_t kMaxAppendBytes = 24;
  static_assert(kMaxAppendBytes <= SpillBuffer::kSpillBytes);

  // Starts the chunk: writes its header. REQUIRES: out->size() == 0.
  void Start(std::string* out);
  void Start(SpillBuffer* out);
  // (prev_t, prev_bits): the previous sample appended, as timestamp and value bits (ignored for
  // the first sample).
  void Append(std::string* out, int64_t t, double v, int64_t prev_t, uint64_t prev_bits);
  void Append(SpillBuffer* out, int64_t t, double v, int64_t prev_t, uint64_t prev_bits);
  // Flushes the pending bits: *out is then a complete chunk.
  void Finish(std::string* out);
  void Finish(SpillBuffer* out);
  uint32_t num_samples() const { return count_; }

 private:
  template <typename Out>
  void StartIn(Out* out);
  template <typename Out>
  void AppendIn(Out* out, int64_t t, double v, int64_t prev_t, uint64_t prev_bits);
  template <typename Out>
  void FinishIn(Out* out);

  uint64_t acc_ = 0;         // BitWriter: bits not yet in the buffer (the low pending_)
  uint64_t prev_delta_ = 0;  // the previous timestamp delta
  uint16_t count_ = 0;
  uint8_t pending_ = 0;     // 0..63
  uint8_t tail_bytes_ = 0;  // padding bytes Finish() appended
  uint8_t lead_ = 0xff;     // the XOR window (0xff: none yet)
  uint8_t trail_ = 0;
};
static_assert(sizeof(CompactXorAppender) == 24);

// Encodes `ts`/`vs` (equal length, 0 < n <= 65535) as one chunk appended to *out, choosing the
// smallest of all encodings (adaptive) or the given one. Returns the encoding used: EncodeChunkAs
// falls back to kXor when `enc` cannot hold the values exactly (e.g. kConstant for two values).
Encoding EncodeChunk(std::span<const int64_t> ts, std::span<const double> vs, std::string* out);
// How hard the adaptive choice looks. kQuick tries fewer integer-series modes (delta and grid with
// the median step; compression/docs/int_series.md): about half the planning work for chunks that
// may come out a little larger, such as the head's closed chunks, which live in memory until the
// block writer plans them again with kSmallest. The bytes are decoded the same way.
enum class ChunkEffort : uint8_t { kSmallest, kQuick };
Encoding EncodeChunkWith(ChunkEffort effort, std::span<const int64_t> ts, std::span<const double> vs,
                         std::string* out);
Encoding EncodeChunkAs(Encoding enc, std::span<const int64_t> ts, std::span<const double> vs,
                       std::string* out);

// Decodes a chunk of any encoding in batches. No virtual call or allocation per sample.
class ChunkDecoder {
 public:
  // `chunk` must stay valid while the decoder is used.
  explicit ChunkDecoder(std::string_view chunk);
  // Fills up to ts.size() (== vs.size()) samples; returns how many. 0 means the end, or an error:
  // check ok(). Corrupt or truncated input sets a sticky error, never reads out of bounds.
  size_t Next(std::span<int64_t> ts, std::span<double> vs);
  bool ok() const;
  Encoding encoding() const;
  uint32_t num_samples() const;

 private:
  void Init();
  void NextXor(std::span<int64_t> ts, std::span<double> vs);
  // False if the chunk turned out corrupt.
  bool NextColumnar(std::span<int64_t> ts, std::span<double> vs);

  std::string_view chunk_;
  Encoding encoding_ = Encoding::kXor;
  uint32_t num_samples_ = 0;
  uint32_t done_ = 0;
  bool ok_ = true;
  detail::BitReader reader_;  // kXor: the whole stream
  detail::XorColumnReader xor_column_;  // kXorColumnar: the value column
  detail::XorValueReader xor_values_;
  int64_t prev_t_ = 0;
  uint64_t prev_delta_ = 0;
  detail::IntSeriesReader ts_;
  detail::IntSeriesReader ints_;
  uint64_t constant_bits_ = 0;
  double divisor_ = 1;
};

}  // namespace vigil::compression
