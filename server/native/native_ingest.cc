#include "server/native/native_ingest.h"

#include <algorithm>
#include <vector>

#include "server/ingest/sample_writer.h"
#include "server/native/protocol.h"
#include "storage/labels.h"

namespace vigil::native {

using server::ingest::IngestCode;
using server::ingest::IngestOutcome;
using server::ingest::Protocol;
using server::ingest::RejectReason;

fb::BatchStatus ToBatchStatus(IngestCode code) {
  switch (code) {
    case IngestCode::kOk:
      return fb::BatchStatus::Ok;
    case IngestCode::kBadInput:
      return fb::BatchStatus::BadInput;
    case IngestCode::kTooLarge:
      return fb::BatchStatus::TooLarge;
    case IngestCode::kOverloaded:
      return fb::BatchStatus::Overloaded;
    case IngestCode::kStorageFault:
      return fb::BatchStatus::StorageFault;
    case IngestCode::kUnavailable:
      return fb::BatchStatus::Unavailable;
  }
  return fb::BatchStatus::StorageFault;
}

IngestOutcome IngestNativeBatch(storage::Db& db, const fb::WriteBatch& batch,
                                const server::ingest::IngestOptions& options) {
  IngestOutcome out;
  server::ingest::detail::SampleWriter w(db, Protocol::kNative, options, &out);
  std::vector<storage::Label> labels;
  std::vector<uint32_t> order;
  const auto* series = batch.series();
  const size_t n_series = series != nullptr ? series->size() : 0;
  for (size_t i = 0; i < n_series; ++i) {
    const fb::SeriesColumns* s = series->Get(i);
    ++out.series_seen;
    const auto* ts = s->timestamps();
    const auto* vs = s->values();
    const size_t n_ts = ts != nullptr ? ts->size() : 0;
    const size_t n_vs = vs != nullptr ? vs->size() : 0;
    labels.clear();
    if (s->labels() != nullptr) {
      for (const fb::Label* l : *s->labels()) {
        if (l->value()->size() == 0) continue;  // an empty value is an absent label
        labels.push_back({l->name()->string_view(), l->value()->string_view()});
      }
    }
    auto describe = [&] {
      return "series " + server::ingest::detail::FormatLabelPairs(labels) + " (#" +
             std::to_string(i) + " in batch " + std::to_string(batch.batch_id()) + ")";
    };
    if (n_ts != n_vs) {
      w.Reject(RejectReason::kMalformed, std::max(n_ts, n_vs), [&] {
        return describe() + ": " + std::to_string(n_ts) + " timestamps but " +
               std::to_string(n_vs) + " values";
      });
      continue;
    }
    if (n_ts == 0) continue;
    std::sort(labels.begin(), labels.end(),
              [](const storage::Label& a, const storage::Label& b) { return a.name < b.name; });
    bool bad = labels.size() > options.max_labels_per_series;
    for (size_t j = 1; j < labels.size() && !bad; ++j) bad = labels[j - 1].name == labels[j].name;
    if (bad) {
      w.Reject(RejectReason::kInvalidLabels, n_ts, [&] {
        return describe() + (labels.size() > options.max_labels_per_series
                                 ? ": more labels than the limit of " +
                                       std::to_string(options.max_labels_per_series)
                                 : ": duplicate label names");
      });
      continue;
    }
    const storage::Labels ls = storage::Labels::FromSorted(labels);
    // Appended in time order (see remote_write.cc: the head drops an older sample queued behind
    // a newer one of the same batch).
    order.resize(n_ts);
    for (size_t j = 0; j < n_ts; ++j) order[j] = static_cast<uint32_t>(j);
    auto time_of = [&](uint32_t j) { return LoadElement(ts, j); };
    bool sorted = true;
    for (size_t j = 1; j < n_ts && sorted; ++j) sorted = time_of(j - 1) <= time_of(j);
    if (!sorted) {
      std::stable_sort(order.begin(), order.end(),
                       [&](uint32_t a, uint32_t b) { return time_of(a) < time_of(b); });
    }
    storage::SeriesRef ref = storage::kNoSeriesRef;
    for (size_t k = 0; k < n_ts; ++k) {
      const uint32_t j = order[k];
      const int64_t t = LoadElement(ts, j);
      const double v = LoadElement(vs, j);
      if (ref != storage::kNoSeriesRef && w.AppendByRef(ref, t, v)) continue;
      bool labels_invalid = false;
      ref = w.Append(ls, t, v, &labels_invalid);
      if (labels_invalid) {
        w.CountRejected(RejectReason::kInvalidLabels, n_ts - k - 1);
        break;
      }
    }
  }
  w.Finish();
  return out;
}

}  // namespace vigil::native
