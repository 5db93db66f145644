#pragma once

// The continuous-query manager of vigild (server/docs/continuous-queries.md): keeps the CQ
// definitions (persisted in <data>/cq/definitions.yaml), evaluates each CQ at its interval aligned
// to the clock (t = k · interval), writes the results through the normal Appender, catches up after
// downtime (at most `max_catchup` missed evaluations per CQ, the oldest are skipped and counted),
// keeps per-series model state (persisted in <data>/cq/state/<name>.bin, so a restart keeps
// learning), and reports evaluation lag and failures (/metrics text, /api/v1/rules groups).
//
// Thread safety: all methods are safe to call concurrently (one mutex; an evaluation holds it).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "query/engine.h"
#include "server/cq/definition.h"
#include "storage/base/clock.h"
#include "storage/base/file_system.h"
#include "storage/base/status.h"
#include "storage/db.h"

namespace vigil::server::cq {

struct CqManagerOptions {
  std::string data_dir;      // files live under <data_dir>/cq/
  FileSystem* fs = nullptr;  // nullptr: the POSIX file system
  Clock* clock = nullptr;    // nullptr: the system clock
  query::EngineOptions engine;
  int64_t max_catchup = 60;  // evaluations run at most per CQ after downtime
  // Model state of a series not seen for this long is dropped (at least 100 intervals).
  int64_t series_ttl_ms = int64_t{7} * 24 * 3600 * 1000;
};

struct CqStatus {
  CqDefinition def;
  int64_t last_eval_ms = 0;  // timestamp of the latest evaluation (0: never)
  int64_t next_eval_ms = 0;
  int64_t lag_ms = 0;  // now − the latest due time already evaluated (0 when up to date)
  uint64_t evaluations = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;    // evaluations skipped by the catch-up bound
  std::string last_error;  // of the latest evaluation ("" when it succeeded)
  double last_duration_s = 0;
  size_t series = 0;  // series with model state
};

class CqManager {
 public:
  // Loads definitions and model state from <data_dir>/cq/. Corrupt state files are reported in
  // the log and the CQ starts learning afresh; a corrupt definitions file fails the open.
  static Result<std::unique_ptr<CqManager>> Open(storage::Db* db, const CqManagerOptions& options);
  ~CqManager();

  // AlreadyExists if the name is taken; InvalidArgument for a bad definition. Persisted at once.
  Status Create(const CqDefinition& def);
  // NotFound if absent. Removes its state file.
  Status Drop(std::string_view name);
  std::vector<CqStatus> List() const;
  Result<CqStatus> Describe(std::string_view name) const;
  // Adds every recording rule of a Prometheus rule file as a record CQ; rules whose name exists
  // are replaced. All or nothing.
  Status LoadRuleFile(std::string_view yaml);

  // Runs every evaluation due at the clock's now. Failures are recorded per CQ, not returned.
  void RunDue();
  // Persists every CQ's model state and next evaluation time.
  Status SaveState();

  // A scheduler thread calling RunDue() every `tick_ms` and SaveState() every `save_every_ms`.
  void Start(int64_t tick_ms = 1000, int64_t save_every_ms = 60'000);
  // Stops the thread (if started) and saves the state.
  Status Stop();

  // Prometheus exposition text of vigil_cq_* metrics.
  std::string MetricsText() const;
  // The `groups` array of /api/v1/rules (JSON), one group per rule-file group plus "vigil_cq".
  std::string RuleGroupsJson() const;

 private:
  struct Cq;
  CqManager(storage::Db* db, const CqManagerOptions& options);
  Status PersistDefinitions() const;
  Status Evaluate(Cq& cq, int64_t t);
  Status SaveCq(const Cq& cq) const;
  Status LoadCq(Cq& cq);
  std::string StatePath(std::string_view name) const;
  CqStatus StatusOf(const Cq& cq, int64_t now) const;

  storage::Db* db_;
  CqManagerOptions options_;
  FileSystem* fs_;
  Clock* clock_;
  query::Engine engine_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Cq>, std::less<>> cqs_;

  std::thread thread_;
  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stop_ = false;
};

}  // namespace vigil::server::cq
