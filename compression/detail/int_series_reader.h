#pragma once

// IntSeriesReader: decodes one integer series section (int_series.h,
// compression/docs/int_series.md) in batches of any size.
//
// A whole section decoded at once (DecodeAll, the usual case) and a batch of any size (Decode, in
// blocks of up to kBlock residuals) produce the values by the loop for the column's shape:
//   - width 0 (~93% of the columns of real-scrape: jittery scrape timestamps, steady counters,
//     constant gauges): the residuals are zero except at the exceptions, so the values are
//     arithmetic runs, filled without reading a bit. In grid mode the exceptions are independent
//     and patch single values after the fill, as they are read; in delta and dod mode they end a
//     run (DecodeAll visits them as they are read, Decode first reads a block's into an array).
//   - width > 0: the residuals are unpacked with one unaligned 8-byte load each, patched with the
//     exceptions' high bits as those are read, then summed per mode.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "compression/detail/bit_cursor.h"
#include "compression/detail/bits.h"
#include "compression/detail/exception_list.h"
#include "compression/detail/fill.h"
#include "compression/detail/int_series.h"

namespace vigil::compression::detail {

class IntSeriesReader {
 public:
  // Parses the section header that starts at bit `start` of the `size` bytes at `data` (which must
  // outlive the reader); sets *end to the bit after the section. Returns
  // false if the header is corrupt or the section does not fit; every later read is then in bounds.
  bool Init(const char* data, size_t size, uint64_t start, uint32_t n, uint64_t* end);

  // Produces the next k values as values 0..k-1 of `store`, a sink as in fill.h: store(i, x)
  // writes one value, store.Fill(i, n, x, step) an arithmetic run. The writes may come out of
  // order and a value may be written twice (a run is filled, then an exception overwrites one
  // value). REQUIRES: no more than n values in total.
  template <typename Store>
  void Decode(size_t k, Store store);
  // Decode(n, store) before anything else was decoded: the common case of a chunk decoded into
  // spans at least as long as it, without the block loop for width-0 columns.
  template <typename Store>
  void DecodeAll(Store store);

  bool ok() const { return ok_ && !exc_.failed; }

 private:
  static constexpr size_t kBlock = 256;  // residuals per block (6 KiB of stack in Decode)

  using BlockExceptions = std::span<const Exception>;

  void Unpack(uint64_t* out, uint32_t r, size_t cnt) const;
  template <typename Store>
  void DecodeBlocks(size_t i, size_t k, Store store);
  template <typename Store>
  void GridBlock(Store& store, size_t i, uint32_t r0, size_t cnt);
  template <typename Store>
  void RunsBlock(Store& store, size_t i, uint32_t r0, size_t cnt, BlockExceptions e);
  template <typename Store>
  void PackedBlock(Store& store, size_t i, uint32_t r0, size_t cnt);

