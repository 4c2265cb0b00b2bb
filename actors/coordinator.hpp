// The coordinator: owns the job rules. It creates jobs (one active per user,
// enforced here and by the database), dispatches pending jobs to free slots,
// routes cancels (durable, acknowledged, bounded), supervises job actors
// (restart from the last committed step with backoff, bounded), renews its
// jobs' leases and reclaims jobs whose owner went silent, and publishes every
// job change to the event bus.
//
//  requests:  (trigger, user_id, account_id, job_type) -> sync_job
//             (cancel, user_id, job_id)                -> sync_job (cancelled)
//             (get, running)                           -> std::vector<int64_t>
//             (shutdown)                               -> stops job actors at a
//                                                         step boundary, then quits
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/event_bus.hpp"
#include "actors/job_context.hpp"

namespace matchsync {

caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                             std::shared_ptr<event_bus> bus);

}  // namespace matchsync
