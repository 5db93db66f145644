#pragma once

// Continuous queries inside vigild: an Extension (server/vigild.h) that opens the CqManager on
// the data directory, serves /api/v1/cq... (server/cq/api.h), takes over /api/v1/rules with the
// CQs as recording rules, adds the vigil_cq_* metrics to /metrics, loads rule files, and runs the
// scheduler thread until the server stops (the model state is saved then).

#include <string>
#include <vector>

#include "server/vigild.h"
#include "storage/base/clock.h"

namespace vigil::server::cq {

struct CqExtensionOptions {
  // Prometheus rule files whose recording rules are loaded at start (errors abort the start).
  std::vector<std::string> rule_files;
  int64_t tick_ms = 1000;
  int64_t save_every_ms = 60'000;
  int64_t max_catchup = 60;
  Clock* clock = nullptr;  // nullptr: the system clock (tests pass a manual one)
};

Extension MakeCqExtension(const CqExtensionOptions& options = {});

}  // namespace vigil::server::cq
