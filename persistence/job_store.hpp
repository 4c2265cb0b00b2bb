// The sync_jobs table. Every state change is one conditional UPDATE whose
// WHERE clause is the job rules of SPEC §3, so the database itself refuses a
// forbidden transition, a write to a terminal job, or a write from a stale
// owner (fenced by node and attempt). A refused change returns nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/job_counts.hpp"
#include "core/job_run.hpp"
#include "core/sync_job.hpp"

namespace matchsync::db {

/// Who may write a running job: the owner node at a given attempt.
struct job_fence {
  std::int64_t job_id = 0;
  std::string node;
  std::int32_t attempt = 0;
};

/// Leases belong to a run (job, attempt), not to a job or a node.
using matchsync::job_run;

/// The engine's committed state of a running job: counters, phase and the
/// point to resume from.
struct job_progress {
  std::string phase;  ///< "listing" or "details"
  std::int64_t total_matches = 0;
  std::int64_t processed_matches = 0;
  std::int64_t new_matches = 0;
  std::int64_t updated_matches = 0;
  std::int64_t failed_matches = 0;
  std::int64_t repaired_matches = 0;
  std::int64_t list_offset = 0;
  std::optional<std::int64_t> list_top_match_id;
  std::optional<std::int64_t> detail_cursor;
};

class job_store {
public:
  explicit job_store(pqxx::connection& conn) : conn_(conn) {}

  /// Inserts a pending job. The user's active job makes it
  /// domain_error(conflict) (the partial unique index decides).
  sync_job create(std::int64_t user_id, std::int64_t account_id, job_type type);
  /// An incremental job of the user's schedule (triggered_by "schedule"),
  /// in the caller's transaction; nullopt when the user has an active job.
  static std::optional<sync_job> create_scheduled(pqxx::transaction_base& tx,
                                                  std::int64_t user_id,
                                                  std::int64_t account_id);

  std::optional<sync_job> find(std::int64_t job_id);
  std::optional<sync_job> find_for_user(std::int64_t user_id, std::int64_t job_id);
  std::vector<sync_job> list_for_user(std::int64_t user_id, int limit);
  std::optional<sync_job> active_for_user(std::int64_t user_id);
  std::vector<sync_job> list_by_status(job_status status);
  /// Every job counted by type and status, and the pending and running
  /// ones (id, type, status only), from one snapshot: one scan, read once
  /// when serve starts (the coordinator's counts go on from there; /metrics
  /// never scans).
  struct census {
    std::vector<job_count> totals;
    std::vector<sync_job> active;
  };
  census count_jobs();

  /// pending → running, owned by `node` with a fresh lease and attempt + 1.
  std::optional<sync_job> start(std::int64_t job_id, const std::string& node,
                                int lease_s);
  /// Persists a cancel request of a pending or running job (first one wins).
  std::optional<sync_job> request_cancel(std::int64_t job_id);
  /// The same, only for the user's own job.
  std::optional<sync_job> request_cancel(std::int64_t job_id, std::int64_t user_id);
  /// pending → cancelled.
  std::optional<sync_job> cancel_pending(std::int64_t job_id);
  /// running → cancelled, by the owner (fenced).
  std::optional<sync_job> finish_cancelled(const job_fence& fence);
  /// running → cancelled by the coordinator when the owner did not answer;
  /// the owner's later writes are refused since the job is no longer running.
  std::optional<sync_job> force_cancelled(std::int64_t job_id);
  /// running → completed (fenced; refused once a cancel was requested, so a
  /// cancel racing a completion ends in exactly one terminal state).
  std::optional<sync_job> complete(const job_fence& fence);
  /// running → failed (fenced); → cancelled instead once a cancel was
  /// persisted (a persisted cancel wins over a later failure).
  std::optional<sync_job> fail(const job_fence& fence, const std::string& message);
  /// pending | running → failed, by the coordinator (cancelled when a
  /// cancel was persisted).
  std::optional<sync_job> fail_any(std::int64_t job_id, const std::string& message);

  /// Writes the engine's progress inside the caller's transaction (with the
  /// page's data). False when fenced: not running, another owner or attempt,
  /// or a cancel was requested; the caller must then roll back.
  static bool update_progress(pqxx::transaction_base& tx, const job_fence& fence,
                              const job_progress& progress, int lease_s);

  /// Puts a running job into a quota wait until `resume_at_s` (seconds
  /// since the epoch), fenced; nullopt when the fence refuses (cancelled,
  /// taken over, ended).
  std::optional<sync_job> wait_quota(const job_fence& fence, std::int64_t resume_at_s,
                                     int lease_s);

  /// Renews the leases of exactly `runs` (still running, owned by `node` at
  /// that attempt). Returns those of `runs` whose job now runs under another
  /// node or attempt: taken over, so their actor here must stop.
  std::vector<job_run> renew_leases(const std::string& node, const std::vector<job_run>& runs,
                                    int lease_s);
  /// Renews the lease of one running job (fenced).
  bool renew_lease(const job_fence& fence, int lease_s);
  /// Running jobs whose lease expired: those with a persisted cancel end
  /// cancelled, those that lost their owner `max_attempts` times (planned
  /// handovers not counted) fail with "worker lost" (both returned in
  /// `failed`); the others are taken over by `node` with attempt + 1
  /// (returned, at most `limit`: the free slots).
  std::vector<sync_job> take_over_expired(const std::string& node, int lease_s,
                                          int max_attempts,
                                          std::vector<sync_job>* failed = nullptr,
                                          int limit = 1000000);
  /// Ids of running jobs whose lease expired, oldest first.
  std::vector<std::int64_t> expired_running();
  /// A planned handover of one run (a graceful stop, a clean leave): its
  /// lease ends now, so the next live node resumes it at once, and the run
  /// does not count against max_attempts. False when the run was not ours
  /// any more or its lease had already run out.
  bool hand_over(const job_fence& fence);
  /// The owner of `runs` is known lost (its node was dropped): their leases
  /// end now (counted as lost), so live nodes resume them at once.
  int expire_leases(const std::string& node, const std::vector<job_run>& runs);
  /// Takes over a running job without a persisted cancel, regardless of its lease (the owner is known
  /// gone, e.g. its node disconnected), with attempt + 1.
  std::optional<sync_job> take_over(std::int64_t job_id, const std::string& node,
                                    int lease_s);

  /// Deletes at most `limit` jobs that reached a terminal state (completed,
  /// failed, cancelled) before `cutoff_epoch_s`, oldest first, in one short
  /// transaction; pending and running jobs are never touched, and matches
  /// do not reference jobs. Returns the rows deleted by type and status.
  std::vector<job_count> prune_terminal(std::int64_t cutoff_epoch_s, int limit);

  /// Parses one row of the job select list.
  static sync_job from_row(const pqxx::row& r);

private:
  pqxx::connection& conn_;
};

}  // namespace matchsync::db
