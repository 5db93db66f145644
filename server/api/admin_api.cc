// Prometheus' TSDB admin API: delete_series, clean_tombstones, snapshot.

#include <chrono>
#include <ctime>
#include <random>

#include "server/api/api.h"
#include "server/api/envelope.h"
#include "server/api/params.h"
#include "server/ingest/metadata.h"
#include "storage/base/file_system.h"
#include "storage/file_names.h"

namespace vigil::server {
namespace {

// Prometheus' snapshot name: UTC time, then 16 random hex digits ("20171210T211224Z-2be6...").
std::string SnapshotName() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm;
  gmtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char out[64];
  std::snprintf(out, sizeof(out), "%s-%016llx", ts, static_cast<unsigned long long>(r));
  return out;
}

}  // namespace

void Api::DeleteSeries(HttpRequest& req, HttpResponse* resp) {
  if (req.Params("match[]").empty()) {
    return RespondApiError(resp, ApiErrorType::kBadData, "no match[] parameter provided");
  }
  auto start = TimeParam(req, "start", kApiMinTime);
  if (!start.ok()) return RespondApiError(resp, ApiErrorType::kBadData, start.status().message());
  auto end = TimeParam(req, "end", kApiMaxTime);
  if (!end.ok()) return RespondApiError(resp, ApiErrorType::kBadData, end.status().message());
  auto sets = MatchParams(req);
  if (!sets.ok()) return RespondApiError(resp, ApiErrorType::kBadData, sets.status().message());
  for (const auto& set : *sets) {
    Status st = db_->DeleteSeries(set, *start, *end);
    if (!st.ok()) {
      return RespondApiError(resp, st.IsInvalidArgument() ? ApiErrorType::kBadData
                                                          : ApiErrorType::kInternal,
                             "error deleting series: " + st.message());
    }
  }
  RespondNoContent(resp);
}

void Api::CleanTombstones(HttpRequest&, HttpResponse* resp) {
  Status st = db_->CleanTombstones();
  if (!st.ok()) {
    return RespondApiError(resp, ApiErrorType::kInternal, "error cleaning tombstones: " + st.message());
  }
  RespondNoContent(resp);
}

void Api::CompactNow(HttpRequest&, HttpResponse* resp) {
  Status st = db_->Compact();
  if (!st.ok()) {
    return RespondApiError(resp, ApiErrorType::kInternal, "compaction: " + st.message());
  }
  RespondNoContent(resp);
}

namespace {

// A boolean query parameter as Prometheus reads its admin API's (Go's strconv.ParseBool: 1, t, T,
// TRUE, true, True, 0, f, F, FALSE, false, False); absent or empty is `fallback`. False with
// *error set for anything else.
bool BoolParam(const HttpRequest& req, std::string_view name, bool fallback, bool* value,
               std::string* error) {
  *value = fallback;
  const auto v = req.Param(name);
  if (!v || v->empty()) return true;
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (*v == t) {
      *value = true;
      return true;
    }
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (*v == f) {
      *value = false;
      return true;
    }
  }
  *error = "invalid parameter \"" + std::string(name) + "\": want true or false, got \"" +
           std::string(*v) + "\"";
  return false;
}

}  // namespace

void Api::Snapshot(HttpRequest& req, HttpResponse* resp) {
  bool skip_head = false, compact = false;
  std::string error;
  if (!BoolParam(req, "skip_head", false, &skip_head, &error) ||
      !BoolParam(req, "compact", false, &compact, &error)) {
    return RespondApiError(resp, ApiErrorType::kBadData, error);
  }
  if (skip_head) {
    return RespondApiError(resp, ApiErrorType::kBadData,
                           "skip_head is not supported: a Vigil snapshot always holds the head");
  }
  std::string name = SnapshotName();
  std::string dir = storage::JoinPath(storage::JoinPath(options_.data_dir, storage::kSnapshotsDirName), name);
  Status st = compact ? db_->SnapshotCompacted(dir) : db_->Snapshot(dir);
  if (st.ok() && options_.metadata != nullptr) {
    // The metric metadata goes along, so vigild --data-dir <snapshot> serves it too.
    st = WriteFileAtomic(DefaultFileSystem(), storage::JoinPath(dir, storage::kMetricMetadataFileName),
                         ingest::EncodeMetadataFile(options_.metadata->Snapshot()));
  }
  if (!st.ok()) {
    return RespondApiError(resp, ApiErrorType::kInternal, "create snapshot: " + st.message());
  }
  std::string data;
  JsonWriter(&data).BeginObject().Key("name").String(name).EndObject();
  RespondSuccess(resp, data);
}

}  // namespace vigil::server
