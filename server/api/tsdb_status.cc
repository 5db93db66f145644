// /api/v1/status/tsdb: cardinality statistics in Prometheus' shape.

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <unordered_map>

#include "server/api/api.h"
#include "server/api/envelope.h"
#include "server/api/params.h"

namespace vigil::server {
namespace {

struct NameCount {
  std::string name;
  uint64_t value = 0;
};

// The `limit` largest entries, largest first, ties by name.
std::vector<NameCount> Top(std::vector<NameCount> v, size_t limit) {
  auto order = [](const NameCount& a, const NameCount& b) {
    return a.value != b.value ? a.value > b.value : a.name < b.name;
  };
  if (v.size() > limit) {
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(limit), v.end(), order);
    v.resize(limit);
  } else {
    std::sort(v.begin(), v.end(), order);
  }
  return v;
}

void WriteList(JsonWriter* w, std::string_view key, const std::vector<NameCount>& v) {
  w->Key(key).BeginArray();
  for (const auto& e : v) w->BeginObject().Key("name").String(e.name).Key("value").Uint(e.value).EndObject();
  w->EndArray();
}

}  // namespace

void Api::TsdbStatus(HttpRequest& req, HttpResponse* resp) {
  size_t limit = 10;
  if (auto l = req.Param("limit"); l && !l->empty()) {
    int64_t v = 0;
    auto r = std::from_chars(l->data(), l->data() + l->size(), v);
    if (r.ec != std::errc() || r.ptr != l->data() + l->size() || v < 1 || v > 10000) {
      return RespondApiError(resp, ApiErrorType::kBadData,
                             "limit must be a positive number not above 10000");
    }
    limit = static_cast<size_t>(v);
  }
  auto querier = db_->NewQuerier(kApiMinTime, kApiMaxTime);
  if (!querier.ok()) {
    return RespondApiError(resp, ClassifyQueryError(querier.status()), querier.status().message());
  }
  // label name -> value -> series count
  std::map<std::string, std::unordered_map<std::string, uint64_t>, std::less<>> pairs;
  std::unordered_map<std::string, uint64_t> by_metric;
  uint64_t num_series = 0;
  int64_t min_t = std::numeric_limits<int64_t>::max();
  int64_t max_t = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> ts(1024);
  std::vector<double> vs(1024);
  auto ss = (*querier)->Select({});
  while (ss->Next()) {
    if (req.ClientGone()) {
      return RespondApiError(resp, ApiErrorType::kCanceled, "client closed the connection");
    }
    ++num_series;
    const storage::Labels& ls = ss->labels();
    ++by_metric[std::string(ls.MetricName())];
    for (const auto& l : ls) {
      auto it = pairs.find(l.name);
      if (it == pairs.end()) it = pairs.emplace(std::string(l.name), decltype(it->second)()).first;
      ++it->second[std::string(l.value)];
    }
    // Time bounds: every sample is read, which costs as much as a query over all data; this
    // endpoint is for occasional inspection.
    auto it = ss->Samples();
    size_t n;
    while ((n = it->Next(ts, vs)) > 0) {
      min_t = std::min(min_t, ts[0]);
      max_t = std::max(max_t, ts[n - 1]);
    }
    if (!it->status().ok()) return RespondApiError(resp, ApiErrorType::kInternal, it->status().message());
  }
  if (!ss->status().ok()) return RespondApiError(resp, ApiErrorType::kInternal, ss->status().message());

  std::vector<NameCount> metric_counts, value_counts, memory, pair_counts;
  uint64_t num_pairs = 0;
  for (const auto& [name, values] : pairs) {
    uint64_t bytes = 0;
    for (const auto& [value, count] : values) {
      bytes += value.size();
      pair_counts.push_back({name + "=" + value, count});
    }
    num_pairs += values.size();
    value_counts.push_back({name, values.size()});
    memory.push_back({name, bytes});
  }
  for (auto& [name, count] : by_metric) metric_counts.push_back({name, count});

  storage::DbStats stats = db_->Stats();
  std::string data;
  JsonWriter w(&data);
  w.BeginObject().Key("headStats").BeginObject();
  w.Key("numSeries").Uint(num_series).Key("numLabelPairs").Uint(num_pairs);
  w.Key("chunkCount").Uint(stats.head_chunks);
  w.Key("minTime").Int(num_series > 0 && min_t <= max_t ? min_t : 0);
  w.Key("maxTime").Int(num_series > 0 && min_t <= max_t ? max_t : 0);
  w.EndObject();
  WriteList(&w, "seriesCountByMetricName", Top(std::move(metric_counts), limit));
  WriteList(&w, "labelValueCountByLabelName", Top(std::move(value_counts), limit));
  WriteList(&w, "memoryInBytesByLabelName", Top(std::move(memory), limit));
  WriteList(&w, "seriesCountByLabelValuePair", Top(std::move(pair_counts), limit));
  w.EndObject();
  RespondSuccess(resp, data);
}

}  // namespace vigil::server
