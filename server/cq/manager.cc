#include "server/cq/manager.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <unordered_map>

#include "compression/coding.h"
#include "query/models/anomaly_band.h"
#include "query/models/holt_winters.h"
#include "storage/base/logging.h"
#include "storage/labels.h"

namespace vigil::server::cq {

namespace coding = compression::coding;
namespace qm = query::models;

namespace {

constexpr char kStateMagic[4] = {'V', 'C', 'Q', 'S'};
constexpr uint16_t kStateVersion = 1;
constexpr size_t kMaxStateEntries = 10'000'000;

int64_t CeilTo(int64_t t, int64_t step) {
  const int64_t q = t / step;
  const int64_t down = (t % step != 0 && t < 0) ? (q - 1) * step : q * step;
  return down == t ? t : down + step;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Rfc3339(int64_t ms) {
  if (ms <= 0) return "0001-01-01T00:00:00Z";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

// Per-series model state of a forecast or anomaly CQ.
struct SeriesModel {
  int64_t last_seen_ms = 0;
  std::optional<qm::HoltWinters> forecast;
  std::optional<qm::AnomalyBand> band;
};

struct CqManager::Cq {
  CqDefinition def;
  int64_t next_eval_ms = 0;
  int64_t last_eval_ms = 0;
  uint64_t evaluations = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;
  std::string last_error;
  double last_duration_s = 0;
  std::unordered_map<std::string, SeriesModel> models;  // by the source series' encoded labels
};

CqManager::CqManager(storage::Db* db, const CqManagerOptions& options)
    : db_(db),
      options_(options),
      fs_(options.fs != nullptr ? options.fs : DefaultFileSystem()),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      engine_(options.engine) {}

CqManager::~CqManager() { Stop().IgnoreError(); }

std::string CqManager::StatePath(std::string_view name) const {
  return JoinPath(JoinPath(JoinPath(options_.data_dir, "cq"), "state"), std::string(name) + ".bin");
}

Result<std::unique_ptr<CqManager>> CqManager::Open(storage::Db* db,
                                                   const CqManagerOptions& options) {
  std::unique_ptr<CqManager> m(new CqManager(db, options));
  const std::string dir = JoinPath(options.data_dir, "cq");
  VIGIL_RETURN_IF_ERROR(CreateDirsDurably(m->fs_, JoinPath(dir, "state")));
  const std::string defs_path = JoinPath(dir, "definitions.yaml");
  if (m->fs_->FileExists(defs_path)) {
    VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(m->fs_, defs_path));
    Result<std::vector<CqDefinition>> defs = DecodeDefinitions(text);
    if (!defs.ok()) return defs.status().WithContext(defs_path);
    const int64_t now = m->clock_->NowMillis();
    for (CqDefinition& d : *defs) {
      auto cq = std::make_unique<Cq>();
      cq->def = std::move(d);
      cq->next_eval_ms = CeilTo(now, cq->def.interval_ms);
      Status st = m->LoadCq(*cq);
      if (!st.ok()) {
        VIGIL_LOG(WARN) << "continuous query " << cq->def.name
                        << ": model state not loaded, learning afresh: " << st.ToString();
        cq->models.clear();
      }
      m->cqs_.emplace(cq->def.name, std::move(cq));
    }
  }
  return m;
}

Status CqManager::PersistDefinitions() const {
  std::vector<CqDefinition> defs;
  for (const auto& [name, cq] : cqs_) defs.push_back(cq->def);
  return WriteFileAtomic(fs_, JoinPath(JoinPath(options_.data_dir, "cq"), "definitions.yaml"),
                         EncodeDefinitions(defs));
}

Status CqManager::Create(const CqDefinition& def) {
  VIGIL_RETURN_IF_ERROR(Validate(def));
  std::lock_guard<std::mutex> lock(mu_);
  if (cqs_.count(def.name) != 0) {
    return Status::AlreadyExists("continuous query \"" + def.name + "\" exists");
  }
  auto cq = std::make_unique<Cq>();
  cq->def = def;
  cq->next_eval_ms = CeilTo(clock_->NowMillis(), def.interval_ms);
  auto [it, inserted] = cqs_.emplace(def.name, std::move(cq));
  Status st = PersistDefinitions();
  if (!st.ok()) {
    cqs_.erase(it);
    return st;
  }
  // A state file left by an earlier CQ of the same name must not be picked up.
  if (fs_->FileExists(StatePath(def.name))) fs_->RemoveFile(StatePath(def.name)).IgnoreError();
  return Status::OK();
}

Status CqManager::Drop(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cqs_.find(name);
  if (it == cqs_.end())
    return Status::NotFound("continuous query \"" + std::string(name) + "\" does not exist");
  std::unique_ptr<Cq> removed = std::move(it->second);
  cqs_.erase(it);
  Status st = PersistDefinitions();
  if (!st.ok()) {
    cqs_.emplace(removed->def.name, std::move(removed));
    return st;
  }
  if (fs_->FileExists(StatePath(name))) VIGIL_RETURN_IF_ERROR(fs_->RemoveFile(StatePath(name)));
  return Status::OK();
}

Status CqManager::LoadRuleFile(std::string_view yaml) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<CqDefinition> defs, ParseRuleFile(yaml, 60'000));
  std::set<std::string> seen;
  for (const CqDefinition& d : defs) {
    if (!seen.insert(d.name).second) {
      return Status::InvalidArgument("rule file: record \"" + d.name + "\" appears twice");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowMillis();
  for (const CqDefinition& d : defs) {
    auto cq = std::make_unique<Cq>();
    cq->def = d;
    cq->next_eval_ms = CeilTo(now, d.interval_ms);
    cqs_[d.name] = std::move(cq);
  }
  return PersistDefinitions();
}

CqStatus CqManager::StatusOf(const Cq& cq, int64_t now) const {
  CqStatus s;
  s.def = cq.def;
  s.last_eval_ms = cq.last_eval_ms;
  s.next_eval_ms = cq.next_eval_ms;
  // The latest due time is the last multiple of the interval ≤ now; it is done if < next.
  const int64_t due = CeilTo(now + 1, cq.def.interval_ms) - cq.def.interval_ms;
  s.lag_ms = due >= cq.next_eval_ms ? now - cq.next_eval_ms : 0;
  s.evaluations = cq.evaluations;
  s.failures = cq.failures;
  s.skipped = cq.skipped;
  s.last_error = cq.last_error;
  s.last_duration_s = cq.last_duration_s;
  s.series = cq.models.size();
  return s;
}

std::vector<CqStatus> CqManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowMillis();
  std::vector<CqStatus> out;
  for (const auto& [name, cq] : cqs_) out.push_back(StatusOf(*cq, now));
  return out;
}

Result<CqStatus> CqManager::Describe(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cqs_.find(name);
  if (it == cqs_.end())
    return Status::NotFound("continuous query \"" + std::string(name) + "\" does not exist");
  return StatusOf(*it->second, clock_->NowMillis());
}

void CqManager::RunDue() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowMillis();
  for (auto& [name, cq_ptr] : cqs_) {
    Cq& cq = *cq_ptr;
    const int64_t interval = cq.def.interval_ms;
    if (cq.next_eval_ms > now) continue;
    const int64_t missed = (now - cq.next_eval_ms) / interval + 1;
    if (missed > options_.max_catchup) {
      const int64_t skip = missed - options_.max_catchup;
      cq.skipped += static_cast<uint64_t>(skip);
      cq.next_eval_ms += skip * interval;
    }
    for (; cq.next_eval_ms <= now; cq.next_eval_ms += interval) {
      const auto start = std::chrono::steady_clock::now();
      Status st = Evaluate(cq, cq.next_eval_ms);
      cq.last_duration_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++cq.evaluations;
      cq.last_eval_ms = cq.next_eval_ms;
      if (!st.ok()) {
        ++cq.failures;
        cq.last_error = st.ToString();
      } else {
        cq.last_error.clear();
      }
    }
  }
}

Status CqManager::Evaluate(Cq& cq, int64_t t) {
  const CqDefinition& def = cq.def;
  query::DbQueryable queryable(db_);
  VIGIL_ASSIGN_OR_RETURN(query::QueryResult result, engine_.InstantQuery(queryable, def.expr, t));
  query::VectorValue vec;
  if (result.IsScalar()) {
    vec.push_back(
        query::Sample{storage::Labels(), std::get<query::ScalarValue>(result.value).point});
  } else if (result.IsVector()) {
    vec = std::move(std::get<query::VectorValue>(result.value));
  } else {
    return Status::InvalidArgument("continuous query \"" + def.name +
                                   "\": expr must return an instant vector or a scalar");
  }
  std::unique_ptr<storage::Appender> app = db_->NewAppender();
  std::set<std::string> written;
  auto append = [&](const storage::Labels& source, std::string_view metric, int64_t ts,
                    double v) -> Status {
    storage::LabelsBuilder b(source);
    b.Set(storage::kMetricNameLabel, metric);
    for (const auto& [n, val] : def.labels) b.Set(n, val);
    VIGIL_ASSIGN_OR_RETURN(storage::Labels out, b.Build());
    if (!written.insert(std::string(out.Encoded())).second) {
      return Status::InvalidArgument("continuous query \"" + def.name +
                                     "\": vector contains metrics with the same labelset " +
                                     out.ToString() + " after applying rule labels");
    }
    return app->Append(out, ts, v).status();
  };
  const int64_t ttl = std::max(options_.series_ttl_ms, 100 * def.interval_ms);
  Status st;
  for (const query::Sample& s : vec) {
    if (def.kind == CqKind::kRecord) {
      st = append(s.labels, def.name, t, s.point.v);
      if (!st.ok()) break;
      continue;
    }
    SeriesModel& m = cq.models[std::string(s.labels.Encoded())];
    m.last_seen_ms = t;
    if (def.kind == CqKind::kForecast) {
      if (!m.forecast) {
        qm::ForecastOptions o;
        o.step_ms = def.interval_ms;
        o.season_ms = def.season_ms;
        o.coverage = def.coverage;
        o.horizon = static_cast<uint32_t>(
            std::clamp<int64_t>(def.horizon_ms / def.interval_ms, 1, qm::HoltWinters::kMaxHorizon));
        if (def.season_ms < 0) {
          // Enough warm-up for a daily season when the interval allows, else what fits.
          o.detect_points = static_cast<uint32_t>(std::clamp<int64_t>(
              2 * 86'400'000 / def.interval_ms + 24, 16, qm::HoltWinters::kMaxWarmup));
        }
        m.forecast.emplace(o);
      }
      m.forecast->Update(t, s.point.v);
      const uint32_t h = m.forecast->options().horizon;
      const qm::ForecastPoint f = m.forecast->Forecast(h);
      const int64_t at = t + static_cast<int64_t>(h) * def.interval_ms;
      std::string prefix = def.name;
      if (!std::isnan(f.value)) {
        st = append(s.labels, prefix + ":forecast", at, f.value);
        if (st.ok() && !std::isnan(f.lower)) st = append(s.labels, prefix + ":lower", at, f.lower);
        if (st.ok() && !std::isnan(f.upper)) st = append(s.labels, prefix + ":upper", at, f.upper);
      }
    } else {
      if (!m.band) {
        qm::BandOptions o;
        o.step_ms = def.interval_ms;
        o.sensitivity = def.sensitivity;
        m.band.emplace(o);
      }
      const qm::BandPoint p = m.band->Update(t, s.point.v);
      if (!std::isnan(p.expected)) {
        st = append(s.labels, def.name + ":forecast", t, p.expected);
        if (st.ok()) st = append(s.labels, def.name + ":lower", t, p.lower);
        if (st.ok()) st = append(s.labels, def.name + ":upper", t, p.upper);
      }
      if (st.ok()) st = append(s.labels, def.name + ":anomaly_score", t, p.score);
    }
    if (!st.ok()) break;
  }
  if (!st.ok()) {
    app->Rollback();
    return st;
  }
  for (auto it = cq.models.begin(); it != cq.models.end();) {
    it = t - it->second.last_seen_ms > ttl ? cq.models.erase(it) : std::next(it);
  }
  VIGIL_RETURN_IF_ERROR(app->Commit());
  if (const auto& late = app->last_commit_rejections(); late.count != 0) {
    // Another writer moved an output series on meanwhile (e.g. a backfill through the API).
    VIGIL_LOG(WARN) << "continuous query " << cq.def.name << ": " << late.count
                    << " result samples were not kept: " << late.first.ToString();
  }
  return Status::OK();
}

// State file: magic "VCQS" | version u16 | next_eval_ms i64 | count u32 |
//   count × (labels_len u32 | labels | last_seen_ms i64 | kind u8 | frame_len u32 | frame) |
//   checksum u32 (XXH3-64 low 32 bits of everything before). server/docs/continuous-queries.md.
Status CqManager::SaveCq(const Cq& cq) const {
  std::string buf(kStateMagic, 4);
  char b8[8];
  coding::PutFixed16(b8, kStateVersion);
  buf.append(b8, 2);
  coding::AppendFixed64(static_cast<uint64_t>(cq.next_eval_ms), &buf);
  coding::AppendFixed32(static_cast<uint32_t>(cq.models.size()), &buf);
  for (const auto& [labels, m] : cq.models) {
    coding::AppendFixed32(static_cast<uint32_t>(labels.size()), &buf);
    buf += labels;
    coding::AppendFixed64(static_cast<uint64_t>(m.last_seen_ms), &buf);
    const std::string frame = m.forecast ? m.forecast->Serialize()
                              : m.band   ? m.band->Serialize()
                                         : std::string();
    buf.push_back(static_cast<char>(m.forecast ? 2 : m.band ? 1 : 0));
    coding::AppendFixed32(static_cast<uint32_t>(frame.size()), &buf);
    buf += frame;
  }
  coding::AppendFixed32(static_cast<uint32_t>(XXH3_64bits(buf.data(), buf.size())), &buf);
  return WriteFileAtomic(fs_, StatePath(cq.def.name), buf);
}

Status CqManager::LoadCq(Cq& cq) {
  const std::string path = StatePath(cq.def.name);
  if (!fs_->FileExists(path)) return Status::OK();
  VIGIL_ASSIGN_OR_RETURN(std::string buf, ReadFileToString(fs_, path));
  auto corrupt = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  if (buf.size() < 22 || std::memcmp(buf.data(), kStateMagic, 4) != 0)
    return corrupt("bad magic or too short");
  if (coding::GetFixed16(buf.data() + 4) != kStateVersion)
    return Status::NotSupported(path + ": unknown version");
  const size_t body = buf.size() - 4;
  if (static_cast<uint32_t>(XXH3_64bits(buf.data(), body)) !=
      coding::GetFixed32(buf.data() + body)) {
    return corrupt("checksum mismatch");
  }
  size_t pos = 6;
  auto need = [&](size_t n) { return body - pos >= n; };
  const int64_t next = static_cast<int64_t>(coding::GetFixed64(buf.data() + pos));
  pos += 8;
  const uint32_t count = coding::GetFixed32(buf.data() + pos);
  pos += 4;
  if (count > kMaxStateEntries) return corrupt("too many entries");
  std::unordered_map<std::string, SeriesModel> models;
  for (uint32_t i = 0; i < count; ++i) {
    if (!need(4)) return corrupt("truncated entry " + std::to_string(i));
    const uint32_t len = coding::GetFixed32(buf.data() + pos);
    pos += 4;
    if (!need(static_cast<size_t>(len) + 13))
      return corrupt("truncated entry " + std::to_string(i));
    std::string labels = buf.substr(pos, len);
    pos += len;
    if (!storage::Labels::FromEncoded(labels).ok())
      return corrupt("bad labels in entry " + std::to_string(i));
    SeriesModel m;
    m.last_seen_ms = static_cast<int64_t>(coding::GetFixed64(buf.data() + pos));
    pos += 8;
    const uint8_t kind = static_cast<uint8_t>(buf[pos++]);
    const uint32_t flen = coding::GetFixed32(buf.data() + pos);
    pos += 4;
    if (!need(flen)) return corrupt("truncated model in entry " + std::to_string(i));
    std::string_view frame(buf.data() + pos, flen);
    pos += flen;
    if (kind == 2) {
      Result<qm::HoltWinters> f = qm::HoltWinters::Deserialize(frame);
      if (!f.ok()) return f.status().WithContext(path + " entry " + std::to_string(i));
      m.forecast.emplace(std::move(*f));
    } else if (kind == 1) {
      Result<qm::AnomalyBand> b = qm::AnomalyBand::Deserialize(frame);
      if (!b.ok()) return b.status().WithContext(path + " entry " + std::to_string(i));
      m.band.emplace(std::move(*b));
    } else if (kind != 0) {
      return corrupt("unknown model kind " + std::to_string(kind));
    }
    models.emplace(std::move(labels), std::move(m));
  }
  if (pos != body) return corrupt("trailing bytes");
  cq.models = std::move(models);
  // Resume where the previous run stopped; RunDue bounds the catch-up.
  if (next > 0) cq.next_eval_ms = next;
  return Status::OK();
}

Status CqManager::SaveState() {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  for (const auto& [name, cq] : cqs_) {
    Status st = SaveCq(*cq);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

void CqManager::Start(int64_t tick_ms, int64_t save_every_ms) {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this, tick_ms, save_every_ms] {
    int64_t last_save = clock_->NowMillis();
    std::unique_lock<std::mutex> l(thread_mu_);
    while (!stop_) {
      l.unlock();
      RunDue();
      if (clock_->NowMillis() - last_save >= save_every_ms) {
        Status st = SaveState();
        if (!st.ok())
          VIGIL_LOG(WARN) << "continuous queries: saving model state: " << st.ToString();
        last_save = clock_->NowMillis();
      }
      l.lock();
      thread_cv_.wait_for(l, std::chrono::milliseconds(tick_ms), [this] { return stop_; });
    }
  });
}

Status CqManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_ = true;
  }
  thread_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    return SaveState();
  }
  return Status::OK();
}

