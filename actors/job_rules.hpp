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

}  // namespace matchsync
