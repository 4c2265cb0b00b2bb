// Job retention's actor: once a period (a day) it deletes the terminal jobs
// older than the retention (core/job_retention), a small batch at a time on
// the control pool, and counts the rows in /metrics. The `serve` process
// runs one beside its coordinator (actors/runtime).
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "core/job_retention.hpp"

namespace matchsync {

class blocking_pool;
class metrics;

/// Spawns the pruner; its first pass runs after `first_delay`, then one a
/// `policy.period`. A request {run_atom} runs a pass now (or joins the one
/// under way) and answers with the rows it deleted. {shutdown_atom} stops
/// it (a batch in flight finishes on its own).
caf::actor spawn_job_pruner(caf::actor_system& sys, retention::policy policy,
                            blocking_pool& control, metrics* stats,
                            std::chrono::milliseconds first_delay);

}  // namespace matchsync