std::string CqManager::MetricsText() const {
  const std::vector<CqStatus> all = List();
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const CqStatus& s : all) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(value(s)));
      out += std::string(name) + "{cq=\"" + JsonEscape(s.def.name) + "\",kind=\"" +
             std::string(KindName(s.def.kind)) + "\"} " + buf + "\n";
    }
  };
  family("vigil_cq_evaluations_total", "counter", "Evaluations of the continuous query.",
         [](const CqStatus& s) { return s.evaluations; });
  family("vigil_cq_evaluation_failures_total", "counter", "Evaluations that failed.",
         [](const CqStatus& s) { return s.failures; });
  family("vigil_cq_evaluations_skipped_total", "counter",
         "Missed evaluations skipped by the catch-up bound after downtime.",
         [](const CqStatus& s) { return s.skipped; });
  family("vigil_cq_lag_seconds", "gauge", "How far evaluation is behind the latest due time.",
         [](const CqStatus& s) { return static_cast<double>(s.lag_ms) / 1000; });
  family("vigil_cq_last_evaluation_timestamp_seconds", "gauge",
         "Timestamp of the latest evaluation.",
         [](const CqStatus& s) { return static_cast<double>(s.last_eval_ms) / 1000; });
  family("vigil_cq_last_duration_seconds", "gauge", "Duration of the latest evaluation.",
         [](const CqStatus& s) { return s.last_duration_s; });
  family("vigil_cq_series", "gauge", "Series with model state.",
         [](const CqStatus& s) { return s.series; });
  return out;
}

