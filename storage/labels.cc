#include "storage/labels.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>

#include "storage/labels/encoding.h"
#include "storage/labels/quote.h"
#include "storage/base/utf8.h"

namespace vigil::storage {

namespace {

inline bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ByName(const Label& a, const Label& b) { return a.name < b.name; }

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return IsNameStart(c) || IsDigit(c); });
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

void Labels::const_iterator::Load(const char* pos) {
  pos_ = pos;
  if (pos == end_) return;
  uint32_t len;
  const char* p = detail::GetUvarint32Unchecked(pos, &len);
  cur_.name = std::string_view(p, len);
  p = detail::GetUvarint32Unchecked(p + len, &len);
  cur_.value = std::string_view(p, len);
  next_ = p + len;
}

Labels Labels::FromPairs(std::initializer_list<Label> pairs) {
  return FromPairs(std::span<const Label>(pairs.begin(), pairs.size()));
}

Labels Labels::FromPairs(std::span<const Label> pairs) {
  std::vector<Label> sorted;
  sorted.reserve(pairs.size());
  for (const Label& l : pairs) {
    if (!l.value.empty()) sorted.push_back(l);
  }
  std::stable_sort(sorted.begin(), sorted.end(), ByName);
  auto dup = std::unique(sorted.begin(), sorted.end(),
                         [](const Label& a, const Label& b) { return a.name == b.name; });
  assert(dup == sorted.end() && "Labels::FromPairs: duplicate label name");
  sorted.erase(dup, sorted.end());
  return FromSorted(sorted);
}

Labels Labels::FromSorted(std::span<const Label> sorted) {
  size_t total = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    assert(!sorted[i].value.empty());
    assert(i == 0 || sorted[i - 1].name < sorted[i].name);
    total += detail::EncodedLabelSize(sorted[i].name, sorted[i].value);
  }
  std::string data;
  data.reserve(total);
  for (const Label& l : sorted) detail::AppendLabel(l.name, l.value, &data);
  return Labels(std::move(data));
}

Result<Labels> Labels::FromEncoded(std::string_view encoded) {
  const char* p = encoded.data();
  const char* end = p + encoded.size();
  std::string_view prev;
  for (size_t i = 0; p < end; ++i) {
    uint32_t nlen, vlen;
    p = detail::GetUvarint32(p, end, &nlen);
    if (p == nullptr || static_cast<size_t>(end - p) < nlen) {
      return Status::Corruption("encoded labels: truncated name of label " + std::to_string(i));
    }
    std::string_view name(p, nlen);
    p = detail::GetUvarint32(p + nlen, end, &vlen);
    if (p == nullptr || static_cast<size_t>(end - p) < vlen) {
      return Status::Corruption("encoded labels: truncated value of label " + std::to_string(i));
    }
    if (vlen == 0) return Status::Corruption("encoded labels: empty value of label " + std::to_string(i));
    if (i > 0 && !(prev < name)) {
      return Status::Corruption("encoded labels: label " + std::to_string(i) + " is out of order or duplicate");
    }
    prev = name;
    p += vlen;
  }
  return Labels(std::string(encoded));
}

size_t Labels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string_view Labels::Get(std::string_view name) const {
  const char* p = data_.data();
  const char* end = p + data_.size();
  while (p < end) {
    uint32_t nlen, vlen;
    p = detail::GetUvarint32Unchecked(p, &nlen);
    const char* n = p;
    p = detail::GetUvarint32Unchecked(p + nlen, &vlen);
    if (nlen == name.size() && std::string_view(n, nlen) == name) return {p, vlen};
    p += vlen;
  }
  return {};
}

