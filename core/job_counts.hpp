// Sync jobs by type and status (the matchsync_jobs gauge of /metrics) as the
// coordinator sees them change, so that a scrape reads memory and never
// sync_jobs. Counted once from the database at start, then kept by every row
// the coordinator publishes and every batch job retention deletes. Pure and
// thread-safe: the coordinator and the pruner write, HTTP threads read.
//
// What it cannot see: jobs deleted by another process (`matchsync user
// remove` only deletes terminal ones) stay counted until the next start.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/sync_job.hpp"

namespace matchsync {

/// How many jobs of one type have one status.
struct job_count {
  job_type type = job_type::incremental_sync;
  job_status status = job_status::pending;
  std::int64_t n = 0;

  friend bool operator==(const job_count& a, const job_count& b) {
    return a.type == b.type && a.status == b.status && a.n == b.n;
  }
};

class job_counts {
public:
  /// The database at start: its counts by (type, status) and its pending
  /// and running jobs (only their id, type and status matter). Replaces
  /// whatever was counted before.
  void load(const std::vector<job_count>& totals, const std::vector<sync_job>& active);

  /// Folds one row the coordinator published. Rows may come twice (a
  /// cancel's answer and the job actor's last word), late (a progress
  /// report behind the final row) or out of order, so: a job that ended
  /// stays ended, running never goes back to pending, and only a pending
  /// row makes a job the counts did not know (jobs are born pending, through
  /// the coordinator). Rows before load() are ignored: the load counts them.
  void apply(const sync_job& row);

  /// Terminal rows deleted (job retention).
  void removed(const std::vector<job_count>& gone);

  /// Jobs the counts hold as running: the coordinator reads back those no
  /// node runs any more (a final row lost with a worker's link).
  std::vector<std::int64_t> running_ids() const;

  bool loaded() const;
  /// Every (type, status) pair, zeros included; empty before load().
  std::vector<job_count> snapshot() const;

  /// How many ended ids are remembered to refuse their late rows; a
  /// repeat comes within milliseconds.
  static constexpr std::size_t ended_kept = 4096;

private:
  struct active_job {
    job_type type;
    job_status status;
  };
  std::int64_t& at(job_type t, job_status s);
  void remember_end(std::int64_t id);

  mutable std::mutex mutex_;
  bool loaded_ = false;
  std::int64_t counts_[2][5] = {};
  std::unordered_map<std::int64_t, active_job> active_;
  std::unordered_set<std::int64_t> ended_;
  std::deque<std::int64_t> ended_order_;
};

}  // namespace matchsync
