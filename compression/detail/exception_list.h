#pragma once

// The exception list of an integer series section (compression/docs/int_series.md): entries of a
// Rice-coded index gap and the high bits of a residual that does not fit the base width. Read by
// IntSeriesReader one block of residuals at a time.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "compression/detail/bit_cursor.h"

namespace vigil::compression::detail {

// A visit of ForEachAll may take a leading std::true_type / std::false_type: true when the high
// bits are known to be below 2^8 (a loop compiled for a high width of at most 8), so that it can
// look them up in a table (kUnZigZag8) instead of computing them.
template <typename Visit, unsigned W>
inline constexpr bool kSmallHigh =
    W <= 8 && std::is_invocable_v<Visit, std::true_type, uint32_t, uint64_t>;

// UnZigZag of 0..255.
inline constexpr auto kUnZigZag8 = [] {
  std::array<uint64_t, 256> t{};
  for (uint64_t u = 0; u < 256; ++u) t[u] = (u >> 1) ^ (~(u & 1) + 1);
  return t;
}();

// One exception: residual index (absolute) and high bits.
struct Exception {
  uint64_t hi;
  uint32_t idx;
};

// The exception list, read on demand. An entry read past the block being decoded is kept as the
// pending exception for the next block.
struct ExceptionList {
  // No initializers: a ChunkDecoder holds readers for every encoding and constructs one per
  // chunk; IntSeriesReader::Init sets each field before it is read.
  const char* data;
  size_t size;
  uint64_t pos;   // bit position of the next entry to read
  uint64_t end;   // bit position where the list ends
  uint32_t from;  // index the next entry's gap counts from
  uint32_t m;     // residual count: every index must be below it
  unsigned rice_k;
  unsigned width;         // high bits per exception, 1..64
  uint64_t gap_mask;      // low rice_k bits
  uint64_t hi_mask;       // low width bits
  bool pending;
  bool failed;
  Exception next;  // the pending exception

  // Calls visit(index, high bits) for the exceptions with an index below r_end, in order.
  // REQUIRES: r_end <= m.
  template <typename Visit>
  void ForEach(uint64_t r_end, Visit visit);
  // Calls visit(index, high bits) for every exception, in order, when the section is decoded in
  // one go (nothing read yet): no block end to compare with and no pending entry, and when the
  // list ends at least 8 bytes before the data does, loads without a bounds check.
  // kSpecialise: when the Rice k and the high width are small (scrape-jitter timestamps: k 2..6,
  // width 3..7), one indirect call per list to a loop compiled for them, whose shifts and masks
  // are constants (fewer live registers and instructions per exception).
  template <bool kSpecialise = false, typename Visit>
  void ForEachAll(Visit visit);
  // Moves the exceptions with an index below r_end to `out` and returns how many there were.
  // REQUIRES: r_end <= m, room for r_end - (index of the previous exception + 1) entries.
  size_t Take(uint64_t r_end, Exception* out) {
    Exception* o = out;
    ForEach(r_end, [&o](uint32_t idx, uint64_t hi) { *o++ = {hi, idx}; });
    return static_cast<size_t>(o - out);
  }
  // Decodes the entry at bit *p with every check (entries longer than one load): the exception
  // at index `from` + gap. False if it is corrupt. (int_series.cc)
  bool ReadLongEntry(uint64_t* p, uint64_t from, Exception* e) const;

