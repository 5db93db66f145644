#pragma once

// The integer series coder shared by the adaptive encodings: it stores the timestamps of every
// adaptive chunk and the integers of kIntDoubleDelta and kDecimal (compression/docs/int_series.md).
// A series x_0..x_{n-1} is stored as x_0, a mode, a step S and n-1 residuals that are bit-packed
// with one width per series plus an exception list (patched frame of reference):
//   kDelta: r_j = x_j - x_{j-1} - S
//   kGrid:  r_j = x_j - x_0 - j*S
//   kDod:   r_j = d_j - d_{j-1}, d_j = x_j - x_{j-1}, d_0 = S
// All arithmetic wraps modulo 2^64, so every int64 sequence round-trips.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "compression/detail/bit_reader.h"
#include "compression/detail/bit_writer.h"
#include "compression/detail/bits.h"

namespace vigil::compression::detail {

enum class SeriesMode : uint8_t { kDelta = 0, kGrid = 1, kDod = 2 };

struct IntSeriesPlan {
  uint64_t first = 0;
  SeriesMode mode = SeriesMode::kDelta;
  uint64_t step = 0;
  unsigned width = 0;       // base width of every residual, 0..64
  unsigned exc_width = 0;   // high bits stored per exception
  uint32_t exc_count = 0;
  unsigned rice_k = 0;      // Rice parameter of the exception index gaps
  uint64_t exc_bits = 0;    // length of the exception list
  uint64_t bits = 0;        // size of the whole section
  std::vector<uint64_t> residuals;  // zigzagged, n-1 of them
};

// Chooses the cheapest mode and width for `xs` (1 <= n <= 65535 values, as wrapped uint64).
IntSeriesPlan PlanIntSeries(std::span<const uint64_t> xs);
void WriteIntSeries(const IntSeriesPlan& plan, BitWriter& w);

// Decodes one section in batches.
class IntSeriesReader {
 public:
  // Parses the section that starts at bit `start` of the chunk; sets *end to the bit after it.
  // Returns false if the header is corrupt or the section does not fit.
  bool Init(const char* data, size_t size, uint64_t start, uint32_t n, uint64_t* end);

  // Produces the next k values, calling store(i, value) for i in [0, k). REQUIRES: no more than
  // the n values in total.
  template <typename Store>
  void Decode(size_t k, Store store);

  bool ok() const { return ok_ && base_.ok() && exc_.ok(); }

 private:
  static constexpr size_t kBlock = 256;
  void UnpackBase(uint64_t* tmp, size_t cnt);
  bool ReadException(BitReader& r, uint32_t* idx, uint64_t* hi);
  void NextException();
  template <typename Store>
  void DecodeSparse(size_t k, Store& store);
  template <typename Store>
  void DecodeDense(size_t k, Store& store);

