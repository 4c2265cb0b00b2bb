// The only actor published on the cluster port. It answers `join` and
// nothing else: a worker asks for a challenge, proves the cluster secret
// with an HMAC over it (join_proof.hpp), and gets a node session — its one
// way to the coordinator. Every other message, and every join that fails a
// check, is refused with one log line and an error.
//
//  (join, node, client_nonce)                       -> (server_nonce, coordinator_mac)
//  (join, server_nonce, worker_mac, node_info, agent) -> (node session, session token)
//
// The agent must be an actor of the joining process itself: a null handle,
// or one of this process (the coordinator, the gatekeeper, any local actor),
// is refused. Remote nodes are never local: the local node joins the
// coordinator in-process (runtime), never through here.
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

namespace matchsync {

caf::actor spawn_gatekeeper(caf::actor_system& sys, caf::actor coordinator,
                            std::string secret, std::chrono::milliseconds cancel_timeout);

}  // namespace matchsync
