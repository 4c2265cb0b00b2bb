// What every job actor of a node shares: settings, pools, the rate budget
// and metrics. Owned by the runtime; outlives every actor. The control pool
// keeps sessions of its own so that cancels, lease renewals and final states
// never wait behind step commits for a connection.
#pragma once

#include <memory>

#include "actors/blocking_pool.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "core/sync_job.hpp"
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
  /// The same slots for jobs of a schedule, counted against the share of the
  /// day's quota scheduled runs may use (schedule_quota_share); null: budget.
  std::shared_ptr<upstream::rate_budget> scheduled_budget;
  metrics* stats = nullptr;

  /// The budget a job's requests take from, as that job: the node's budget
  /// shares its slots fairly between jobs by their ids, and an incremental
  /// declares itself small (its first requests go ahead of full syncs').
  std::shared_ptr<upstream::rate_budget> budget_for(const sync_job& job) const {
    const auto& slots =
      job.triggered_by == job_trigger::schedule && scheduled_budget ? scheduled_budget : budget;
    return std::make_shared<upstream::job_budget>(
      slots, upstream::job_claim(static_cast<std::uint64_t>(job.id),
                                 job.type == job_type::incremental_sync));
  }
};

}  // namespace matchsync
