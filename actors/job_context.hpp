// What every job actor of a node shares: settings, pools, the rate budget
// and metrics. Owned by the runtime; outlives every actor.
#pragma once

#include "actors/blocking_pool.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync {

struct job_context {
  config cfg;
  blocking_pool* steps = nullptr;    ///< engine steps (DB + upstream)
  blocking_pool* control = nullptr;  ///< short DB writes: state changes, cancels
  upstream::rate_budget* budget = nullptr;
  metrics* stats = nullptr;
};

}  // namespace matchsync
