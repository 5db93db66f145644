#pragma once

// String interning for the head: series keep their labels as pairs of 32-bit symbol ids
// (InternedLabels, 8 bytes per label pair) instead of copies of the strings.
//
// Memory per distinct symbol: the string bytes plus a 1-byte length prefix (2 bytes from 128
// bytes on) in an arena block, 4 bytes in the id directory (the block number and offset) and 4
// bytes per hash slot (local index and a 4-bit hash tag) at a load factor of 0.375..0.75, i.e.
// about 10-15 bytes of overhead. Symbols are never removed; the head drops a whole table when it
// rotates.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "storage/labels.h"

namespace vigil::storage {

// Maps strings to uint32 ids and back.
// Thread safety: all methods may be called concurrently. Intern() and Find() take a per-shard
// lock (shared for hits); Lookup() takes none.
class SymbolTable {
 public:
  SymbolTable();
  ~SymbolTable();
  SymbolTable(const SymbolTable&) = delete;
  SymbolTable& operator=(const SymbolTable&) = delete;

  // The id of s, adding it on first sight. The same string always gets the same id in one table.
  // Ids are not dense (the low bits select a shard) and differ between tables.
  uint32_t Intern(std::string_view s);

  // The id of s if it was interned, without adding it (for look-ups driven by queries).
  std::optional<uint32_t> Find(std::string_view s) const;

  // The string of id. The view stays valid, and its bytes unchanged, as long as the table lives.
  // REQUIRES: id was returned by Intern()/Find() of this table, and the caller's obtaining it
  // happens-after that call (any ordinary hand-off between threads does).
  std::string_view Lookup(uint32_t id) const;

  // Number of distinct symbols.
  size_t size() const;
  // Heap bytes held (arena blocks, id directory, hash slots).
  size_t MemoryUsage() const;

 private:
  struct Shard;
  std::unique_ptr<Shard[]> shards_;
};

// Names and values of one label as symbol ids.
struct SymbolPair {
  uint32_t name;
  uint32_t value;

  friend bool operator==(const SymbolPair&, const SymbolPair&) = default;
};

// A label set as symbol ids of one SymbolTable, in the label order of Labels (sorted by name
// string, not by id), viewed: the pairs of an InternedLabels, or those a head series keeps inline
// (storage/head/series.h). The table is not stored: every method that needs strings takes it, and
// it must be the one used to intern. Valid as long as the pairs it views.
class LabelPairs {
 public:
  LabelPairs() = default;
  explicit LabelPairs(std::span<const SymbolPair> pairs) : pairs_(pairs) {}

  size_t size() const { return pairs_.size(); }
  bool empty() const { return pairs_.empty(); }
  std::span<const SymbolPair> pairs() const { return pairs_; }

  Labels ToLabels(const SymbolTable& table) const;
  // The value of name, "" when absent. View valid as long as the table.
  std::string_view Get(std::string_view name, const SymbolTable& table) const;
  // Label-wise equality with ls, without building a Labels (for hash-collision checks).
  bool Equals(const Labels& ls, const SymbolTable& table) const;
  // Equals ToLabels(table).Hash().
  uint64_t Hash(const SymbolTable& table) const;

  // Id equality; meaningful only between sets interned into the same table, where it is exactly
  // label equality.
  friend bool operator==(LabelPairs a, LabelPairs b);

 private:
  std::span<const SymbolPair> pairs_;
};

// A label set as symbol ids of one SymbolTable, in the label order of Labels (sorted by name
// string, not by id). sizeof == 8: one pointer to a heap block [uint32 count][count SymbolPairs],
// so a series with n labels costs 4 + 8n bytes plus the allocator's header. The table is not
// stored: every method that needs strings takes it, and it must be the one used to intern.
// Thread safety: immutable after construction except for assignment.
class InternedLabels {
 public:
  InternedLabels() = default;
  InternedLabels(const InternedLabels& other);
  InternedLabels& operator=(const InternedLabels& other);
  InternedLabels(InternedLabels&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  InternedLabels& operator=(InternedLabels&& other) noexcept;
  ~InternedLabels() { delete[] data_; }

  // Interns every name and value of ls into *table.
  static InternedLabels Intern(const Labels& ls, SymbolTable* table);
  // REQUIRES: pairs are ids of one table whose strings are sorted by name, unique, non-empty.
  static InternedLabels FromPairs(std::span<const SymbolPair> pairs);

  size_t size() const { return data_ == nullptr ? 0 : data_[0]; }
  bool empty() const { return size() == 0; }
  std::span<const SymbolPair> pairs() const;

  LabelPairs view() const { return LabelPairs(pairs()); }

  Labels ToLabels(const SymbolTable& table) const { return view().ToLabels(table); }
  // The value of name, "" when absent. View valid as long as the table.
  std::string_view Get(std::string_view name, const SymbolTable& table) const {
    return view().Get(name, table);
  }
  // Label-wise equality with ls, without building a Labels (for hash-collision checks).
  bool Equals(const Labels& ls, const SymbolTable& table) const { return view().Equals(ls, table); }
  // Equals ToLabels(table).Hash().
  uint64_t Hash(const SymbolTable& table) const { return view().Hash(table); }

  // Heap bytes of this set (4 + 8n, not counting the allocator's header; 0 when empty).
  size_t MemoryUsage() const { return data_ == nullptr ? 0 : sizeof(uint32_t) * (1 + 2 * size()); }

  // Id equality; meaningful only between sets interned into the same table, where it is exactly
  // label equality.
  friend bool operator==(const InternedLabels& a, const InternedLabels& b) {
    return a.view() == b.view();
  }

 private:
  explicit InternedLabels(size_t n);

  uint32_t* data_ = nullptr;  // nullptr for the empty set
};

}  // namespace vigil::storage
