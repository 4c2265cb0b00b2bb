// Automatic syncs (SPEC §3 Schedules): every couple of seconds, on the
// control pool, one transaction locks the schedules due now, decides for each
// (core/schedule_rules: start, skip for an active job, defer for the quota
// share), creates the jobs it starts and moves every schedule on. A due time
// runs once: its schedule row is advanced in the transaction that creates its
// job, so a restart (or a second pass) finds it no longer due. The jobs go to
// the coordinator (scheduled, job), which tells and queues them like any job.
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "config/config.hpp"

namespace matchsync {

class blocking_pool;

/// Spawns the scheduler; a pass every `period`, the first at once. A
/// request {run_atom} runs a pass that begins after it (now, or after the
/// one under way) and answers with the number of jobs it started.
/// {shutdown_atom} stops it.
caf::actor spawn_scheduler(caf::actor_system& sys, const config& cfg, blocking_pool& control,
                           caf::actor coordinator, std::chrono::milliseconds period);

}  // namespace matchsync
