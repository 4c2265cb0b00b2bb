// Every atom and message type the actors exchange, with their inspect()
// overloads, registered once (register_messages) so remote nodes can carry
// them too. Messages are small values.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "core/errors.hpp"
#include "core/sync_job.hpp"

namespace caf {

// CAF 0.17 cannot serialize std::optional: carry it as (has_value, value).
// Found by ADL through the inspector's namespace.
template <class Inspector, class T>
typename std::enable_if<Inspector::reads_state, typename Inspector::result_type>::type
inspect(Inspector& f, std::optional<T>& x) {
  bool has = x.has_value();
  T value = has ? *x : T{};
  return f(has, value);
}

template <class Inspector, class T>
typename std::enable_if<Inspector::writes_state, typename Inspector::result_type>::type
inspect(Inspector& f, std::optional<T>& x) {
  bool has = false;
  T value{};
  auto result = f(has, value);
  if (has)
    x = std::move(value);
  else
    x.reset();
  return result;
}

}  // namespace caf

namespace matchsync {

// Atoms of our own; CAF already has get_atom, ok_atom & co.
using trigger_atom = caf::atom_constant<caf::atom("trigger")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using step_done_atom = caf::atom_constant<caf::atom("stepdone")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
using running_atom = caf::atom_constant<caf::atom("running")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using released_atom = caf::atom_constant<caf::atom("released")>;
using kill_job_atom = caf::atom_constant<caf::atom("killjob")>;
using workers_atom = caf::atom_constant<caf::atom("workers")>;
using budget_atom = caf::atom_constant<caf::atom("budget")>;
/// (alive) from a node agent to the coordinator at every lease tick: its
/// sign of life (GET /workers' last_seen); refused once the node was dropped.
using alive_atom = caf::atom_constant<caf::atom("alive")>;
/// (scheduled, job) from the scheduler to the coordinator: a schedule's job,
/// already created pending; the coordinator tells it and queues it.
using scheduled_atom = caf::atom_constant<caf::atom("scheduled")>;
/// (job_wait_atom, user_id, job_id, reason, wait_ms, waits): a rate-limit
/// wait of a running job, passed up to the coordinator's event bus.
using job_wait_atom = caf::atom_constant<caf::atom("jobwait")>;
/// (hold) from a worker's budget, through its session (token first), and
/// (hold, node) from the session to the coordinator: the upstream said this
/// clock minute's requests are spent (SPEC §2), and the rate budget is the
/// whole cluster's, so no node starts one before the next clock minute. No
/// time travels: each side takes the next clock minute from its own clock.
using hold_atom = caf::atom_constant<caf::atom("hold")>;
/// The coordinator's own: look at the queued lease requests again.
using lease_tick_atom = caf::atom_constant<caf::atom("leasetick")>;

/// The category of our errors inside caf::error.
constexpr caf::atom_value error_category = caf::atom("matchsync");

/// A domain error as a caf::error; the message travels as its context.
caf::error make_error(errc code, std::string message);
/// The domain code and message of a caf::error (timeouts and CAF's own
/// errors map to errc::timeout / errc::internal).
errc code_of(const caf::error& e);
std::string message_of(const caf::error& e);

/// Work to run inside an actor, sent back from a blocking pool thread:
/// local only, never crosses nodes.
struct continuation {
  std::function<void()> fn;
};

/// What one engine step reported (from a pool thread to the job actor).
struct step_report {
  /// waiting: a quota wait began (job.resume_at says until when);
  /// `resume_in_ms` is how long from now.
  enum kind_t { more, done, cancelled, failed, waiting } kind = more;
  std::int64_t resume_in_ms = 0;
  errc code = errc::none;  ///< for failed
  std::string message;     ///< for failed
  sync_job job;            ///< the committed state after the step
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_job& x) {
  return f(caf::meta::type_name("sync_job"), x.id, x.user_id, x.account_id,
           x.type, x.status, x.phase, x.total_matches, x.processed_matches,
           x.new_matches, x.updated_matches, x.failed_matches, x.repaired_matches, x.node, x.attempt,
           x.list_offset, x.list_top_match_id, x.detail_cursor, x.created_at,
           x.started_at, x.completed_at, x.cancel_requested_at, x.error_message,
           x.resume_at, x.triggered_by);
}

/// A node as the coordinator knows it (GET /workers).
struct node_info {
  std::string node;
  std::string host;
  std::int32_t slots = 0;
  std::vector<std::int64_t> running_jobs;
  std::string connected_at;  ///< ISO-8601 UTC
  std::string last_seen;     ///< ISO-8601 UTC
  bool local = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("node_info"), x.node, x.host, x.slots, x.running_jobs,
           x.connected_at, x.last_seen, x.local);
}

/// Registers every message type and the error category with a config.
void register_messages(caf::actor_system_config& cfg);

/// Turns on CAF's heartbeat between nodes (a quarter of `node_timeout`) and
/// its connection timeout (`node_timeout`), so a peer that stops answering
/// without closing its connection (frozen, cut off) is disconnected and its
/// actors seen down. Call before creating an actor system.
void configure_liveness(caf::actor_system_config& cfg, std::chrono::milliseconds node_timeout);

/// The process's actor system configuration: messages registered, the
/// middleman (remote actors) loaded. Created once; outlives every system.
caf::actor_system_config& actor_config();

}  // namespace matchsync

// Local-only messages (from a pool thread to its own actor): never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(matchsync::continuation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(matchsync::step_report)