 private:
  static constexpr unsigned kAnyField = 0xff;  // ForEachAllImpl: k / width read from the list
  static constexpr unsigned kSpecialK = 8;     // specialised loops: k < 8
  static constexpr unsigned kSpecialW = 8;     //                    and 1 <= width <= 8
  template <bool kInBounds, unsigned K, unsigned W, typename Visit>
  static void ForEachAllImpl(ExceptionList& list, Visit visit);
};

template <typename Visit>
inline void ExceptionList::ForEach(uint64_t r_end, Visit visit) {
  if (pending) {
    if (next.idx >= r_end) return;
    visit(next.idx, next.hi);
    pending = false;
  }
  if (pos >= end) return;  // no exceptions (left)
  // Rice(gap, k) is q zeros, a one and k low bits; the high bits follow. One load sees the whole
  // unary part (the writer keeps q <= 56) and, unless the entry is longer than 57 bits, all of it.
  // The loop keeps the cursor in locals (the caller's stores could alias the members as far as the
  // compiler knows) and defers two checks to the end: an index is only compared with r_end <= m
  // before it is visited, an overrun of the list is checked once. ~35 instructions per exception.
  const char* const d = data;
  const size_t sz = size;
  const uint64_t e = end;
  const unsigned k = rice_k;
  const unsigned w = width;
  const unsigned fixed = 1 + k + w;
  const uint64_t gmask = gap_mask;
  const uint64_t hmask = hi_mask;
  uint64_t p = pos;
  uint64_t f = from;
  bool ok = true;
  while (p < e) {
    const uint64_t window = LoadBitsAt(d, sz, p);
    const unsigned q = static_cast<unsigned>(std::countl_zero(window));
    const unsigned len = q + fixed;
    uint64_t i;
    uint64_t h;
    if (len <= 57) [[likely]] {
      const uint64_t v = window >> (64 - len);
      i = f + ((uint64_t{q} << k) | ((v >> w) & gmask));
      h = v & hmask;
      p += len;
    } else {
      // Through a copy: taking the address of p itself would keep it in memory for the whole loop.
      uint64_t p_long = p;
      Exception x;
      if (!ReadLongEntry(&p_long, f, &x)) {
        ok = false;
        break;
      }
      p = p_long;
      i = x.idx;
      h = x.hi;
    }
    f = i + 1;
    if (i >= r_end) {
      pending = true;
      next = {h, static_cast<uint32_t>(i)};
      ok = i < m;
      break;
    }
    visit(static_cast<uint32_t>(i), h);
  }
  pos = p;
  from = static_cast<uint32_t>(f);
  if (!ok || p > e) {
    pending = false;
    failed = true;
    pos = e;
  }
}

template <bool kSpecialise, typename Visit>
inline void ExceptionList::ForEachAll(Visit visit) {
  if (pos >= end) return;
  if constexpr (kSpecialise) {
    if (rice_k < kSpecialK && width - 1 < kSpecialW) {
      using Fn = void (*)(ExceptionList&, Visit);
      static constexpr auto kLoops = []<size_t... I>(std::index_sequence<I...>) {
        return std::array<Fn, sizeof...(I)>{
            &ExceptionList::ForEachAllImpl<false, I / kSpecialW, I % kSpecialW + 1, Visit>...};
      }(std::make_index_sequence<kSpecialK * kSpecialW>{});
      kLoops[rice_k * kSpecialW + width - 1](*this, visit);
      return;
    }
  }
  // Every load starts at a byte below (end - 1) / 8 + 1.
  if (((end - 1) >> 3) + 8 <= size) {
    ForEachAllImpl<true, kAnyField, kAnyField>(*this, visit);
  } else {
    ForEachAllImpl<false, kAnyField, kAnyField>(*this, visit);
  }
}

template <bool kInBounds, unsigned K, unsigned W, typename Visit>
inline void ExceptionList::ForEachAllImpl(ExceptionList& l, Visit visit) {
  // As ForEach, with fewer live values: the index is compared with m only, and the gap origin is
  // kept minus 2^k so that the Rice code's leading one needs no mask: with v the entry's
  // len = q + 1 + k + w bits, v >> w is 2^k + (gap & (2^k - 1)).
  const char* const d = l.data;
  const size_t sz = l.size;
  const uint64_t e = l.end;
  const unsigned k = K == kAnyField ? l.rice_k : K;
  const unsigned w = W == kAnyField ? l.width : W;
  const unsigned fixed = 1 + k + w;
  const uint64_t hmask = W == kAnyField ? l.hi_mask : (uint64_t{1} << W) - 1;
  const uint64_t limit = l.m;
  const uint64_t one = uint64_t{1} << k;
  uint64_t p = l.pos;
  uint64_t g = uint64_t{l.from} - one;  // index origin of the next gap, minus 2^k
  bool ok = true;
  while (p < e) {
    uint64_t window;
    if constexpr (kInBounds) {
      window = LoadBigEndian64(d + (p >> 3)) << (p & 7);
    } else {
      window = LoadBitsAt(d, sz, p);
    }
    const unsigned q = static_cast<unsigned>(std::countl_zero(window));
    const unsigned len = q + fixed;
    uint64_t i;
    uint64_t h;
    if (len <= 57) [[likely]] {
      const uint64_t v = window >> (64 - len);
      i = g + (uint64_t{q} << k) + (v >> w);
      h = v & hmask;
      p += len;
    } else {
      uint64_t p_long = p;
      Exception x;
      if (!l.ReadLongEntry(&p_long, g + one, &x)) {
        ok = false;
        break;
      }
      p = p_long;
      i = x.idx;
      h = x.hi;
    }
    if (i >= limit) {
      ok = false;
      break;
    }
    g = i + 1 - one;
    if constexpr (kSmallHigh<Visit, W>) {
      visit(std::true_type{}, static_cast<uint32_t>(i), h);  // h < 256
    } else if constexpr (std::is_invocable_v<Visit, std::false_type, uint32_t, uint64_t>) {
      visit(std::false_type{}, static_cast<uint32_t>(i), h);
    } else {
      visit(static_cast<uint32_t>(i), h);
    }
  }
  l.pos = e;
  l.from = static_cast<uint32_t>(g + one);
  if (!ok || p > e) l.failed = true;
}

}  // namespace vigil::compression::detail
