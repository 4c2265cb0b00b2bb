#include "actors/cluster_transport.hpp"

#include <set>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/messages.hpp"
#include "core/cluster_cert.hpp"
#include "core/log.hpp"

namespace matchsync {

void check_cluster_link(const config& cfg, const std::string& host) {
  if (cluster_tls_on(cfg)) {
    auto problem = cluster_cert::check_node_files(cfg.cluster_ca, cfg.cluster_cert,
                                                  cfg.cluster_key);
    if (!problem.empty())
      throw config_error(problem);
    return;
  }
  if (is_loopback_host(host))
    return;
  if (cfg.cluster_tls != "off")
    throw config_error(
      "MATCHSYNC_CLUSTER_CA, MATCHSYNC_CLUSTER_CERT, MATCHSYNC_CLUSTER_KEY: required for "
      "a cluster link beyond loopback ('" + host + "'); make them with 'matchsync cluster "
      "ca' and 'matchsync cluster cert', or set MATCHSYNC_CLUSTER_TLS=off to accept a "
      "plain, unauthenticated link");
  log::warn("cluster link without TLS beyond loopback (MATCHSYNC_CLUSTER_TLS=off): "
            "anyone on the path can read and inject cluster messages",
            {{"host", host}});
}

caf::actor_system_config& cluster_actor_config(const config& cfg) {
  auto& c = actor_config();
  // Loaded once; without files the module stays idle (publish and
  // remote_actor below only use it when TLS is on).
  static bool openssl_loaded = false;
  bool tls = cluster_tls_on(cfg);
  if (tls && !openssl_loaded) {
    c.load<caf::openssl::manager>();
    openssl_loaded = true;
  }
  // With a certificate CAF 0.17.6 requires one from the peer too
  // (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, both sides) and
  // checks it against these CAs only; without one it would fall back to
  // anonymous ciphers.
  c.openssl_cafile = tls ? cfg.cluster_ca : "";
  c.openssl_certificate = tls ? cfg.cluster_cert : "";
  c.openssl_key = tls ? cfg.cluster_key : "";
  // CAF's heartbeat and connection timeout from the node timeout: a peer
  // that stops answering without closing its connection is seen down.
  configure_liveness(c, std::chrono::seconds(node_timeout_s(cfg)));
  return c;
}

int publish_cluster(caf::actor_system& system, const caf::actor& whom, const config& cfg) {
  auto port = static_cast<std::uint16_t>(cfg.cluster_port);
  auto host = cfg.cluster_host.c_str();
  auto bound = cluster_tls_on(cfg) ? caf::openssl::publish(whom, port, host, true)
                                   : system.middleman().publish(whom, port, host, true);
  if (!bound)
    throw std::runtime_error("cannot listen for workers on " + cfg.cluster_host + ":" +
                             std::to_string(cfg.cluster_port) + ": " +
                             system.render(bound.error()));
  return *bound;
}

caf::expected<caf::actor> connect_cluster(caf::actor_system& system, const std::string& host,
                                          std::uint16_t port, const config& cfg,
                                          std::chrono::milliseconds timeout) {
  // What caf::(openssl::)remote_actor does, with a deadline.
  auto mm = cluster_tls_on(cfg) ? system.openssl_manager().actor_handle()
                                : system.middleman().actor_handle();
  caf::expected<caf::actor> out{caf::sec::cannot_connect_to_node};
  caf::scoped_actor self{system};
  self->request(mm, timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        if (ptr)
          out = caf::actor_cast<caf::actor>(std::move(ptr));
        else
          out = caf::make_error(caf::sec::no_actor_published_at_port);
      },
      [&](caf::error& err) { out = std::move(err); });
  return out;
}

}  // namespace matchsync
