// The sync job as every layer sees it: a plain value, as stored in sync_jobs.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace matchsync {

enum class job_status { pending, running, completed, failed, cancelled };
enum class job_type { incremental_sync, full_sync };
/// Who started a job: a user (the API, the dashboard) or their schedule.
enum class job_trigger { user, schedule };

const char* to_string(job_status s);
const char* to_string(job_type t);
const char* to_string(job_trigger t);
std::optional<job_status> parse_job_status(const std::string& s);
std::optional<job_type> parse_job_type(const std::string& s);
std::optional<job_trigger> parse_job_trigger(const std::string& s);
inline std::ostream& operator<<(std::ostream& os, job_status s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, job_type t) { return os << to_string(t); }

/// True for completed, failed and cancelled: nothing changes them any more.
inline bool is_terminal(job_status s) {
  return s == job_status::completed || s == job_status::failed ||
         s == job_status::cancelled;
}

/// One row of sync_jobs. Timestamps are ISO-8601 UTC text, as the API shows them.
struct sync_job {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::int64_t account_id = 0;
  job_type type = job_type::incremental_sync;
  job_status status = job_status::pending;
  std::optional<std::string> phase;  ///< "listing" / "details" while running
  std::int64_t total_matches = 0;
  std::int64_t processed_matches = 0;
  std::int64_t new_matches = 0;
  std::int64_t updated_matches = 0;
  std::int64_t failed_matches = 0;
  /// Matches whose details were stored with the escapes jsonb refuses
  /// replaced by U+FFFD (SPEC §2).
  std::int64_t repaired_matches = 0;
  std::optional<std::string> node;
  std::int32_t attempt = 0;
  // Resume point of the sync engine (not part of the API).
  std::int64_t list_offset = 0;
  std::optional<std::int64_t> list_top_match_id;
  std::optional<std::int64_t> detail_cursor;
  std::string created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::optional<std::string> cancel_requested_at;
  std::optional<std::string> error_message;
  /// Set while a running job waits for the upstream's daily quota (phase
  /// "waiting_quota" in the API); `phase` keeps the phase it resumes in.
  std::optional<std::string> resume_at;
  job_trigger triggered_by = job_trigger::user;

  /// Share of the work done, 0..100 with one decimal; 100 once completed.
  double progress_percentage() const;
};

}  // namespace matchsync
