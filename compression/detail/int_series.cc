#include "compression/detail/int_series.h"

#include <algorithm>
#include <array>

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
uint64_t GapBits(const std::vector<uint64_t>& u, unsigned w, unsigned* best_k) {
  uint64_t best = UINT64_MAX;
  for (unsigned k = 0; k < 16; ++k) {
    uint64_t bits = 0;
    uint32_t next = 0;  // smallest index the next exception could have
    bool fits = true;
    for (uint32_t j = 0; j < u.size(); ++j) {
      if (BitLength(u[j]) <= w) continue;
      uint32_t q = (j - next) >> k;
      if (q > kMaxUnary) fits = false;
      bits += q + 1 + k;
      next = j + 1;
    }
    if (fits && bits < best) {
      best = bits;
      *best_k = k;
    }
  }
  return best;
}

uint64_t VarBitsLength(uint64_t u) { return 7 + BitLength(u); }

// Cheapest base width for the zigzagged residuals `u`. The index cost is estimated while
// scanning widths and computed exactly for the winner.
WidthChoice ChooseWidth(const std::vector<uint64_t>& u) {
  std::array<uint32_t, 65> hist{};
  for (uint64_t v : u) ++hist[BitLength(v)];
  unsigned max_len = 64;
  while (max_len > 0 && hist[max_len] == 0) --max_len;
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

IntSeriesPlan PlanIntSeries(std::span<const uint64_t> xs) {
  IntSeriesPlan plan;
  const size_t n = xs.size();
  plan.first = xs[0];
  plan.bits = VarBitsLength(ZigZag(xs[0]));
  if (n == 1) return plan;
  const size_t m = n - 1;
  std::vector<int64_t> sorted(m);
  for (size_t j = 1; j < n; ++j) sorted[j - 1] = static_cast<int64_t>(xs[j] - xs[j - 1]);
  auto mid = sorted.begin() + static_cast<ptrdiff_t>(m / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  const uint64_t median = static_cast<uint64_t>(*mid);

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
  std::vector<uint64_t> u(m);
  uint64_t best_bits = UINT64_MAX;
  for (const Candidate& c : candidates) {
    switch (c.mode) {
      case SeriesMode::kDelta:
        for (size_t j = 1; j < n; ++j) u[j - 1] = ZigZag(xs[j] - xs[j - 1] - c.step);
        break;
      case SeriesMode::kGrid:
        for (size_t j = 1; j < n; ++j) u[j - 1] = ZigZag(xs[j] - xs[0] - uint64_t{j} * c.step);
        break;
      case SeriesMode::kDod: {
        uint64_t prev_delta = c.step;
        for (size_t j = 1; j < n; ++j) {
          uint64_t d = xs[j] - xs[j - 1];
          u[j - 1] = ZigZag(d - prev_delta);
          prev_delta = d;
        }
        break;
      }
    }
    WidthChoice wc = ChooseWidth(u);
    uint64_t bits = VarBitsLength(ZigZag(xs[0])) + 2 + VarBitsLength(ZigZag(c.step)) + wc.bits;
    if (bits < best_bits) {
      best_bits = bits;
      plan.mode = c.mode;
      plan.step = c.step;
      plan.width = wc.width;
      plan.exc_width = wc.exc_width;
      plan.exc_count = wc.exc_count;
      plan.rice_k = wc.rice_k;
      plan.exc_bits = wc.exc_bits;
      plan.bits = bits;
      plan.residuals = u;
    }
  }
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
  for (uint64_t u : plan.residuals) w.Write(u, plan.width);
}

bool IntSeriesReader::ReadException(BitReader& r, uint32_t* idx, uint64_t* hi) {
  const uint64_t peek = r.Peek(57);
  if (peek == 0) {  // a quotient longer than the writer produces, or the end of the chunk
    r.Fail();
    return false;
  }
  const unsigned q = 57 - BitLength(peek);
  r.Skip(q + 1);
  const uint64_t gap = (uint64_t{q} << rice_k_) | r.Read(rice_k_);
  *hi = r.Read64(exc_width_);
  const uint64_t i = uint64_t{*idx} + gap;
  if (i >= m_ || !r.ok()) {
    r.Fail();
    return false;
  }
  *idx = static_cast<uint32_t>(i);
  return true;
}

bool IntSeriesReader::Init(const char* data, size_t size, uint64_t start, uint32_t n,
                           uint64_t* end) {
  BitReader r(data, size, start);
  first_ = UnZigZag(ReadVarBits(r));
  m_ = n == 0 ? 0 : n - 1;
  next_ = 0;
  exc_left_ = 0;
  width_ = 0;
  uint64_t exc_bits = 0;
  if (m_ != 0) {
    mode_ = static_cast<SeriesMode>(r.Read(2));
    step_ = UnZigZag(ReadVarBits(r));
    width_ = static_cast<unsigned>(r.Read(7));
    if (r.ReadBit()) {
      exc_bits = ReadVarBits(r);
      exc_width_ = static_cast<unsigned>(r.Read(7));
      rice_k_ = static_cast<unsigned>(r.Read(4));
      if (exc_bits == 0 || exc_width_ == 0 || width_ + exc_width_ > 64) return ok_ = false;
    }
    if (static_cast<uint8_t>(mode_) > 2 || width_ > 64) return ok_ = false;
  }
  if (!r.ok()) return ok_ = false;
  const uint64_t exc_start = r.position();
  const uint64_t limit = uint64_t{size} * 8;
  if (exc_bits > limit - exc_start) return ok_ = false;
  exc_end_ = exc_start + exc_bits;
  *end = exc_end_ + uint64_t{m_} * width_;
  if (*end > limit) return ok_ = false;
  base_ = BitReader(data, size, exc_end_);
  exc_idx_ = 0;
  if (exc_bits != 0) {
    exc_ = BitReader(data, size, exc_start);
    exc_left_ = 1;
    if (!ReadException(exc_, &exc_idx_, &exc_hi_)) return ok_ = false;
  }
  return ok_ = true;
}

void IntSeriesReader::NextException() {
  // The list ends exactly at exc_end_; a corrupt list may overshoot it, which only ends it early.
  if (exc_.position() >= exc_end_) {
    exc_left_ = 0;
    return;
  }
  ++exc_idx_;
  if (!ReadException(exc_, &exc_idx_, &exc_hi_)) exc_left_ = 0;
}

}  // namespace vigil::compression::detail