  BitReader base_;
  BitReader exc_;
  uint64_t first_ = 0;
  uint64_t step_ = 0;
  uint64_t prev_ = 0;
  uint64_t prev_delta_ = 0;
  uint32_t m_ = 0;     // residual count
  uint32_t next_ = 0;  // index of the next value
  unsigned width_ = 0;
  unsigned exc_width_ = 0;
  unsigned rice_k_ = 0;
  uint32_t exc_left_ = 0;   // 1 while an exception is pending
  uint64_t exc_end_ = 0;    // bit position where the exception list ends
  uint32_t exc_idx_ = 0;  // residual index of the pending exception (UINT32_MAX: none)
  uint64_t exc_hi_ = 0;
  SeriesMode mode_ = SeriesMode::kDelta;
  bool ok_ = true;
};

inline void IntSeriesReader::UnpackBase(uint64_t* tmp, size_t cnt) {
  const unsigned w = width_;
  if (w == 0) {
    for (size_t i = 0; i < cnt; ++i) tmp[i] = 0;
  } else if (w <= 57) {
    for (size_t i = 0; i < cnt; ++i) tmp[i] = base_.Read(w);
  } else {
    for (size_t i = 0; i < cnt; ++i) tmp[i] = base_.Read64(w);
  }
}

// Values x, x+step, x+2*step, ... for store(i0..i0+cnt-1); the loop has no carried dependency.
template <typename Store>
inline void FillAffine(Store& store, size_t i0, size_t cnt, uint64_t x, uint64_t step) {
  if (step == 0) {
    for (size_t j = 0; j < cnt; ++j) store(i0 + j, x);
  } else {
    for (size_t j = 0; j < cnt; ++j) store(i0 + j, x + uint64_t{j} * step);
  }
}

// Width 0: the residuals are zero except at the exceptions, so the values between two exceptions
// form an arithmetic progression in every mode.
template <typename Store>
void IntSeriesReader::DecodeSparse(size_t k, Store& store) {
  size_t i = 0;
  uint64_t x = prev_;
  uint64_t d = mode_ == SeriesMode::kDod ? prev_delta_ : step_;
  while (i < k) {
    const size_t p = next_ + i;  // sample index; its residual index is p - 1
    const size_t q = exc_left_ != 0 ? size_t{exc_idx_} + 1 : SIZE_MAX;  // next exception's sample
    const size_t run = (q < next_ + k ? q : next_ + k) - p;
    if (mode_ == SeriesMode::kGrid) {
      FillAffine(store, i, run, first_ + uint64_t{p} * step_, step_);
    } else {
      FillAffine(store, i, run, x + d, d);
    }
    x += uint64_t{run} * d;
    i += run;
    if (i == k) break;
    const uint64_t r = UnZigZag(exc_hi_);
    switch (mode_) {
      case SeriesMode::kDelta:
        x += step_ + r;
        break;
      case SeriesMode::kGrid:
        x = first_ + uint64_t{q} * step_ + r;
        break;
      case SeriesMode::kDod:
        d += r;
        x += d;
        break;
    }
    store(i, x);
    ++i;
    NextException();
  }
  prev_ = x;
  prev_delta_ = d;
  next_ += static_cast<uint32_t>(k);
}

template <typename Store>
void IntSeriesReader::DecodeDense(size_t k, Store& store) {
  uint64_t tmp[kBlock];
  size_t i = 0;
  while (i < k) {
    const size_t cnt = k - i < kBlock ? k - i : kBlock;
    const uint32_t r0 = next_ + static_cast<uint32_t>(i) - 1;  // residual index of tmp[0]
    UnpackBase(tmp, cnt);
    while (exc_left_ != 0 && exc_idx_ < r0 + cnt) {
      tmp[exc_idx_ - r0] |= exc_hi_ << width_;
      NextException();
    }
    uint64_t x = prev_;
    switch (mode_) {
      case SeriesMode::kDelta: {
        const uint64_t s = step_;
        for (size_t j = 0; j < cnt; ++j) {
          x += s + UnZigZag(tmp[j]);
          store(i + j, x);
        }
        break;
      }
      case SeriesMode::kGrid: {
        const uint64_t g = first_ + uint64_t{r0 + 1} * step_;
        const uint64_t s = step_;
        for (size_t j = 0; j < cnt; ++j) store(i + j, g + uint64_t{j} * s + UnZigZag(tmp[j]));
        break;
      }
      case SeriesMode::kDod: {
        uint64_t d = prev_delta_;
        for (size_t j = 0; j < cnt; ++j) {
          d += UnZigZag(tmp[j]);
          x += d;
          store(i + j, x);
        }
        prev_delta_ = d;
        break;
      }
    }
    prev_ = x;
    i += cnt;
  }
  next_ += static_cast<uint32_t>(k);
}

template <typename Store>
void IntSeriesReader::Decode(size_t k, Store store) {
  if (k == 0) return;
  size_t i0 = 0;
  if (next_ == 0) {
    prev_ = first_;
    prev_delta_ = step_;
    store(0, first_);
    next_ = 1;
    i0 = 1;
  }
  auto shifted = [&store, i0](size_t j, uint64_t x) { store(i0 + j, x); };
  if (width_ == 0) {
    DecodeSparse(k - i0, shifted);
  } else {
    DecodeDense(k - i0, shifted);
  }
}

}  // namespace vigil::compression::detail
