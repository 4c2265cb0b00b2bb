// The job state machine of SPEC §3 as one table. The coordinator asks it;
// the database mirrors it in job_store's conditional UPDATEs.
//
//              start               complete
//   pending ----------> running -------------> completed
//     |  |               |  |  |
//     |  | cancel        |  |  +- fail -------> failed
//     |  |               |  |                     ^
//     |  |               |  +- lose_owner -> running (resumed elsewhere)
//     |  v               |                        |
//     |  cancelled <- cancel                      |
//     +------------------ fail -------------------+
//
// Terminal states (completed, failed, cancelled) refuse every event.
#pragma once

#include <optional>

#include "core/sync_job.hpp"

namespace matchsync {

enum class job_event {
  start,       ///< dispatched to a node
  cancel,      ///< the user cancelled
  complete,    ///< the engine finished
  fail,        ///< an error ended the job
  lose_owner,  ///< the owner's lease expired or its node left: resume elsewhere
};

inline constexpr job_event all_job_events[] = {
  job_event::start, job_event::cancel, job_event::complete, job_event::fail,
  job_event::lose_owner};
inline constexpr job_status all_job_statuses[] = {
  job_status::pending, job_status::running, job_status::completed,
  job_status::failed, job_status::cancelled};

const char* to_string(job_event e);

/// The state after `event`, or nullopt when the rules refuse it.
std::optional<job_status> next_status(job_status current, job_event event);

/// Only pending or running jobs can be cancelled.
inline bool can_cancel(job_status s) {
  return next_status(s, job_event::cancel).has_value();
}

/// SPEC §3 "Schedules": scheduled runs give way to syncs users start. A
/// user's trigger that meets their own active job (one active job per user)
/// cancels it and starts in its place when that job was started by the
/// schedule and does no work now: still pending, or parked in a quota wait
/// (it met the scheduled share, which may hold it until the next quota day
/// while the user's own sync could run on the rest). A scheduled run that is
/// working keeps its place (409), as any active job does: the user may
/// cancel it. Its committed pages stay either way.
inline bool gives_way_to_user_trigger(const sync_job& active) {
  if (active.triggered_by != job_trigger::schedule)
    return false;
  return active.status == job_status::pending ||
         (active.status == job_status::running && active.resume_at.has_value());
}

}  // namespace matchsync
