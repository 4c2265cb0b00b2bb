// The sync_schedules table: one automatic-sync schedule per user (SPEC §3
// Schedules). Times are seconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <pqxx/pqxx>

namespace matchsync::db {

struct schedule_row {
  std::int64_t user_id = 0;
  bool enabled = false;
  int interval_minutes = 0;
  std::optional<std::int64_t> next_run_at;
  std::optional<std::int64_t> last_run_job_id;
};

/// A due schedule, locked for the transaction that runs it.
struct due_schedule {
  std::int64_t user_id = 0;
  std::int64_t account_id = 0;
  int interval_minutes = 0;
  std::int64_t next_run_at = 0;
  bool user_has_active_job = false;
};

class schedule_store {
public:
  /// The user's schedule; nullopt when they never set one (off).
  static std::optional<schedule_row> find(pqxx::transaction_base& tx, std::int64_t user_id);

  /// Sets enabled, interval and the next due time (NULL when off), keeping
  /// the last job; returns the row as stored.
  static schedule_row put(pqxx::transaction_base& tx, std::int64_t user_id, bool enabled,
                          int interval_minutes, std::optional<std::int64_t> next_run_at);

  /// Enabled schedules due at `now`, oldest due first, at most `limit`,
  /// locked FOR UPDATE (rows another pass holds are skipped), with whether
  /// their user has a pending or running job.
  static std::vector<due_schedule> lock_due(pqxx::transaction_base& tx, std::int64_t now,
                                            int limit);

  /// Moves a due schedule on to `next_run_at`; `job_id` (a job it started)
  /// becomes its last run.
  static void advance(pqxx::transaction_base& tx, std::int64_t user_id,
                      std::int64_t next_run_at, std::optional<std::int64_t> job_id);
};

}  // namespace matchsync::db
