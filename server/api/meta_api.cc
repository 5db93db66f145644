// /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values, /api/v1/metadata,
// /api/v1/status/buildinfo.

#include <algorithm>
#include <set>

#include "server/api/api.h"
#include "server/api/envelope.h"
#include "server/api/params.h"

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
  auto limit = LimitParam(req);
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  auto range = RangeParams(req);
  if (!range.ok()) return RespondApiError(resp, ApiErrorType::kBadData, range.status().message());
  auto sets = MatchParams(req);
  if (!sets.ok()) return RespondApiError(resp, ApiErrorType::kBadData, sets.status().message());
  auto querier = db_->NewQuerier(range->start, range->end);
  if (!querier.ok()) {
    return RespondApiError(resp, ClassifyQueryError(querier.status()), querier.status().message());
  }
  std::vector<std::string> names;
  if (sets->empty()) sets->emplace_back();
  for (const auto& set : *sets) {
    auto r = (*querier)->LabelNames(set);
    if (!r.ok()) return RespondApiError(resp, ApiErrorType::kInternal, r.status().message());
    MergeInto(&names, std::move(*r));
  }
  RespondStrings(resp, names, *limit);
}

void Api::LabelValues(HttpRequest& req, HttpResponse* resp) {
  std::string name(req.PathParam("name"));
  if (!storage::IsValidLabelName(name)) {
    std::string msg = "invalid label name: \"" + name + "\"";
    return RespondApiError(resp, ApiErrorType::kBadData, msg);
  }
  auto limit = LimitParam(req);
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  auto range = RangeParams(req);
  if (!range.ok()) return RespondApiError(resp, ApiErrorType::kBadData, range.status().message());
  auto sets = MatchParams(req);
  if (!sets.ok()) return RespondApiError(resp, ApiErrorType::kBadData, sets.status().message());
  auto querier = db_->NewQuerier(range->start, range->end);
  if (!querier.ok()) {
    return RespondApiError(resp, ClassifyQueryError(querier.status()), querier.status().message());
  }
  std::vector<std::string> values;
  if (sets->empty()) sets->emplace_back();
  for (const auto& set : *sets) {
    auto r = (*querier)->LabelValues(name, set);
    if (!r.ok()) return RespondApiError(resp, ApiErrorType::kInternal, r.status().message());
    MergeInto(&values, std::move(*r));
  }
  RespondStrings(resp, values, *limit);
}

void Api::Metadata(HttpRequest& req, HttpResponse* resp) {
  // Vigil keeps no metric metadata (type, help, unit): the answer is Prometheus' answer for a
  // server that has none, after the parameters were checked as Prometheus checks them.
  auto limit = LimitParam(req);
  if (!limit.ok()) return RespondApiError(resp, ApiErrorType::kBadData, limit.status().message());
  RespondSuccess(resp, "{}");
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
