// The coordinator: owns the job rules. It creates jobs (one active per user,
// enforced here and by the database), dispatches pending jobs to the node
// with the most free slots (its own node agent included, and the sessions
// of worker nodes the gatekeeper admitted), routes cancels (durable,
// acknowledged, bounded), reclaims jobs whose owner went silent or whose
// node left, hands out the cluster's upstream budget, and publishes every job
// change to the event bus.
//
//  requests:  (trigger, user_id, account_id, job_type)  -> sync_job
//             (cancel, user_id, job_id)                 -> sync_job (cancelled)
//             (join, node_info, agent)                  -> ok | error; only from
//                                                          this process: the
//                                                          runtime (local node) or
//                                                          the gatekeeper (a remote
//                                                          node's session as agent)
//             (get, workers)                            -> std::vector<node_info>
//             (budget, count)                           -> (delays ms, grace ms);
//                                                          no delays: unlimited
//             (shutdown)                                -> stops the local agent, quits
//             (alive)                                   -> ok | error (a node's sign of
//                                                          life; refused once dropped)
//  from node agents: (progress, job), (finished, job), (released, job_id, attempt)
//
// Nodes, slots and runs are kept in a membership (actors/membership.hpp),
// keyed by run (job, attempt). A node is dropped when its agent is down or
// when it was silent past the node timeout; its runs' leases end at once.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/event_bus.hpp"
#include "actors/job_context.hpp"

namespace matchsync::upstream {
class local_rate_budget;
}

namespace matchsync {

caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                             std::shared_ptr<event_bus> bus,
                             std::shared_ptr<upstream::local_rate_budget> budget);

}  // namespace matchsync
