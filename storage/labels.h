#pragma once

// Label sets: the identity of a series (DESIGN.md §1).
//
// A label set is sorted by name, has unique names and non-empty values; the metric name is the
// label `__name__`. A missing label and a label with an empty value are the same thing, so builders
// and the parser drop empty values instead of storing them.
//
// Encoding (also the input of Hash(), so it is stable and may be persisted): for each label in
// name order, uvarint(len(name)) name uvarint(len(value)) value, where uvarint is unsigned LEB128
// (7 bits per byte, low group first, high bit = more). See storage/labels/hash_format.md.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::storage {

inline constexpr std::string_view kMetricNameLabel = "__name__";

// A view of one label. Lifetime: the views point into whatever produced the Label (a Labels, a
// LabelsBuilder, a SymbolTable or caller memory) and are valid only as long as it is.
struct Label {
  std::string_view name;
  std::string_view value;

  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// `[a-zA-Z_][a-zA-Z0-9_]*`. Names starting with `__` are reserved for Vigil but accepted.
bool IsValidLabelName(std::string_view name);
// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
bool IsValidMetricName(std::string_view name);

// An owning, immutable label set. All names and values live in one std::string, so copying costs
// one allocation (none for tiny sets that fit the small-string buffer); sizeof(Labels) == 32.
// Thread safety: immutable, safe to share between threads.
class Labels {
 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Label;
    using difference_type = std::ptrdiff_t;
    using pointer = const Label*;
    using reference = const Label&;

    const_iterator() = default;
    const Label& operator*() const { return cur_; }
    const Label* operator->() const { return &cur_; }
    const_iterator& operator++() { Load(next_); return *this; }
    const_iterator operator++(int) { auto tmp = *this; ++*this; return tmp; }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.pos_ == b.pos_; }

   private:
    friend class Labels;
    friend std::strong_ordering operator<=>(const Labels& a, const Labels& b);
    const_iterator(const char* pos, const char* end) : end_(end) { Load(pos); }
    void Load(const char* pos);

    const char* pos_ = nullptr;
    const char* next_ = nullptr;
    const char* end_ = nullptr;
    Label cur_;
  };

  // The empty label set.
  Labels() = default;

  // Convenience for tests and constants: sorts the pairs and drops empty values.
  // REQUIRES: unique names (asserted in debug builds; in release the first of a duplicate wins).
  static Labels FromPairs(std::initializer_list<Label> pairs);
  static Labels FromPairs(std::span<const Label> pairs);

  // REQUIRES: sorted by name, unique names, non-empty values (asserted in debug builds).
  static Labels FromSorted(std::span<const Label> sorted);

  // Reads the encoding described at the top of this file (as returned by Encoded()). Checks the
  // framing, order, uniqueness and non-empty values; returns Corruption otherwise. Does not
  // Validate() names or UTF-8.
  static Result<Labels> FromEncoded(std::string_view encoded);

  const_iterator begin() const { return {data_.data(), data_.data() + data_.size()}; }
  const_iterator end() const { return {data_.data() + data_.size(), data_.data() + data_.size()}; }

  bool empty() const { return data_.empty(); }
  size_t size() const;  // O(number of labels)

  // The value of `name`, or "" when absent (Prometheus semantics). View valid while *this lives.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  // Checks the data model: at least one label, names match IsValidLabelName, `__name__` matches
  // IsValidMetricName, values are valid UTF-8 (no overlongs, surrogates or stray bytes). The
  // InvalidArgument message names the series and the offending label and its position.
  Status Validate() const;
  // The most labels a series may have (Validate() refuses more; the head keeps a 16-bit count).
  static constexpr size_t kMaxLabels = 65535;

  // XXH3-64 of Encoded() (seed 0). Equal sets hash equally in every process and version; distinct
  // sets may collide, so callers compare with operator== after a hash match.
  uint64_t Hash() const;

  // PromQL notation: `name{a="b",c="d"}`, or `{a="b"}` without a metric name, `name` alone when it
  // is the only label, `{}` when empty. Values use PromQL string escaping (storage/labels/quote.h).
  // A name that is not a valid identifier is written quoted, as in Prometheus 3
  // (`{"my.name"="x"}`).
  std::string ToString() const;

  // The encoded bytes (see the top of this file). View valid while *this lives.
  std::string_view Encoded() const { return data_; }
  // Heap bytes owned, for memory accounting.
  size_t MemoryUsage() const { return data_.capacity() > 15 ? data_.capacity() + 1 : 0; }

  // Byte equality of the canonical encoding is label-wise equality.
  friend bool operator==(const Labels& a, const Labels& b) { return a.data_ == b.data_; }
  // Lexicographic over (name, value) pairs, then by length, as Prometheus' labels.Compare.
  friend std::strong_ordering operator<=>(const Labels& a, const Labels& b);

 private:
  explicit Labels(std::string data) : data_(std::move(data)) {}
  friend class LabelsBuilder;

  std::string data_;
};

// Hash of a sorted, unique label sequence without materialising a Labels; equals
// Labels::FromSorted(sorted).Hash(). REQUIRES: as for Labels::FromSorted.
uint64_t HashSortedLabels(std::span<const Label> sorted);

// Builds label sets. Copies names and values into its own buffer, so the arguments need not
// outlive the call (they may even be views returned by Get()). Reusing one builder with Reset()
// keeps its buffers: building is then one allocation, for the result.
// Thread safety: none; one builder per thread.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { Reset(base); }

  // Clears, then starts from `base`.
  void Reset(const Labels& base = Labels());

  // Sets name=value, replacing an existing value; an empty value deletes the label.
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  // Appends without looking for an existing name (fast for bulk input); Build() reports
  // duplicates. An empty value is ignored.
  LabelsBuilder& Add(std::string_view name, std::string_view value);

  // Current value of name, "" when absent. View valid until the next mutation.
  std::string_view Get(std::string_view name) const;

  // Sorts and returns the set; InvalidArgument naming the label when Add() produced a duplicate
  // name. Does not Validate(): callers holding external input call Validate() on the result.
  // The builder keeps its contents.
  Result<Labels> Build();

 private:
  struct Entry {
    uint32_t name_off, name_len, value_off, value_len;
  };
  int64_t AliasOffset(std::string_view s) const;  // offset of s in arena_, or -1
  uint32_t Store(std::string_view s, int64_t alias);
  std::string_view View(uint32_t off, uint32_t len) const { return {arena_.data() + off, len}; }
  int Find(std::string_view name) const;

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<Label> scratch_;
};

// Parses a series in PromQL notation, as written by Labels::ToString():
//   series  := [metric] ['{' [item {',' item} [',']] '}']
//   item    := (ident | string) '=' string  |  string         (a lone string is the metric name)
//   string  := "..." | '...' | `raw`    with Go/PromQL escapes \a \b \f \n \r \t \v \\ \" \'
//                                        \xHH \ooo \uHHHH \UHHHHHHHH
// Whitespace is allowed between tokens. Empty values are dropped (`a=""` means "no label a").
// The result satisfies the data model except that `{}` yields the empty set. Errors are
// InvalidArgument and state the 0-based byte position and what was expected.
Result<Labels> ParseLabels(std::string_view text);

}  // namespace vigil::storage
