#pragma once

// Postings lists: sorted, unique block series ids. The encoding (storage/docs/format/index.md):
// uvarint count, then the first id and the gaps to each next id (each >= 1) as uvarints.
// Set operations work on decoded vectors. Internal to storage/block.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/block/types.h"

namespace vigil::storage::block {

using storage::PostingsList;

// Appends the encoding of `ids` (REQUIRES: sorted, unique) to *out.
void EncodePostings(std::span<const BlockSeriesId> ids, std::string* out);

// Decodes one encoded list that must span exactly `data`, appending to *out. False (with *out
// unspecified) on truncation, trailing bytes, gaps of 0, or ids >= `num_series`.
bool DecodePostings(std::string_view data, uint32_t num_series, PostingsList* out);

// Intersection of every list (REQUIRES: at least one). Gallops through long lists when the
// shortest is much shorter, so the cost follows the shortest list.
PostingsList IntersectPostings(std::vector<PostingsList> lists);

// Union of every list. `universe` bounds the ids (all < universe); dense unions go through a
// bitmap of that size, sparse ones through sort + unique.
PostingsList UnionPostings(std::vector<PostingsList> lists, uint32_t universe);

// Ids of `a` not in `b`.
PostingsList SubtractPostings(const PostingsList& a, const PostingsList& b);

}  // namespace vigil::storage::block
