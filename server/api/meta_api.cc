// /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values, /api/v1/metadata,
// /api/v1/status/buildinfo.

#include <algorithm>
#include <charconv>
#include <set>

#include "server/api/api.h"
#include "server/api/envelope.h"
#include "server/api/params.h"
#include "server/ingest/metadata.h"

namespace vigil::server {
namespace {

constexpr std::string_view kTruncated = "results truncated due to limit";

struct Range {
  int64_t start = kApiMinTime;
  int64_t end = kApiMaxTime;
};

Result<Range> RangeParams(const HttpRequest& req) {
  Range r;
  VIGIL_ASSIGN_OR_RETURN(r.start, TimeParam(req, "start", kApiMinTime));
  VIGIL_ASSIGN_OR_RETURN(r.end, TimeParam(req, "end", kApiMaxTime));
  if (r.end < r.start) return Status::InvalidArgument("end timestamp must not be before start time");
  return r;
}

void RespondStrings(HttpResponse* resp, const std::vector<std::string>& values, int64_t limit) {
  Annotations notes;
  size_t n = values.size();
  if (limit > 0 && n > static_cast<size_t>(limit)) {
    n = static_cast<size_t>(limit);
    notes.warnings.emplace_back(kTruncated);
  }
  std::string data;
  JsonWriter w(&data);
  w.BeginArray();
  for (size_t i = 0; i < n; ++i) w.String(values[i]);
  w.EndArray();
  RespondSuccess(resp, data, notes);
}

// Sorted union of sorted lists.
void MergeInto(std::vector<std::string>* acc, std::vector<std::string> more) {
  std::vector<std::string> out;
  out.reserve(acc->size() + more.size());
  std::set_union(std::make_move_iterator(acc->begin()), std::make_move_iterator(acc->end()),
                 std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()),
                 std::back_inserter(out));
  *acc = std::move(out);
}

// /labels and /label/<name>/values: limit, start / end and match[] parsed, one querier over the
// range, and the sorted union of lookup(querier, set) over the match[] sets (one empty set when
// none is given) answered as a string list.
template <typename Lookup>
void RespondLabelStrings(storage::Db* db, HttpRequest& req, HttpResponse* resp, Lookup lookup) {
  auto limit = LimitParam(req);
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  auto range = RangeParams(req);
  if (!range.ok()) return RespondApiError(resp, ApiErrorType::kBadData, range.status().message());
  auto sets = MatchParams(req);
  if (!sets.ok()) return RespondApiError(resp, ApiErrorType::kBadData, sets.status().message());
  auto querier = db->NewQuerier(range->start, range->end);
  if (!querier.ok()) {
    return RespondApiError(resp, ClassifyQueryError(querier.status()), querier.status().message());
  }
  std::vector<std::string> strings;
  if (sets->empty()) sets->emplace_back();
  for (const auto& set : *sets) {
    Result<std::vector<std::string>> r = lookup(**querier, set);
    if (!r.ok()) return RespondApiError(resp, ApiErrorType::kInternal, r.status().message());
    MergeInto(&strings, std::move(*r));
  }
  RespondStrings(resp, strings, *limit);
}

}  // namespace

void Api::Series(HttpRequest& req, HttpResponse* resp) {
  auto limit = LimitParam(req);
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  if (req.Params("match[]").empty()) {
    return RespondApiError(resp, ApiErrorType::kBadData, "no match[] parameter provided");
  }
  auto range = RangeParams(req);
  if (!range.ok()) return RespondApiError(resp, ApiErrorType::kBadData, range.status().message());
  auto sets = MatchParams(req);
  if (!sets.ok()) return RespondApiError(resp, ApiErrorType::kBadData, sets.status().message());
  auto querier = db_->NewQuerier(range->start, range->end);
  if (!querier.ok()) {
    return RespondApiError(resp, ClassifyQueryError(querier.status()), querier.status().message());
  }
  std::set<storage::Labels> found;
  for (const auto& set : *sets) {
    auto ss = (*querier)->Select(set);
    while (ss->Next()) {
      if (req.ClientGone()) return RespondApiError(resp, ApiErrorType::kCanceled, "client closed the connection");
      found.insert(ss->labels());
    }
    if (!ss->status().ok()) {
      return RespondApiError(resp, ApiErrorType::kInternal, ss->status().message());
    }
  }
  Annotations notes;
  std::string data;
  JsonWriter w(&data);
  w.BeginArray();
  int64_t n = 0;
  for (const auto& ls : found) {
    if (*limit > 0 && n == *limit) {
      notes.warnings.emplace_back(kTruncated);
      break;
    }
    WriteLabels(&w, ls);
    ++n;
  }
  w.EndArray();
  RespondSuccess(resp, data, notes);
}

void Api::LabelNames(HttpRequest& req, HttpResponse* resp) {
  RespondLabelStrings(db_, req, resp, [](storage::Querier& q, const auto& set) {
    return q.LabelNames(set);
  });
}

void Api::LabelValues(HttpRequest& req, HttpResponse* resp) {
  std::string name(req.PathParam("name"));
  if (!storage::IsValidLabelName(name)) {
    std::string msg = "invalid label name: \"" + name + "\"";
    return RespondApiError(resp, ApiErrorType::kBadData, msg);
  }
  RespondLabelStrings(db_, req, resp, [&name](storage::Querier& q, const auto& set) {
    return q.LabelValues(name, set);
  });
}

namespace {

// Prometheus' parsing of the metadata limits: an integer, negative meaning no limit.
Result<int64_t> MetadataLimit(const HttpRequest& req, std::string_view name) {
  auto v = req.Param(name);
  if (!v || v->empty()) return int64_t{-1};
  int64_t limit = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), limit);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size()) {
    return Status::InvalidArgument(std::string(name) + " must be a number");
  }
  return limit;
}

}  // namespace

void Api::Metadata(HttpRequest& req, HttpResponse* resp) {
  // The latest type, help and unit per metric family that remote write delivered
  // (server/ingest/metadata.h). Parameters as Prometheus reads them: limit (families; negative
  // or absent: all, 0: none), limit_per_metric (entries per family; Vigil keeps one, so it only
  // has to parse), metric (one family).
  auto limit = MetadataLimit(req, "limit");
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  auto per_metric = MetadataLimit(req, "limit_per_metric");
  if (!per_metric.ok()) {
    return RespondApiError(resp, ApiErrorType::kBadData, per_metric.status().message());
  }
  std::vector<std::pair<std::string, ingest::MetricMetadata>> families;
  if (options_.metadata != nullptr && *limit != 0) {
    families = options_.metadata->List(req.Param("metric").value_or(""),
                                       *limit > 0 ? static_cast<size_t>(*limit) : 0);
  }
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  for (const auto& [name, m] : families) {
    w.Key(name).BeginArray();
    w.BeginObject();
    w.Key("type").String(ingest::MetricTypeName(m.type));
    w.Key("help").String(m.help);
    w.Key("unit").String(m.unit);
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  RespondSuccess(resp, data);
}

void Api::BuildInfoHandler(HttpRequest&, HttpResponse* resp) {
  const BuildInfo& b = options_.build;
  std::string data;
  JsonWriter w(&data);
  w.BeginObject();
  w.Key("version").String(b.version).Key("revision").String(b.revision);
  w.Key("branch").String(b.branch).Key("buildUser").String(b.build_user);
  w.Key("buildDate").String(b.build_date).Key("goVersion").String(b.compiler);
  w.EndObject();
  RespondSuccess(resp, data);
}

}  // namespace vigil::server