  // No initializers (see ExceptionList): Init() sets every field that is read later.
  const char* data_;
  size_t size_;
  uint64_t base_;  // bit position of residual 0 in the base
  uint64_t first_;
  uint64_t step_;
  uint64_t prev_;        // last value produced
  uint64_t prev_delta_;  // dod mode: last delta
  uint32_t next_;        // index of the next value
  uint32_t m_;           // residual count (values - 1)
  unsigned width_;
  SeriesMode mode_;
  bool ok_;
  ExceptionList exc_;
};

// Width 0, grid mode: x_j = x_0 + j*S except at the exceptions, which are independent of each
// other: fill, then overwrite.
template <typename Store>
void IntSeriesReader::GridBlock(Store& store, size_t i, uint32_t r0, size_t cnt) {
  const uint64_t first = first_;
  const uint64_t s = step_;
  store.Fill(i, cnt, first + uint64_t{r0 + 1} * s, s);
  const size_t shift = i - r0;  // value index = residual index + shift (wraps like the index)
  // The sink by value: through a reference its output pointer is reloaded for every exception.
  exc_.ForEach(uint64_t{r0} + cnt, [out = store, shift, first, s](uint32_t idx, uint64_t hi) {
    out(shift + idx, first + uint64_t{idx + 1} * s + UnZigZag(hi));
  });
}

// Width 0, delta or dod mode: the values between two exceptions form an arithmetic progression
// with the current delta; an exception changes the next value (delta) or the delta (dod).
template <typename Store>
void IntSeriesReader::RunsBlock(Store& store, size_t i, uint32_t r0, size_t cnt,
                                BlockExceptions e) {
  const bool dod = mode_ == SeriesMode::kDod;
  const uint64_t s = step_;
  uint64_t x = prev_;
  uint64_t d = dod ? prev_delta_ : s;
  size_t j = 0;
  for (size_t k = 0;; ++k) {
    const size_t stop = k < e.size() ? e[k].idx - r0 : cnt;
    store.Fill(i + j, stop - j, x + d, d);
    x += uint64_t{stop - j} * d;
    if (k == e.size()) break;
    const uint64_t r = UnZigZag(e[k].hi);
    if (dod) {
      d += r;
      x += d;
    } else {
      x += s + r;
    }
    store(i + stop, x);
    j = stop + 1;
  }
  prev_ = x;
  prev_delta_ = d;
}

// Width > 0: unpack, patch the exceptions' high bits in as they are read, then sum per mode. For
// the double sinks the integers are first summed in place (two lanes at a time in grid mode) and
// then converted two at a time (fill.h) when every one is below 2^51 in magnitude.
template <typename Store>
void IntSeriesReader::PackedBlock(Store& store, size_t i, uint32_t r0, size_t cnt) {
  uint64_t tmp[kBlock];
  Unpack(tmp, r0, cnt);
  {
    uint64_t* const t = tmp - r0;
    const unsigned w = width_;  // width + exception width <= 64 (checked in Init)
    const auto patch = [t, w](uint32_t idx, uint64_t hi) { t[idx] |= hi << w; };
    if (r0 == 0 && cnt == m_) {
      exc_.ForEachAll(patch);  // the whole section in one block
    } else {
      exc_.ForEach(uint64_t{r0} + cnt, patch);
    }
  }
  const uint64_t s = step_;
  uint64_t x = prev_;
  // Grid mode, and every mode of scaled (kDecimal) values, sum the integers in place and convert
  // them two at a time (one vector division per two values); unscaled delta and dod values are
  // converted as they are summed (cheaper than a second pass).
  if constexpr (Store::kToDouble) {
    if (mode_ == SeriesMode::kGrid) {
      const uint64_t g = first_ + uint64_t{r0 + 1} * s;
      U64x2 gv = {g, g + s};
      const U64x2 step2 = {2 * s, 2 * s};
      const U64x2 one = {1, 1};
      const U64x2 bias = {kMagicLimit, kMagicLimit};
      U64x2 rv = {0, 0};
      size_t j = 0;
      for (; j + 2 <= cnt; j += 2) {
        U64x2 u;
        std::memcpy(&u, tmp + j, sizeof(u));
        const U64x2 v = gv + ((u >> 1) ^ (U64x2{0, 0} - (u & one)));
        StoreU64x2(tmp + j, v);
        rv |= v + bias;
        gv += step2;
      }
      uint64_t range = rv[0] | rv[1];  // OR of x + 2^51: below 2^52 iff every |x| < 2^51
      if (j < cnt) {
        tmp[j] = gv[0] + UnZigZag(tmp[j]);
        range |= tmp[j] + kMagicLimit;
      }
      store.FromIntegers(i, tmp, cnt, range < (uint64_t{1} << 52));
      return;
    }
    if constexpr (Store::kScaled) {
      uint64_t range = 0;
      if (mode_ == SeriesMode::kDelta) {
        for (size_t j = 0; j < cnt; ++j) {
          x += s + UnZigZag(tmp[j]);
          tmp[j] = x;
          range |= x + kMagicLimit;
        }
      } else {
        uint64_t d = prev_delta_;
        for (size_t j = 0; j < cnt; ++j) {
          d += UnZigZag(tmp[j]);
          x += d;
          tmp[j] = x;
          range |= x + kMagicLimit;
        }
        prev_delta_ = d;
      }
      store.FromIntegers(i, tmp, cnt, range < (uint64_t{1} << 52));
      prev_ = x;
      return;
    }
  }
  switch (mode_) {
    case SeriesMode::kDelta:
      for (size_t j = 0; j < cnt; ++j) {
        x += s + UnZigZag(tmp[j]);
        store(i + j, x);
      }
      break;
    case SeriesMode::kGrid: {
      const uint64_t g = first_ + uint64_t{r0 + 1} * s;
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
}

template <typename Store>
void IntSeriesReader::Decode(size_t k, Store store) {
  if (k == 0) return;
  size_t i = 0;
  if (next_ == 0) {
    store(0, first_);
    prev_ = first_;
    prev_delta_ = step_;
    next_ = 1;
    i = 1;
  }
  DecodeBlocks(i, k, store);
}

template <typename Store>
void IntSeriesReader::DecodeBlocks(size_t i, size_t k, Store store) {
  Exception exc[kBlock];
  while (i < k) {
    const size_t cnt = k - i < kBlock ? k - i : kBlock;
    const uint32_t r0 = next_ - 1;  // residual index of value i
    if (width_ != 0) {
      PackedBlock(store, i, r0, cnt);  // patches the exceptions as it reads them
    } else if (mode_ == SeriesMode::kGrid) {
      GridBlock(store, i, r0, cnt);  // the same
    } else {
      RunsBlock(store, i, r0, cnt, BlockExceptions(exc, exc_.Take(uint64_t{r0} + cnt, exc)));
    }
    next_ += static_cast<uint32_t>(cnt);
    i += cnt;
  }
}

template <typename Store>
void IntSeriesReader::DecodeAll(Store store) {
  const uint64_t first = first_;
  const uint32_t m = m_;
  store(0, first);
  if (m == 0) {
    next_ = 1;
    return;
  }
  const uint64_t s = step_;
  if (width_ != 0) {
    prev_ = first;
    prev_delta_ = s;
    next_ = 1;
    DecodeBlocks(1, size_t{m} + 1, store);
    return;
  }
  next_ = m + 1;
  if (mode_ == SeriesMode::kGrid) {
    // Value j is x_0 + j*S, or an exception's x_0 + j*S + r_j (residual index j - 1).
    store.Fill(1, m, first + s, s);
    if constexpr (Store::kToDouble) {
      exc_.ForEachAll([out = store, first, s](uint32_t idx, uint64_t hi) {
        const uint64_t j = uint64_t{idx} + 1;
        out(j, first + j * s + UnZigZag(hi));
      });
    } else {
      // The grid value is in place: add the residual (fewer live registers in the loop).
      exc_.ForEachAll<true>([out = store](auto small_high, uint32_t idx, uint64_t hi) {
        if constexpr (decltype(small_high)::value) {
          out.Add(uint64_t{idx} + 1, kUnZigZag8[hi]);
        } else {
          out.Add(uint64_t{idx} + 1, UnZigZag(hi));
        }
      });
    }
    return;
  }
  // Runs between exceptions, as in RunsBlock, with the exceptions visited as they are read.
  const bool dod = mode_ == SeriesMode::kDod;
  uint64_t x = first;
  uint64_t d = s;
  uint64_t j = 1;  // next value to write
  exc_.ForEachAll([&store, &x, &d, &j, dod, s](uint32_t idx, uint64_t hi) {
    const uint64_t stop = uint64_t{idx} + 1;  // the exception's value
    store.Fill(j, stop - j, x + d, d);
    x += (stop - j) * d;
    const uint64_t r = UnZigZag(hi);
    if (dod) {
      d += r;
      x += d;
    } else {
      x += s + r;
    }
    store(stop, x);
    j = stop + 1;
  });
  store.Fill(j, m + 1 - j, x + d, d);
}

}  // namespace vigil::compression::detail
