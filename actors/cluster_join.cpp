#include "actors/cluster_join.hpp"

#include "actors/join_proof.hpp"

namespace matchsync {

caf::expected<cluster_link> join_cluster(caf::actor_system& sys, const caf::actor& gatekeeper,
                                       const std::string& secret, const node_info& me,
                                       const caf::actor& agent) {
  caf::scoped_actor self{sys};
  auto timeout = std::chrono::seconds(10);
  auto client_nonce = join_proof::random_nonce();
  std::string server_nonce, proof;
  caf::error failed;
  self->request(gatekeeper, timeout, join_atom::value, me.node, client_nonce)
    .receive(
      [&](std::string& nonce, std::string& mac) {
        server_nonce = std::move(nonce);
        proof = std::move(mac);
      },
      [&](caf::error& err) { failed = std::move(err); });
  if (failed)
    return failed;
  auto expected = join_proof::coordinator_mac(secret, server_nonce, client_nonce, me.node);
  if (secret.empty() || !join_proof::proof_matches(expected, proof))
    return make_error(errc::invalid_input,
                      "the coordinator could not prove the cluster secret "
                      "(MATCHSYNC_CLUSTER_SECRET differs on the two sides)");
  caf::expected<cluster_link> out = cluster_link{};
  self->request(gatekeeper, timeout, join_atom::value, server_nonce,
                join_proof::worker_mac(secret, server_nonce, client_nonce, me.node), me, agent)
    .receive([&](caf::actor& session,
                 std::string& token) { out = cluster_link{std::move(session), std::move(token)}; },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

}  // namespace matchsync