std::string CqManager::RuleGroupsJson() const {
  const std::vector<CqStatus> all = List();
  std::map<std::string, std::vector<const CqStatus*>> groups;
  for (const CqStatus& s : all)
    groups[s.def.group.empty() ? "vigil_cq" : s.def.group].push_back(&s);
  std::string out = "[";
  bool first_group = true;
  for (const auto& [group, members] : groups) {
    if (!first_group) out += ",";
    first_group = false;
    out += "{\"name\":\"" + JsonEscape(group) + "\",\"file\":\"" +
           (group == "vigil_cq" ? std::string("vigil") : std::string("rule file")) +
           "\",\"interval\":" +
           std::to_string(static_cast<double>(members[0]->def.interval_ms) / 1000) + ",\"rules\":[";
    bool first = true;
    for (const CqStatus* s : members) {
      if (!first) out += ",";
      first = false;
      out += "{\"type\":\"recording\",\"name\":\"" + JsonEscape(s->def.name) + "\",\"query\":\"" +
             JsonEscape(s->def.expr) + "\",\"kind\":\"" + std::string(KindName(s->def.kind)) +
             "\",\"health\":\"" +
             (s->evaluations == 0     ? "unknown"
              : s->last_error.empty() ? "ok"
                                      : "err") +
             "\",\"lastError\":\"" + JsonEscape(s->last_error) + "\",\"lastEvaluation\":\"" +
             Rfc3339(s->last_eval_ms) +
             "\",\"evaluationTime\":" + std::to_string(s->last_duration_s) +
             ",\"lagSeconds\":" + std::to_string(static_cast<double>(s->lag_ms) / 1000) +
             ",\"failures\":" + std::to_string(s->failures) + ",\"labels\":{";
      for (size_t i = 0; i < s->def.labels.size(); ++i) {
        if (i) out += ",";
        out += "\"" + JsonEscape(s->def.labels[i].first) + "\":\"" +
               JsonEscape(s->def.labels[i].second) + "\"";
      }
      out += "}}";
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace vigil::server::cq
