// How nodes reach each other: CAF's middleman over mutual TLS with the
// cluster CA (libcaf_openssl) when the three cluster files are set, plain
// TCP otherwise, which only loopback may carry unless MATCHSYNC_CLUSTER_TLS
// is off. The coordinator publishes with publish_cluster, a worker connects
// with connect_cluster; nothing else in the cluster code knows which it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "config/config.hpp"

namespace matchsync {

/// Checks the cluster link before a node starts: with TLS, that the CA,
/// certificate and key are usable together (CAF would only find out at the
/// first connection, inside its I/O thread); without, that `host` (serve:
/// the cluster host; worker: the coordinator's host) is loopback, unless
/// MATCHSYNC_CLUSTER_TLS=off, which logs a warning. Throws config_error
/// naming the setting.
void check_cluster_link(const config& cfg, const std::string& host);

/// The process's actor system configuration (actor_config()) with the
/// openssl module loaded and the cluster's files set when TLS is on. One TLS
/// setting per process: every system built from it shares the files.
caf::actor_system_config& cluster_actor_config(const config& cfg);

/// Publishes `whom` on the cluster host and port, over TLS when it is on.
/// Returns the port; throws std::runtime_error when it cannot be bound.
int publish_cluster(caf::actor_system& system, const caf::actor& whom, const config& cfg);

/// Connects to the actor published at host:port, over TLS when it is on,
/// waiting at most `timeout` (CAF's own remote_actor waits for ever on a
/// peer that accepts and never answers). A peer that fails the TLS
/// handshake is an error, like a closed port.
caf::expected<caf::actor> connect_cluster(
  caf::actor_system& system, const std::string& host, std::uint16_t port,
  const config& cfg, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace matchsync
