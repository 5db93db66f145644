#pragma once

// One Querier over several sources (the head and the blocks overlapping a range): series are merged
// by labels, and the samples of a series present in several sources by a k-way merge of their
// iterators into one sorted stream in which every timestamp appears once. When sources disagree at
// one timestamp the earlier source in `sources` wins (the Db passes the head first, then blocks
// newest first). Sources whose time bounds are known and do not overlap are read one after the
// other instead (SampleIterator::TimeBounds). storage/README.md, "Lifecycle".

#include <memory>
#include <vector>

#include "storage/querier.h"

namespace vigil::storage {

// `keep_alive` is held until the querier and every series set and iterator it returned are gone
// (the Db passes the references of the blocks and the head pin there). A single source is returned
// as is, wrapped only to hold `keep_alive`.
std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> sources,
                                         std::shared_ptr<const void> keep_alive);

// The k-way merge of sample iterators alone (exposed for tests and compaction). An empty vector
// yields an empty iterator.
std::unique_ptr<SampleIterator> NewMergeSampleIterator(
    std::vector<std::unique_ptr<SampleIterator>> sources);

}  // namespace vigil::storage
