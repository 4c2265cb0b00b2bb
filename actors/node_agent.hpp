// A node's job slots: spawns the job actors the coordinator hands it,
// supervises them (a crashed job actor is restarted from its last committed
// step with backoff, a bounded number of times, then the job fails with the
// error), renews the node's leases, and reports every change upward.
// One per process: in `serve` beside the coordinator, in `worker` joined to
// a remote coordinator over CAF.
//
//  from the coordinator: (run, job)            start a job the database gave us
//                        (cancel, job_id, attempt) -> that run's final row
//                        (killjob, job_id)     stop it by force
//                        (get, running)        -> std::vector<int64_t>
//                        (shutdown)            stop at step boundaries, hand the
//                                              runs over, then quit
//  from its process:     (join)                the coordinator accepted our join:
//                                              `alive` may start
//  to the coordinator:   (progress, job), (finished, job), (released, job_id,
//                        attempt), (alive) every lease tick -> ok | error
//                        (dropped: the agent leaves and the worker joins again)
//
// Slots are keyed by run (job, attempt); leases are renewed for exactly
// those runs, and a run the database says was taken over is stopped.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/job_context.hpp"

namespace matchsync {

/// `coordinator` is the coordinator itself in `serve`, the uplink in a
/// worker (`remote`: a refused `alive` then means the node was dropped).
caf::actor spawn_node_agent(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                            caf::actor coordinator, bool remote);

}  // namespace matchsync
