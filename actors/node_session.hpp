// One joined remote node as the coordinator sees it: the coordinator knows
// the session as the node's agent, the node knows it as its coordinator.
// Downward it passes the coordinator's run / cancel / killjob on to the
// node's agent and records which jobs it handed over; upward it lets
// through only what node_session_rules allow for that node, sent from that
// node's CAF process with the session's token, and refuses (one log line
// each) everything else. The
// coordinator's own handle never reaches the remote node: answers travel
// back through the session.
//
//  from the coordinator: (run, job), (cancel, job_id) -> sync_job, (killjob, job_id)
//  from the node, each led by the session token (given at the join):
//                        (token, progress, job), (token, finished, job),
//                        (token, released, job_id), (token, jobwait, ...),
//                        (token, budget, count) -> (delays, grace)
//
// Ends when the node's agent or the coordinator goes down; the coordinator,
// which monitors it, then takes the node as gone.
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

namespace matchsync {

caf::actor spawn_node_session(caf::actor_system& sys, caf::actor coordinator,
                              caf::actor agent, std::string node, std::string token,
                              std::chrono::milliseconds cancel_timeout);

}  // namespace matchsync
