// The actor side of a `serve` process, wired: the CAF system, the blocking
// pools, the cluster's rate budget, the coordinator, this node's agent and
// the event bus. HTTP threads call the blocking facade below; each call is
// one message with a finite timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/event_bus.hpp"
#include "config/config.hpp"
#include "core/errors.hpp"
#include "core/sync_job.hpp"
#include "metrics/metrics.hpp"

namespace matchsync {

/// A job, or the domain error that refused the request.
struct job_result {
  std::optional<sync_job> job;
  errc code = errc::none;
  std::string message;
};

/// A node of the cluster as GET /workers shows it.
struct worker_view {
  std::string node;
  std::string host;
  int slots = 0;
  std::vector<std::int64_t> running_jobs;
  std::string connected_at;
  std::string last_seen;
  bool local = false;
};

class runtime {
public:
  runtime(const config& cfg, std::shared_ptr<metrics> stats);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Publishes the gatekeeper (never the coordinator) for worker nodes on the cluster host and
  /// port when a cluster secret is configured (without one, remote workers
  /// are refused, so nothing listens). Returns the port, 0 when not
  /// listening; throws std::runtime_error when the port cannot be bound.
  int listen_cluster();

  /// Creates a job for the user and queues it (SPEC §3 rules apply).
  job_result trigger(std::int64_t user_id, std::int64_t account_id, job_type type);
  /// Cancels the user's job; answers with the final row.
  job_result cancel(std::int64_t user_id, std::int64_t job_id);
  /// Runs a pass of the schedules now (the scheduler runs one a second
  /// anyway); the number of jobs it started, -1 when it did not answer.
  std::int64_t run_schedules();
  /// Ids of the jobs running on this process's slots.
  std::vector<std::int64_t> running_jobs();
  /// Every node of the cluster, this one included.
  std::vector<worker_view> workers();

  event_bus& bus() { return *bus_; }

  /// Stops job actors at a step boundary (leaving their jobs resumable and
  /// their leases released), within `deadline`, then the actor system.
  void shutdown(std::chrono::milliseconds deadline);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::shared_ptr<event_bus> bus_;
};

}  // namespace matchsync
