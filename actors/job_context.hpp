// What every job actor of a node shares: settings, pools, the rate budget
// and metrics. Owned by the runtime; outlives every actor. The control pool
// keeps sessions of its own so that cancels, lease renewals and final states
// never wait behind step commits for a connection.
#pragma once

#include <memory>

#include "actors/blocking_pool.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync {

struct job_context {
  config cfg;
  blocking_pool* steps = nullptr;            ///< engine steps: upstream waits
  db::connection_source* step_db = nullptr;  ///< the steps' reads and commits
  blocking_pool* control = nullptr;          ///< state changes, cancels, leases
  /// Shared, not borrowed: a step in flight keeps it (see launch_step), as
  /// a worker's budget ends with its link to the coordinator.
  std::shared_ptr<upstream::rate_budget> budget;
  metrics* stats = nullptr;
};

}  // namespace matchsync
