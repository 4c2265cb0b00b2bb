// The worker's side of the join (join_proof.hpp has the exchange): asks the
// gatekeeper for a challenge, checks that the other side knows the secret
// too (a stranger at the coordinator's address learns nothing and gets no
// worker), and answers with its proof. Blocking: call it from the worker's
// own thread, never from an actor.
#pragma once

#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace matchsync {

/// What a join gives: the node's session and the token that leads every
/// message the node sends it.
struct cluster_link {
  caf::actor session;
  std::string token;
};

/// The link the gatekeeper handed out, or why the join failed (a message
/// that never contains the secret or a proof).
caf::expected<cluster_link> join_cluster(caf::actor_system& sys, const caf::actor& gatekeeper,
                                       const std::string& secret, const node_info& me,
                                       const caf::actor& agent);

}  // namespace matchsync
