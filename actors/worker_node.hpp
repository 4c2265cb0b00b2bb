// The `worker` role: joins the coordinator over CAF, proving the cluster
// secret to its gatekeeper, runs the jobs it is handed on its own slots
// (writing to PostgreSQL directly), and when the coordinator is lost stops its jobs at a step
// boundary and joins again with backoff.
#pragma once

#include <atomic>

#include "config/config.hpp"

namespace matchsync {

/// Runs until `stop` is set. Returns the exit code: 0 after a stop, 2 when
/// the coordinator refuses the node (wrong secret, duplicate node id) or
/// cannot be reached for the first join.
int run_worker_node(const config& cfg, const std::atomic<bool>& stop);

}  // namespace matchsync
