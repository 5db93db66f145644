#pragma once

// Block metadata, stored as `meta.json` in each block directory (storage/docs/format/meta.md).
//
// JSON rather than FlatBuffers: the file is tiny (a few hundred bytes, read once per block at
// open), an operator can read and diff it with cat and jq during an incident, and hand-written
// code for this one fixed shape is smaller than a schema, a generated header and a verifier.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace vigil::storage {

struct BlockStats {
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t chunks = 0;
  friend bool operator==(const BlockStats&, const BlockStats&) = default;
};

struct BlockMeta {
  int version = 1;
  std::string id;        // see block_id.h
  int64_t min_time = 0;  // inclusive, milliseconds
  int64_t max_time = 0;  // exclusive: the block covers [min_time, max_time)
  BlockStats stats;
  int compaction_level = 1;                 // 1 for a block cut from the head
  std::vector<std::string> compaction_sources;  // ids of the blocks merged into this one

  friend bool operator==(const BlockMeta&, const BlockMeta&) = default;
};

// The meta.json text: fixed key order, two-space indent, a final newline.
std::string EncodeBlockMeta(const BlockMeta& meta);

// Parses meta.json. Unknown keys are ignored (forward compatibility within a version); missing
// required keys, wrong types, a version other than 1, an invalid id or min_time > max_time are
// Corruption naming the byte offset. Never reads outside `json`; nesting is limited.
Result<BlockMeta> ParseBlockMeta(std::string_view json);

}  // namespace vigil::storage
