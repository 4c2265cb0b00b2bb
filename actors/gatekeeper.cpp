#include "actors/gatekeeper.hpp"

#include "actors/cluster_refusal.hpp"
#include "actors/join_proof.hpp"
#include "actors/messages.hpp"
#include "actors/node_session.hpp"
#include "core/log.hpp"

namespace matchsync {

namespace {

struct gatekeeper_state {
  caf::actor coordinator;
  std::string secret;
  std::chrono::milliseconds cancel_timeout{};
  join_proof::nonce_book nonces;
};

using gatekeeper_t = caf::stateful_actor<gatekeeper_state>;

constexpr const char* gatekeeper_where = "gatekeeper";

// Longest node name and nonce a join may carry: the book keeps them.
constexpr std::size_t max_field = 128;

caf::error refuse(gatekeeper_t* self, const std::string& why, const std::string& node) {
  log_refusal(gatekeeper_where, "join", why, sender_node(self), node.substr(0, max_field));
  return make_error(errc::invalid_input, "join refused");
}

// A join may only come from a remote process that names itself.
const char* check_sender(gatekeeper_t* self) {
  auto& sender = self->current_sender();
  if (!sender)
    return "anonymous sender";
  if (sender->node() == self->node())
    return "sender is local";
  return nullptr;
}

caf::behavior gatekeeper(gatekeeper_t* self, caf::actor coordinator, std::string secret,
                         std::chrono::milliseconds cancel_timeout) {
  auto& st = self->state;
  st.coordinator = std::move(coordinator);
  st.secret = std::move(secret);
  st.cancel_timeout = cancel_timeout;
  self->monitor(st.coordinator);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.coordinator.address())
      self->quit(dm.reason);
  });
  self->set_default_handler(refuse_unknown(gatekeeper_where));
  return {
    [=](join_atom, const std::string& node,
        const std::string& client_nonce) -> caf::result<std::string, std::string> {
      auto& st = self->state;
      if (auto why = check_sender(self))
        return refuse(self, why, node);
      if (st.secret.empty())
        return refuse(self, "no cluster secret configured", node);
      if (node.empty() || node.size() > max_field)
        return refuse(self, "bad node name", node);
      if (client_nonce.size() < 32 || client_nonce.size() > max_field)
        return refuse(self, "bad client nonce", node);
      auto requester = caf::to_string(self->current_sender()->node());
      auto nonce = st.nonces.issue(node, client_nonce, requester,
                                   join_proof::nonce_book::clock::now());
      auto proof = join_proof::coordinator_mac(st.secret, nonce, client_nonce, node);
      return caf::result<std::string, std::string>(std::move(nonce), std::move(proof));
    },
    [=](join_atom, const std::string& nonce, const std::string& mac, node_info& info,
        const caf::actor& agent) -> caf::result<caf::actor, std::string> {
      auto& st = self->state;
      if (auto why = check_sender(self))
        return refuse(self, why, info.node);
      auto peer = self->current_sender()->node();
      join_proof::nonce_book::issued challenge;
      if (auto why = st.nonces.take(nonce, info.node, caf::to_string(peer),
                                    join_proof::nonce_book::clock::now(), challenge))
        return refuse(self, why, info.node);
      auto expected = join_proof::worker_mac(st.secret, nonce, challenge.client_nonce, info.node);
      if (st.secret.empty() || !join_proof::proof_matches(expected, mac))
        return refuse(self, "wrong cluster secret", info.node);
      if (!agent)
        return refuse(self, "null agent", info.node);
      if (agent.node() == self->node())
        return refuse(self, "agent is an actor of the coordinator's process", info.node);
      if (agent.node() != peer)
        return refuse(self, "agent is not an actor of the joining process", info.node);
      if (info.slots < 0 || info.slots > 4096)
        return refuse(self, "bad slot count", info.node);
      info.local = false;  // decided here, never by the peer
      auto token = join_proof::random_nonce();
      auto session = spawn_node_session(self->system(), st.coordinator, agent, info.node, token,
                                        st.cancel_timeout);
      auto rp = self->make_response_promise<caf::actor, std::string>();
      auto name = info.node;
      auto from = caf::to_string(peer);
      self->request(st.coordinator, std::chrono::seconds(10), join_atom::value, std::move(info),
                    session)
        .then([rp, session, token](caf::ok_atom) mutable { rp.deliver(session, token); },
              [self, rp, session, name, from](caf::error& err) mutable {
                log_refusal(gatekeeper_where, "join", message_of(err), from, name);
                self->send_exit(session, caf::exit_reason::user_shutdown);
                rp.deliver(std::move(err));
              });
      return rp;
    },
  };
}

}  // namespace

caf::actor spawn_gatekeeper(caf::actor_system& sys, caf::actor coordinator,
                            std::string secret, std::chrono::milliseconds cancel_timeout) {
  return sys.spawn(gatekeeper, std::move(coordinator), std::move(secret), cancel_timeout);
}

}  // namespace matchsync
