// Job retention (SPEC §1 MATCHSYNC_JOB_RETENTION_DAYS): which terminal jobs
// are old enough to delete, and how a pruning pass is cut into small
// batches. Pure: the pruner actor (actors/job_pruner) runs it, the job
// store deletes. Matches are never pruned.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace matchsync::retention {

using clock = std::chrono::system_clock;

/// How pruning is paced. Small batches keep each DELETE's transaction short
/// (locks, WAL), so a pass never stalls the jobs that run beside it.
struct policy {
  int days = 90;              ///< 0 = keep every job for ever
  int batch_size = 500;       ///< rows per DELETE
  int max_batches = 2000;     ///< per pass; the rest waits for the next pass
  std::chrono::hours period{24};  ///< one pass a day
};

/// Jobs that reached a terminal state strictly before this instant are
/// deleted; nullopt when retention is off (days = 0).
std::optional<clock::time_point> cutoff(const policy& p, clock::time_point now);

/// The cutoff as whole seconds since the epoch (what the store takes),
/// rounded down: a job is never pruned before it is `days` old.
std::int64_t cutoff_epoch_seconds(clock::time_point cutoff);

/// After a batch that deleted `deleted` rows, the `batches_done`-th of this
/// pass: whether to run another now. A short batch means nothing old is left.
bool another_batch(const policy& p, int deleted, int batches_done);

}  // namespace matchsync::retention