Status Labels::Validate() const {
  if (empty()) return Status::InvalidArgument("series has no labels");
  if (size() > kMaxLabels) {
    const std::string name(MetricName());
    return Status::InvalidArgument("series " + (name.empty() ? std::string("without a metric name") : name) +
                                   " has " + std::to_string(size()) + " labels, more than " +
                                   std::to_string(kMaxLabels));
  }
  size_t i = 0;
  std::string_view prev;
  for (const Label& l : *this) {
    auto where = [&] { return " (label " + std::to_string(i) + " of series " + ToString() + ")"; };
    if (!IsValidLabelName(l.name)) {
      std::string msg = l.name.empty() ? std::string("empty label name") : "invalid label name ";
      if (!l.name.empty()) detail::AppendQuoted(l.name, &msg);
      return Status::InvalidArgument(msg + where() + ": names must match [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if (i > 0 && !(prev < l.name)) {
      return Status::InvalidArgument("duplicate or unsorted label name \"" + std::string(l.name) + "\"" + where());
    }
    if (l.value.empty()) {
      return Status::InvalidArgument("empty value for label \"" + std::string(l.name) + "\"" + where());
    }
    if (size_t bad = FindInvalidUtf8(l.value); bad != std::string_view::npos) {
      return Status::InvalidArgument("value of label \"" + std::string(l.name) +
                                     "\" is not valid UTF-8 at byte " + std::to_string(bad) + where());
    }
    if (l.name == kMetricNameLabel && !IsValidMetricName(l.value)) {
      std::string msg = "invalid metric name ";
      detail::AppendQuoted(l.value, &msg);
      return Status::InvalidArgument(msg + where() + ": metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    }
    prev = l.name;
    ++i;
  }
  return Status::OK();
}

uint64_t Labels::Hash() const { return XXH3_64bits(data_.data(), data_.size()); }

uint64_t HashSortedLabels(std::span<const Label> sorted) {
  size_t total = 0;
  for (const Label& l : sorted) total += detail::EncodedLabelSize(l.name, l.value);
  char stack_buf[1024];
  std::string heap_buf;
  char* buf = stack_buf;
  if (total > sizeof(stack_buf)) {
    heap_buf.resize(total);
    buf = heap_buf.data();
  }
  char* p = buf;
  for (const Label& l : sorted) {
    p = detail::PutUvarint32(p, static_cast<uint32_t>(l.name.size()));
    std::copy(l.name.begin(), l.name.end(), p);
    p = detail::PutUvarint32(p + l.name.size(), static_cast<uint32_t>(l.value.size()));
    std::copy(l.value.begin(), l.value.end(), p);
    p += l.value.size();
  }
  return XXH3_64bits(buf, total);
}

std::string Labels::ToString() const {
  std::string out;
  out.reserve(data_.size() + 16);
  const std::string_view metric = MetricName();
  const bool bare_metric = !metric.empty() && IsValidMetricName(metric);
  if (bare_metric) out.append(metric);
  bool first = true;
  for (const Label& l : *this) {
    if (bare_metric && l.name == kMetricNameLabel) continue;
    out.push_back(first ? '{' : ',');
    first = false;
    if (IsValidLabelName(l.name)) {
      out.append(l.name);
    } else {
      detail::AppendQuoted(l.name, &out);
    }
    out.push_back('=');
    detail::AppendQuoted(l.value, &out);
  }
  if (!first) {
    out.push_back('}');
  } else if (!bare_metric) {
    out.append("{}");
  }
  return out;
}

namespace {

// Index of the first byte where a[0, n) and b[0, n) differ, or n: eight bytes per step. Label
// sets that are sorted or merged share long prefixes (`__name__`, the metric name, the job...).
size_t FirstDifference(const char* a, const char* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) {
      const uint64_t d = x ^ y;
      if constexpr (std::endian::native == std::endian::little) return i + static_cast<size_t>(std::countr_zero(d)) / 8;
      return i + static_cast<size_t>(std::countl_zero(d)) / 8;
    }
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

std::strong_ordering operator<=>(const Labels& a, const Labels& b) {
  // Sets compared in a sort mostly share their first labels. The encodings agree byte for byte up
  // to the first difference, so every label that ends before it is the same in both and lies at
  // the same offset: skip those without comparing their strings, then compare label by label.
  const std::string_view ea = a.Encoded(), eb = b.Encoded();
  const size_t common = std::min(ea.size(), eb.size());
  const size_t diff = FirstDifference(ea.data(), eb.data(), common);
  if (diff == ea.size() && diff == eb.size()) return std::strong_ordering::equal;
  const char* const base = ea.data();
  size_t offset = 0;
  while (offset < ea.size()) {
    uint32_t len;
    const char* p = detail::GetUvarint32Unchecked(base + offset, &len);
    p = detail::GetUvarint32Unchecked(p + len, &len);
    const size_t next = static_cast<size_t>(p + len - base);
    if (next > diff) break;
    offset = next;
  }
  Labels::const_iterator ia(ea.data() + offset, ea.data() + ea.size());
  Labels::const_iterator ib(eb.data() + offset, eb.data() + eb.size());
  const auto end_a = a.end(), end_b = b.end();
  for (; ia != end_a && ib != end_b; ++ia, ++ib) {
    if (auto c = ia->name <=> ib->name; c != 0) return c;
    if (auto c = ia->value <=> ib->value; c != 0) return c;
  }
  if (ia == end_a) return ib == end_b ? std::strong_ordering::equal : std::strong_ordering::less;
  return std::strong_ordering::greater;
}

// LabelsBuilder.

void LabelsBuilder::Reset(const Labels& base) {
  arena_.clear();
  entries_.clear();
  for (const Label& l : base) Add(l.name, l.value);
}

int64_t LabelsBuilder::AliasOffset(std::string_view s) const {
  // Pointer order between unrelated objects is unspecified; integer order is not.
  const auto addr = reinterpret_cast<uintptr_t>(s.data());
  const auto base = reinterpret_cast<uintptr_t>(arena_.data());
  if (!s.empty() && addr >= base && addr + s.size() <= base + arena_.size()) {
    return static_cast<int64_t>(addr - base);
  }
  return -1;
}

uint32_t LabelsBuilder::Store(std::string_view s, int64_t alias) {
  // A view into our own arena (e.g. from Get()) is reused as is: appending could reallocate it.
  if (alias >= 0) return static_cast<uint32_t>(alias);
  const auto off = static_cast<uint32_t>(arena_.size());
  arena_.append(s);
  return off;
}

int LabelsBuilder::Find(std::string_view name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (View(entries_[i].name_off, entries_[i].name_len) == name) return static_cast<int>(i);
  }
  return -1;
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  const int i = Find(name);
  if (i < 0) return Add(name, value);
  const uint32_t off = Store(value, AliasOffset(value));
  entries_[i].value_off = off;
  entries_[i].value_len = static_cast<uint32_t>(value.size());
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  for (size_t i = 0; i < entries_.size();) {
    if (View(entries_[i].name_off, entries_[i].name_len) == name) {
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Add(std::string_view name, std::string_view value) {
  if (value.empty()) return *this;
  // Both aliases are resolved before the first append can move the arena.
  const int64_t name_alias = AliasOffset(name);
  const int64_t value_alias = AliasOffset(value);
  const uint32_t name_off = Store(name, name_alias);
  const uint32_t value_off = Store(value, value_alias);
  entries_.push_back({name_off, static_cast<uint32_t>(name.size()), value_off,
                      static_cast<uint32_t>(value.size())});
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  const int i = Find(name);
  return i < 0 ? std::string_view() : View(entries_[i].value_off, entries_[i].value_len);
}

Result<Labels> LabelsBuilder::Build() {
  scratch_.clear();
  for (const Entry& e : entries_) {
    scratch_.push_back({View(e.name_off, e.name_len), View(e.value_off, e.value_len)});
  }
  std::sort(scratch_.begin(), scratch_.end(), ByName);
  for (size_t i = 1; i < scratch_.size(); ++i) {
    if (scratch_[i - 1].name == scratch_[i].name) {
      std::string msg = "duplicate label name ";
      detail::AppendQuoted(scratch_[i].name, &msg);
      msg += " (values ";
      detail::AppendQuoted(scratch_[i - 1].value, &msg);
      msg += " and ";
      detail::AppendQuoted(scratch_[i].value, &msg);
      return Status::InvalidArgument(msg + ")");
    }
  }
  return Labels::FromSorted(scratch_);
}

}  // namespace vigil::storage
