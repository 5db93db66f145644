#include "compression/detail/int_series.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

#include "compression/detail/int_series_reader.h"
#include "compression/detail/xor_codec.h"

namespace vigil::compression::detail {
namespace {

struct WidthChoice {
  unsigned width = 0;
  unsigned exc_width = 0;
  uint32_t exc_count = 0;
  unsigned rice_k = 0;
  uint64_t exc_bits = 0;  // length of the exception list
  uint64_t bits = 0;  // residual part: width, exception header, exceptions and base
};

constexpr unsigned kMaxUnary = 56;  // longest Rice quotient, so that Peek(57) sees its end

// Exact bits of the Rice-coded index gaps of the residuals longer than `w`, with the best k.
// The gaps do not depend on k, so they are collected once and each k costs one pass over the
// exceptions only (a chunk has ~9 of 120 samples), not over every residual. Only k up to the bit
// length of the largest gap can win: from there on every quotient is 0 and each larger k costs
// one more bit per exception (ties go to the smaller k).
uint64_t GapBits(std::span<const uint64_t> u, unsigned w, unsigned* best_k) {
  thread_local std::vector<uint32_t> gap_buffer;
  if (gap_buffer.size() < u.size()) gap_buffer.resize(u.size());
  uint32_t* const gap_out = gap_buffer.data();  // locals: no reloads through the vector
  const uint64_t* const in = u.data();
  const uint32_t size = static_cast<uint32_t>(u.size());
  uint32_t count = 0;
  uint32_t next = 0;  // smallest index the next exception could have
  uint32_t max_gap = 0;
  for (uint32_t j = 0; j < size; ++j) {
    if (BitLength(in[j]) <= w) continue;
    const uint32_t gap = j - next;
    gap_out[count++] = gap;
    max_gap = std::max(max_gap, gap);
    next = j + 1;
  }
  const std::span<const uint32_t> gaps(gap_out, count);
  uint64_t best = UINT64_MAX;
  const unsigned k_end = std::min(16u, BitLength(max_gap) + 1);
  // The cost is convex in k: sum(gap >> k) falls by less at every step (by sum of
  // ceil((gap >> k) / 2)), while count * (1 + k) rises by count. So the first k whose cost exceeds
  // the best so far ends the search, and the smallest k of the minimum is found as before.
  for (unsigned k = 0; k < k_end; ++k) {
    if ((max_gap >> k) > kMaxUnary) continue;  // the writer keeps every quotient <= kMaxUnary
    uint64_t quotients = 0;
    for (uint32_t gap : gaps) quotients += gap >> k;
    const uint64_t bits = quotients + count * (1 + k);
    if (bits < best) {
      best = bits;
      *best_k = k;
    } else if (bits > best) {
      break;
    }
  }
  return best;
}

uint64_t VarBitsLength(uint64_t u) { return 7 + BitLength(u); }

// Cheapest base width for the zigzagged residuals `u`. The index cost is estimated while
// scanning widths and computed exactly for the winner.
WidthChoice ChooseWidth(std::span<const uint64_t> u) {
  // Two histograms of bit lengths, for even and odd positions: most residuals of a column have
  // the same length, and one histogram would make every increment wait for the previous one's
  // store.
  std::array<uint32_t, 65> hist{};
  std::array<uint32_t, 65> hist_odd{};
  uint64_t any = 0;  // the OR of all residuals: its bit length is the longest one's
  const uint64_t* const in = u.data();
  const size_t size = u.size();
  size_t j = 0;
  for (; j + 2 <= size; j += 2) {
    ++hist[BitLength(in[j])];
    ++hist_odd[BitLength(in[j + 1])];
    any |= in[j] | in[j + 1];
  }
  if (j < size) {
    ++hist[BitLength(in[j])];
    any |= in[j];
  }
  const unsigned max_len = BitLength(any);
  for (unsigned len = 0; len <= max_len; ++len) hist[len] += hist_odd[len];
  const uint64_t m = u.size();
  WidthChoice best;
  uint64_t best_estimate = UINT64_MAX;
  uint32_t above = 0;  // residuals longer than w
  for (unsigned w = max_len + 1; w-- > 0;) {
    if (w < 64) above += hist[w + 1];
    uint64_t bits = 7 + 1 + m * w;
    if (above != 0) {
      unsigned k = BitLength(m / above) > 1 ? BitLength(m / above) - 1 : 0;
      bits += 7 + 10 + 7 + 4 + uint64_t{above} * (k + 2 + (max_len - w));
    }
    if (bits < best_estimate) {
      best_estimate = bits;
      best.width = w;
      best.exc_count = above;
      best.exc_width = above != 0 ? max_len - w : 0;
    }
  }
  best.bits = 7 + 1 + m * best.width;
  if (best.exc_count != 0) {
    best.exc_bits =
        uint64_t{best.exc_count} * best.exc_width + GapBits(u, best.width, &best.rice_k);
    best.bits += VarBitsLength(best.exc_bits) + 7 + 4 + best.exc_bits;
  }
  return best;
}

}  // namespace

IntSeriesPlan PlanIntSeries(std::span<const uint64_t> xs, bool quick) {
  IntSeriesPlan plan;
  const size_t n = xs.size();
  plan.first = xs[0];
  plan.bits = VarBitsLength(ZigZag(xs[0]));
  if (n == 1) return plan;
  const size_t m = n - 1;
  // The median delta. Usually one delta is the majority (a steady scrape interval, a constant or
  // a steady counter); then it is the median, found in two linear passes (majority vote, then a
  // count). Otherwise nth_element finds it.
  uint64_t candidate = xs[1] - xs[0];
  uint32_t votes = 0;
  for (size_t j = 1; j < n; ++j) {
    const uint64_t d = xs[j] - xs[j - 1];
    if (votes == 0) candidate = d;
    votes += d == candidate ? 1 : -1;
  }
  size_t occurrences = 0;
  for (size_t j = 1; j < n; ++j) occurrences += xs[j] - xs[j - 1] == candidate;
  uint64_t median = candidate;
  if (occurrences <= m / 2) {
    thread_local std::vector<int64_t> sorted;  // scratch, reused across calls
    sorted.resize(m);
    for (size_t j = 1; j < n; ++j) sorted[j - 1] = static_cast<int64_t>(xs[j] - xs[j - 1]);
    auto mid = sorted.begin() + static_cast<ptrdiff_t>(m / 2);
    std::nth_element(sorted.begin(), mid, sorted.end());
    median = static_cast<uint64_t>(*mid);
  }

  struct Candidate {
    SeriesMode mode;
    uint64_t step;
  };
  const Candidate candidates[] = {
      {SeriesMode::kDelta, median},
      {SeriesMode::kGrid, median},
      {SeriesMode::kGrid, 0},
      {SeriesMode::kDod, xs[1] - xs[0]},
  };
  const size_t num_candidates = quick ? 2 : 4;
  // Residuals of candidate c into out[0, m).
  const auto residuals = [xs, n](const Candidate& c, uint64_t* out) {
    switch (c.mode) {
      case SeriesMode::kDelta:
        for (size_t j = 1; j < n; ++j) out[j - 1] = ZigZag(xs[j] - xs[j - 1] - c.step);
        break;
      case SeriesMode::kGrid: {
        uint64_t g = xs[0];  // x_0 + j*S, wrapping
        for (size_t j = 1; j < n; ++j) {
          g += c.step;
          out[j - 1] = ZigZag(xs[j] - g);
        }
        break;
      }
      case SeriesMode::kDod: {
        uint64_t prev_delta = c.step;
        for (size_t j = 1; j < n; ++j) {
          uint64_t d = xs[j] - xs[j - 1];
          out[j - 1] = ZigZag(d - prev_delta);
          prev_delta = d;
        }
        break;
      }
    }
  };
  thread_local std::vector<uint64_t> u;  // residuals of the candidate being measured
  u.resize(m);
  uint64_t best_bits = UINT64_MAX;
  const Candidate* best = nullptr;
  for (const Candidate& c : std::span<const Candidate>(candidates, num_candidates)) {
    // Delta mode with no residual at all (a regular grid, a steady counter, a constant) cannot be
    // beaten: every other candidate is then exact only with the same step (grid, dod) or a zero
    // one that delta mode has too (a constant), and a later candidate must be strictly smaller.
    if (best != nullptr && best->mode == SeriesMode::kDelta && plan.width == 0 &&
        plan.exc_count == 0) {
      break;
    }
    residuals(c, u.data());
    WidthChoice wc = ChooseWidth(u);
    uint64_t bits = VarBitsLength(ZigZag(xs[0])) + 2 + VarBitsLength(ZigZag(c.step)) + wc.bits;
    if (bits < best_bits) {
      best_bits = bits;
      best = &c;
      plan.mode = c.mode;
      plan.step = c.step;
      plan.width = wc.width;
      plan.exc_width = wc.exc_width;
      plan.exc_count = wc.exc_count;
      plan.rice_k = wc.rice_k;
      plan.exc_bits = wc.exc_bits;
      plan.bits = bits;
    }
  }
  // Recomputed once for the winner rather than copied at every improvement.
  plan.residuals.resize(m);
  residuals(*best, plan.residuals.data());
  return plan;
}

void WriteIntSeries(const IntSeriesPlan& plan, BitWriter& w) {
  WriteVarBits(w, ZigZag(plan.first));
  if (plan.residuals.empty()) return;
  w.Write(static_cast<uint64_t>(plan.mode), 2);
  WriteVarBits(w, ZigZag(plan.step));
  w.Write(plan.width, 7);
  w.Write(plan.exc_count != 0 ? 1 : 0, 1);
  if (plan.exc_count != 0) {
    WriteVarBits(w, plan.exc_bits);
    w.Write(plan.exc_width, 7);
    w.Write(plan.rice_k, 4);
    uint32_t next = 0;
    for (uint32_t j = 0; j < plan.residuals.size(); ++j) {
      if (BitLength(plan.residuals[j]) <= plan.width) continue;
      const uint32_t gap = j - next;
      w.Write(1, (gap >> plan.rice_k) + 1);  // unary quotient: zeros, then a one
      w.Write(gap, plan.rice_k);
      w.Write(plan.residuals[j] >> plan.width, plan.exc_width);
      next = j + 1;
    }
  }
  if (plan.width != 0) {
    for (uint64_t u : plan.residuals) w.Write(u, plan.width);
  }
}

namespace {

// Reads a section header: fields are taken from one 64-bit window (LoadBitsAt) for as long as
// they fit in its valid bits, so a header costs 2-3 loads (timestamp columns with exceptions often
// fit the S group and the whole exception header in one). Reads never leave the data (bits past
// the end are 0); the caller checks the final position once.
class HeaderReader {
 public:
  HeaderReader(const char* data, size_t size, uint64_t pos)
      : data_(data), size_(size), pos_(pos), win_(LoadBitsAt(data, size, pos)),
        avail_(64 - static_cast<unsigned>(pos & 7)) {}

