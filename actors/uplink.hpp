// A worker node's way up to the coordinator: its node agent and its leased
// budget talk to the uplink, which passes their messages on to the node
// session the gatekeeper handed out. The agent exists before the join (the
// join names it), the session only after: until the uplink is told the
// session, it keeps what arrives in its mailbox. Ends when the session does.
//
//  from this process: (join, session, token)  where to pass messages, and
//                     the session token that leads each of them
//  passed on:         (progress, job), (finished, job),
//                     (released, job_id, attempt), (jobwait, ...),
//                     (alive) -> ok, (budget, count) -> (delays, grace),
//                     (budget, count, job_id) -> (delays, grace)
#pragma once

#include <caf/all.hpp>

namespace matchsync {

caf::actor spawn_uplink(caf::actor_system& sys);

}  // namespace matchsync
