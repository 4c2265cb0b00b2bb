// One running sync job: drives the sync engine one step at a time on the
// step pool and stays responsive between and during steps, so a cancel is
// handled at once: it cancels the token (which aborts the in-flight upstream
// request and any wait), writes the final state and acknowledges.
//
//  messages in:  step (self), step_done (pool), cancel (coordinator, replies
//                the final row), shutdown (stop at the next step boundary,
//                leaving the job resumable)
//  messages out: (progress, job) and (finished, job) to the coordinator
//
// A failure that is not the upstream's or a fence escapes as an exception:
// the actor dies and the coordinator restarts it from the last committed step.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/job_context.hpp"
#include "core/sync_job.hpp"
#include "persistence/job_store.hpp"

namespace matchsync {

/// Spawns the job actor for `job` (already running and owned per `fence`),
/// monitored by `coordinator`. `restarts` is how often it was restarted.
caf::actor spawn_job_actor(caf::event_based_actor* coordinator,
                           std::shared_ptr<job_context> ctx, sync_job job,
                           db::job_fence fence, int restarts);

}  // namespace matchsync