  // Reads n bits, 1 <= n <= 57.
  uint64_t Get(unsigned n) {
    if (off_ + n > avail_) [[unlikely]] Reload();
    const uint64_t v = (win_ << off_) >> (64 - n);
    off_ += n;
    return v;
  }
  // A var-bits value of `len` (0..64) bits followed by `k` (7..11) fixed bits: *u and *fixed.
  void GetVarThen(unsigned len, unsigned k, uint64_t* u, uint64_t* fixed) {
    if (len + k <= 57) [[likely]] {
      const uint64_t v = Get(len + k);
      *u = v >> k;
      *fixed = v & LowMask(k);
      return;
    }
    *u = GetLong(len);
    *fixed = Get(k);
  }
  // 0..64 bits.
  uint64_t GetLong(unsigned n) {
    if (n <= 57) return n == 0 ? 0 : Get(n);
    const uint64_t hi = Get(n - 32);
    return (hi << 32) | Get(32);
  }
  uint64_t position() const { return pos_ + off_; }

 private:
  void Reload() {
    pos_ += off_;
    win_ = LoadBitsAt(data_, size_, pos_);
    off_ = 0;
    avail_ = 64 - static_cast<unsigned>(pos_ & 7);
  }
  const char* data_;
  size_t size_;
  uint64_t pos_;  // bit position of the window
  uint64_t win_;
  unsigned off_ = 0;  // bits of the window consumed
  unsigned avail_;    // valid bits of the window (57..64)
};

}  // namespace

bool IntSeriesReader::Init(const char* data, size_t size, uint64_t start, uint32_t n,
                           uint64_t* end) {
  data_ = data;
  size_ = size;
  next_ = 0;
  width_ = 0;
  // Reset only what ForEach() and ok() read in a section without exceptions (and the gap origin);
  // the rest of exc_ is set below when the section has an exception list.
  exc_.pos = 0;
  exc_.end = 0;
  exc_.from = 0;
  exc_.pending = false;
  exc_.failed = false;
  // Each var-bits value is read together with the fixed fields after it, up to and including
  // the next var-bits length, from a window that is reloaded only when a group does not fit.
  HeaderReader c(data, size, start);
  const unsigned first_len = static_cast<unsigned>(c.Get(7));
  if (first_len > 64) return ok_ = false;
  const uint32_t m = n == 0 ? 0 : n - 1;
  m_ = m;
  uint64_t exc_bits = 0;
  uint64_t u = 0;
  uint64_t f = 0;
  if (m == 0) {
    first_ = UnZigZag(c.GetLong(first_len));
    step_ = 0;
    mode_ = SeriesMode::kDelta;
  } else {
    // first | mode (2 bits) | length of S (7 bits)
    c.GetVarThen(first_len, 9, &u, &f);
    first_ = UnZigZag(u);
    const unsigned mode = static_cast<unsigned>(f >> 7);
    const unsigned step_len = static_cast<unsigned>(f & 127);
    if (step_len > 64 || mode > 2) return ok_ = false;
    mode_ = static_cast<SeriesMode>(mode);
    // S | width (7 bits) | exception flag (1 bit)
    c.GetVarThen(step_len, 8, &u, &f);
    step_ = UnZigZag(u);
    width_ = static_cast<unsigned>(f >> 1);
    if ((f & 1) != 0) {
      // list length | high width (7 bits) | Rice k (4 bits)
      const unsigned len = static_cast<unsigned>(c.Get(7));
      if (len > 64) return ok_ = false;
      c.GetVarThen(len, 11, &exc_bits, &f);
      exc_.width = static_cast<unsigned>(f >> 4);
      exc_.rice_k = static_cast<unsigned>(f & 15);
      if (exc_bits == 0 || exc_.width == 0 || width_ + exc_.width > 64) return ok_ = false;
    }
    if (width_ > 64) return ok_ = false;
  }
  const uint64_t exc_start = c.position();
  const uint64_t limit = uint64_t{size} * 8;
  if (exc_start > limit || exc_bits > limit - exc_start) return ok_ = false;
  base_ = exc_start + exc_bits;
  *end = base_ + uint64_t{m} * width_;
  if (*end > limit) return ok_ = false;
  if (exc_bits != 0) {
    exc_.data = data;
    exc_.size = size;
    exc_.pos = exc_start;
    exc_.end = base_;
    exc_.m = m;
    exc_.gap_mask = (uint64_t{1} << exc_.rice_k) - 1;
    exc_.hi_mask = LowMask(exc_.width);
  }
  return ok_ = true;
}

bool ExceptionList::ReadLongEntry(uint64_t* p, uint64_t from,
                                                   Exception* e) const {
  const unsigned q = static_cast<unsigned>(std::countl_zero(LoadBitsAt(data, size, *p)));
  if (q > 56) return false;  // a quotient longer than the writer produces, or zeros past the end
  BitCursor c(data, size, *p + q + 1);
  const uint64_t i = from + ((uint64_t{q} << rice_k) | c.Read(rice_k));
  e->hi = c.Read(width);
  *p = c.position();
  if (i >= m) return false;
  e->idx = static_cast<uint32_t>(i);
  return true;
}

namespace {

// Width-specialised unpacking: 8 values of W bits take exactly W bytes, so with W a constant every
// load offset and shift in a group of 8 is a constant too, and a value costs a load, a byte swap
// and three shifts (the one by b0, the group's start bit, is the same for the whole run). ~6
// instructions per value instead of ~13 for the generic loop below; the width is dispatched once
// per block. Needs b0 + 7 + W <= 64.
constexpr unsigned kMaxGroupWidth = 50;
using UnpackGroupsFn = void (*)(const char* p, unsigned b0, uint64_t* out, size_t groups);

template <unsigned W>
void UnpackGroups(const char* p, unsigned b0, uint64_t* out, size_t groups) {
  static_assert(W >= 1 && W <= kMaxGroupWidth);
  for (size_t g = 0; g < groups; ++g, p += W, out += 8) {
    [&]<size_t... T>(std::index_sequence<T...>) {
      ((out[T] = ((LoadBigEndian64(p + T * W / 8) << b0) << (T * W % 8)) >> (64 - W)), ...);
    }(std::make_index_sequence<8>{});
  }
}

template <size_t... I>
constexpr std::array<UnpackGroupsFn, sizeof...(I)> MakeUnpackGroups(std::index_sequence<I...>) {
  return {&UnpackGroups<static_cast<unsigned>(I) + 1>...};
}
constexpr auto kUnpackGroups = MakeUnpackGroups(std::make_index_sequence<kMaxGroupWidth>{});

}  // namespace

void IntSeriesReader::Unpack(uint64_t* out, uint32_t r, size_t cnt) const {
  const unsigned w = width_;
  assert(w != 0);
  uint64_t pos = base_ + uint64_t{r} * w;
  size_t j = 0;
  if (w <= kMaxGroupWidth) {
    // Whole groups whose last load (at byte g*w + 7w/8 of the group run) stays inside the data.
    const uint64_t byte0 = pos >> 3;
    const uint64_t need = byte0 + (7 * w) / 8 + 8;  // end of group 0's last load
    const size_t groups =
        need <= size_ ? std::min<uint64_t>(cnt / 8, (size_ - need) / w + 1) : 0;
    kUnpackGroups[w - 1](data_ + byte0, static_cast<unsigned>(pos & 7), out, groups);
    j = groups * 8;
    pos += uint64_t{j} * w;
  }
  if (w <= 57) {
    // One load per value: a value starts at bit pos % 8 <= 7 of its first byte, so the 57 valid
    // bits of an 8-byte load hold all of it. The values whose load stays inside the data go
    // through a loop without a bounds check, the last few through LoadBitsAt.
    const unsigned drop = 64 - w;
    const uint64_t limit = size_ >= 8 ? (uint64_t{size_} - 7) * 8 : 0;
    const size_t fast = pos < limit ? std::min<uint64_t>(cnt, j + (limit - pos + w - 1) / w) : j;
    for (; j < fast; ++j, pos += w) {
      out[j] = (LoadBigEndian64(data_ + (pos >> 3)) << (pos & 7)) >> drop;
    }
    for (; j < cnt; ++j, pos += w) out[j] = LoadBitsAt(data_, size_, pos) >> drop;
    return;
  }
  BitCursor c(data_, size_, pos);
  for (; j < cnt; ++j) out[j] = c.Read(w);
}

}  // namespace vigil::compression::detail
