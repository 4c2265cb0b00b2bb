#include "persistence/job_store.hpp"

#include <algorithm>

#include "persistence/database.hpp"

namespace matchsync::db {

namespace {

#define MS_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// The select list every query returns, in from_row's order.
#define MS_JOB_COLUMNS                                                        \
  "id, user_id, account_id, job_type::text, status::text, phase, "            \
  "total_matches, processed_matches, new_matches, updated_matches, "          \
  "failed_matches, node, attempt, list_offset, list_top_match_id, "           \
  "detail_cursor, " MS_TS("created_at") ", " MS_TS("started_at") ", "         \
  MS_TS("completed_at") ", " MS_TS("cancel_requested_at") ", error_message, " \
  MS_TS("resume_at") ", triggered_by, repaired_matches"

constexpr const char* insert_job_sql =
  "INSERT INTO sync_jobs (user_id, account_id, job_type) "
  "VALUES ($1, $2, $3::job_type) RETURNING " MS_JOB_COLUMNS;
// A schedule's job: refused without an error (no row) when the user has an
// active job, the partial unique index saying so inside the scheduler's
// transaction, which an error would abort.
constexpr const char* insert_scheduled_sql =
  "INSERT INTO sync_jobs (user_id, account_id, job_type, triggered_by) "
  "VALUES ($1, $2, 'incremental_sync', 'schedule') "
  "ON CONFLICT (user_id) WHERE status IN ('pending', 'running') DO NOTHING "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* find_job_sql =
  "SELECT " MS_JOB_COLUMNS " FROM sync_jobs WHERE id = $1";
constexpr const char* find_for_user_sql =
  "SELECT " MS_JOB_COLUMNS " FROM sync_jobs WHERE id = $1 AND user_id = $2";
constexpr const char* list_for_user_sql =
  "SELECT " MS_JOB_COLUMNS " FROM sync_jobs WHERE user_id = $1 "
  "ORDER BY id DESC LIMIT $2";
constexpr const char* active_for_user_sql =
  "SELECT " MS_JOB_COLUMNS " FROM sync_jobs WHERE user_id = $1 "
  "AND status IN ('pending', 'running')";
constexpr const char* list_by_status_sql =
  "SELECT " MS_JOB_COLUMNS " FROM sync_jobs WHERE status = $1::job_status "
  "ORDER BY id";

constexpr const char* start_sql =
  "UPDATE sync_jobs SET status = 'running', phase = 'listing', "
  "started_at = now(), node = $2, attempt = attempt + 1, "
  "lease_expires_at = now() + make_interval(secs => $3) "
  "WHERE id = $1 AND status = 'pending' AND cancel_requested_at IS NULL "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* request_cancel_sql =
  "UPDATE sync_jobs SET cancel_requested_at = coalesce(cancel_requested_at, now()) "
  "WHERE id = $1 AND status IN ('pending', 'running') RETURNING " MS_JOB_COLUMNS;
constexpr const char* request_cancel_for_user_sql =
  "UPDATE sync_jobs SET cancel_requested_at = coalesce(cancel_requested_at, now()) "
  "WHERE id = $1 AND user_id = $2 AND status IN ('pending', 'running') "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* cancel_pending_sql =
  "UPDATE sync_jobs SET status = 'cancelled', phase = NULL, resume_at = NULL, "
  "completed_at = now(), error_message = 'Cancelled by user', "
  "cancel_requested_at = coalesce(cancel_requested_at, now()) "
  "WHERE id = $1 AND status = 'pending' RETURNING " MS_JOB_COLUMNS;
constexpr const char* finish_cancelled_sql =
  "UPDATE sync_jobs SET status = 'cancelled', phase = NULL, resume_at = NULL, "
  "completed_at = now(), error_message = 'Cancelled by user', "
  "lease_expires_at = NULL, "
  "cancel_requested_at = coalesce(cancel_requested_at, now()) "
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* force_cancelled_sql =
  "UPDATE sync_jobs SET status = 'cancelled', phase = NULL, resume_at = NULL, "
  "completed_at = now(), error_message = 'Cancelled by user', "
  "lease_expires_at = NULL, "
  "cancel_requested_at = coalesce(cancel_requested_at, now()) "
  "WHERE id = $1 AND status = 'running' RETURNING " MS_JOB_COLUMNS;
constexpr const char* complete_sql =
  "UPDATE sync_jobs SET status = 'completed', phase = NULL, resume_at = NULL, "
  "completed_at = now(), lease_expires_at = NULL "
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 "
  "AND cancel_requested_at IS NULL RETURNING " MS_JOB_COLUMNS;
// A failure after a persisted cancel ends the job cancelled (SPEC §3: once a
// cancel is persisted the job ends cancelled unless it had completed).
#define MS_FAIL_OR_CANCEL(msg)                                                  \
  "status = CASE WHEN cancel_requested_at IS NULL THEN 'failed'::job_status "   \
  "ELSE 'cancelled'::job_status END, phase = NULL, resume_at = NULL, "           \
  "completed_at = now(), "                                                      \
  "lease_expires_at = NULL, error_message = CASE WHEN cancel_requested_at "     \
  "IS NULL THEN " msg " ELSE 'Cancelled by user' END "
constexpr const char* fail_sql =
  "UPDATE sync_jobs SET " MS_FAIL_OR_CANCEL("$4")
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* fail_any_sql =
  "UPDATE sync_jobs SET " MS_FAIL_OR_CANCEL("$2")
  "WHERE id = $1 AND status IN ('pending', 'running') RETURNING " MS_JOB_COLUMNS;
constexpr const char* update_progress_sql =
  "UPDATE sync_jobs SET phase = $4, total_matches = $5, processed_matches = $6, "
  "new_matches = $7, updated_matches = $8, failed_matches = $9, "
  "list_offset = $10, list_top_match_id = $11, detail_cursor = $12, "
  "lease_expires_at = now() + make_interval(secs => $13), resume_at = NULL, "
  "repaired_matches = $14 "
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 "
  "AND cancel_requested_at IS NULL";
// A quota wait: the job stays running (its phase kept for the resume), and
// says until when it waits; fenced like a step's commit.
constexpr const char* wait_quota_sql =
  "UPDATE sync_jobs SET resume_at = to_timestamp($4), "
  "lease_expires_at = now() + make_interval(secs => $5) "
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 "
  "AND cancel_requested_at IS NULL RETURNING " MS_JOB_COLUMNS;
// Renews exactly the (job, attempt) pairs the agent runs, and names those
// of them that run elsewhere or at a later attempt now (taken over: their
// actor here is stale).
constexpr const char* renew_leases_sql =
  "WITH mine AS (SELECT * FROM unnest($2::bigint[], $3::integer[]) AS m(id, attempt)), "
  "renewed AS (UPDATE sync_jobs j "
  "  SET lease_expires_at = now() + make_interval(secs => $4) FROM mine "
  "  WHERE j.id = mine.id AND j.attempt = mine.attempt AND j.node = $1 "
  "  AND j.status = 'running' RETURNING j.id) "
  "SELECT mine.id, mine.attempt FROM mine JOIN sync_jobs j ON j.id = mine.id "
  "WHERE j.status = 'running' AND (j.node IS DISTINCT FROM $1 OR j.attempt <> mine.attempt)";
constexpr const char* expired_running_sql =
  "SELECT id FROM sync_jobs WHERE status = 'running' AND lease_expires_at < now() "
  "ORDER BY id";
// SKIP LOCKED: a row another transaction holds is simply left for the next
// pass. The partial index of migration 003 finds the oldest terminal rows.
constexpr const char* prune_terminal_sql =
  "WITH gone AS (DELETE FROM sync_jobs WHERE id IN (SELECT id FROM sync_jobs "
  "  WHERE status IN ('completed', 'failed', 'cancelled') "
  "  AND completed_at < to_timestamp($1) "
  "  ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
  "  RETURNING job_type, status) "
  "SELECT job_type::text, status::text, count(*) FROM gone GROUP BY 1, 2";
// One statement, so the counts and the active ids are one snapshot.
constexpr const char* count_jobs_sql =
  "SELECT job_type::text, status::text, count(*), "
  "  coalesce(string_agg(id::text, ',') FILTER (WHERE status IN ('pending', 'running')), '') "
  "FROM sync_jobs GROUP BY 1, 2";
// A planned handover: the lease ends now and the run does not count as lost.
// Only a live lease is handed over, so a repeated call counts once.
constexpr const char* hand_over_sql =
  "UPDATE sync_jobs SET lease_expires_at = now(), handovers = handovers + 1 "
  "WHERE id = $1 AND node = $2 AND attempt = $3 AND status = 'running' "
  "AND lease_expires_at > now()";
// The owner is known lost (its node was dropped): the leases of the runs it
// had end now, and they count as lost.
constexpr const char* expire_leases_sql =
  "UPDATE sync_jobs j SET lease_expires_at = now() "
  "FROM unnest($2::bigint[], $3::integer[]) AS m(id, attempt) "
  "WHERE j.id = m.id AND j.attempt = m.attempt AND j.node = $1 "
  "AND j.status = 'running' AND j.lease_expires_at > now()";
constexpr const char* renew_lease_sql =
  "UPDATE sync_jobs SET lease_expires_at = now() + make_interval(secs => $4) "
  "WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3";
// An expired lease whose job had a cancel persisted ends cancelled, never
// resumed; one that lost its owner job_max_attempts times (planned handovers
// not counted) fails with "worker lost".
constexpr const char* fail_expired_sql =
  "UPDATE sync_jobs SET " MS_FAIL_OR_CANCEL("'worker lost'")
  "WHERE status = 'running' AND lease_expires_at < now() "
  "AND (attempt - handovers >= $1 OR cancel_requested_at IS NOT NULL) "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* take_over_expired_sql =
  "UPDATE sync_jobs SET node = $1, attempt = attempt + 1, "
  "lease_expires_at = now() + make_interval(secs => $2) "
  "WHERE id IN (SELECT id FROM sync_jobs WHERE status = 'running' "
  "  AND lease_expires_at < now() AND attempt - handovers < $3 "
  "  AND cancel_requested_at IS NULL ORDER BY id LIMIT $4 "
  "  FOR UPDATE SKIP LOCKED) "
  "RETURNING " MS_JOB_COLUMNS;
constexpr const char* take_over_sql =
  "UPDATE sync_jobs SET node = $2, attempt = attempt + 1, "
  "lease_expires_at = now() + make_interval(secs => $3) "
  "WHERE id = $1 AND status = 'running' AND cancel_requested_at IS NULL "
  "RETURNING " MS_JOB_COLUMNS;

std::optional<sync_job> first_job(const pqxx::result& r) {
  if (r.empty())
    return std::nullopt;
  return job_store::from_row(r[0]);
}

std::vector<sync_job> all(const pqxx::result& r) {
  std::vector<sync_job> out;
  out.reserve(r.size());
  for (auto row : r)
    out.push_back(job_store::from_row(row));
  return out;
}

// Runs one statement in its own transaction and returns its rows.
template <class... Args>
pqxx::result exec_once(pqxx::connection& conn, const char* sql, Args&&... args) {
  return translate_errors([&] {
    pqxx::work tx(conn);
    auto r = tx.exec_params(sql, std::forward<Args>(args)...);
    tx.commit();
    return r;
  });
}

}  // namespace

sync_job job_store::from_row(const pqxx::row& r) {
  sync_job j;
  j.id = r[0].as<std::int64_t>();
  j.user_id = r[1].as<std::int64_t>();
  j.account_id = r[2].as<std::int64_t>();
  j.type = parse_job_type(r[3].as<std::string>()).value_or(job_type::incremental_sync);
  j.status = parse_job_status(r[4].as<std::string>()).value_or(job_status::failed);
  j.phase = r[5].get<std::string>();
  j.total_matches = r[6].as<std::int64_t>();
  j.processed_matches = r[7].as<std::int64_t>();
  j.new_matches = r[8].as<std::int64_t>();
  j.updated_matches = r[9].as<std::int64_t>();
  j.failed_matches = r[10].as<std::int64_t>();
  j.node = r[11].get<std::string>();
  j.attempt = r[12].as<std::int32_t>();
  j.list_offset = r[13].as<std::int64_t>();
  j.list_top_match_id = r[14].get<std::int64_t>();
  j.detail_cursor = r[15].get<std::int64_t>();
  j.created_at = r[16].as<std::string>();
  j.started_at = r[17].get<std::string>();
  j.completed_at = r[18].get<std::string>();
  j.cancel_requested_at = r[19].get<std::string>();
  j.error_message = r[20].get<std::string>();
  j.resume_at = r[21].get<std::string>();
  j.triggered_by = parse_job_trigger(r[22].as<std::string>()).value_or(job_trigger::user);
  j.repaired_matches = r[23].as<std::int64_t>();
  return j;
}

sync_job job_store::create(std::int64_t user_id, std::int64_t account_id,
                           job_type type) {
  return translate_errors([&] {
    try {
      pqxx::work tx(conn_);
      auto r = tx.exec_params1(insert_job_sql, user_id, account_id, to_string(type));
      tx.commit();
      return from_row(r);
    } catch (const pqxx::unique_violation&) {
      throw domain_error(errc::conflict, "A sync job is already active");
    }
  });
}

std::optional<sync_job> job_store::create_scheduled(pqxx::transaction_base& tx,
                                                    std::int64_t user_id,
                                                    std::int64_t account_id) {
  auto r = tx.exec_params(insert_scheduled_sql, user_id, account_id);
  if (r.empty())
    return std::nullopt;
  return from_row(r[0]);
}

std::optional<sync_job> job_store::find(std::int64_t job_id) {
  return first_job(exec_once(conn_, find_job_sql, job_id));
}

std::optional<sync_job> job_store::find_for_user(std::int64_t user_id,
                                                 std::int64_t job_id) {
  return first_job(exec_once(conn_, find_for_user_sql, job_id, user_id));
}

std::vector<sync_job> job_store::list_for_user(std::int64_t user_id, int limit) {
  return all(exec_once(conn_, list_for_user_sql, user_id, limit));
}

std::optional<sync_job> job_store::active_for_user(std::int64_t user_id) {
  return first_job(exec_once(conn_, active_for_user_sql, user_id));
}

std::vector<sync_job> job_store::list_by_status(job_status status) {
  return all(exec_once(conn_, list_by_status_sql, to_string(status)));
}

std::optional<sync_job> job_store::start(std::int64_t job_id,
                                         const std::string& node, int lease_s) {
  return first_job(exec_once(conn_, start_sql, job_id, node, lease_s));
}

std::optional<sync_job> job_store::request_cancel(std::int64_t job_id) {
  return first_job(exec_once(conn_, request_cancel_sql, job_id));
}

std::optional<sync_job> job_store::request_cancel(std::int64_t job_id,
                                                  std::int64_t user_id) {
  return first_job(exec_once(conn_, request_cancel_for_user_sql, job_id, user_id));
}

std::optional<sync_job> job_store::cancel_pending(std::int64_t job_id) {
  return first_job(exec_once(conn_, cancel_pending_sql, job_id));
}

std::optional<sync_job> job_store::finish_cancelled(const job_fence& f) {
  return first_job(exec_once(conn_, finish_cancelled_sql, f.job_id, f.node, f.attempt));
}

std::optional<sync_job> job_store::force_cancelled(std::int64_t job_id) {
  return first_job(exec_once(conn_, force_cancelled_sql, job_id));
}

std::optional<sync_job> job_store::complete(const job_fence& f) {
  return first_job(exec_once(conn_, complete_sql, f.job_id, f.node, f.attempt));
}

std::optional<sync_job> job_store::fail(const job_fence& f,
                                        const std::string& message) {
  return first_job(exec_once(conn_, fail_sql, f.job_id, f.node, f.attempt, message));
}

std::optional<sync_job> job_store::fail_any(std::int64_t job_id,
                                            const std::string& message) {
  return first_job(exec_once(conn_, fail_any_sql, job_id, message));
}

bool job_store::update_progress(pqxx::transaction_base& tx, const job_fence& f,
                                const job_progress& p, int lease_s) {
  auto r = tx.exec_params(update_progress_sql, f.job_id, f.node, f.attempt,
                          p.phase, p.total_matches, p.processed_matches,
                          p.new_matches, p.updated_matches, p.failed_matches,
                          p.list_offset, p.list_top_match_id, p.detail_cursor,
                          lease_s, p.repaired_matches);
  return r.affected_rows() == 1;
}

std::optional<sync_job> job_store::wait_quota(const job_fence& f, std::int64_t resume_at_s,
                                              int lease_s) {
  return first_job(exec_once(conn_, wait_quota_sql, f.job_id, f.node, f.attempt,
                         static_cast<double>(resume_at_s), lease_s));
}

namespace {

// A PostgreSQL array literal of integers: "{1,2,3}".
template <class Get>
std::string int_array(const std::vector<job_run>& runs, Get get) {
  std::string out = "{";
  for (auto& r : runs) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(get(r));
  }
  return out + "}";
}

std::string ids_of(const std::vector<job_run>& runs) {
  return int_array(runs, [](const job_run& r) { return r.job_id; });
}

std::string attempts_of(const std::vector<job_run>& runs) {
  return int_array(runs, [](const job_run& r) { return r.attempt; });
}

}  // namespace

std::vector<job_run> job_store::renew_leases(const std::string& node,
                                             const std::vector<job_run>& runs,
                                             int lease_s) {
  std::vector<job_run> superseded;
  if (runs.empty())
    return superseded;
  for (auto row : exec_once(conn_, renew_leases_sql, node, ids_of(runs), attempts_of(runs),
                            lease_s))
    superseded.push_back(job_run{row[0].as<std::int64_t>(), row[1].as<std::int32_t>()});
  return superseded;
}

bool job_store::hand_over(const job_fence& f) {
  return exec_once(conn_, hand_over_sql, f.job_id, f.node, f.attempt).affected_rows() == 1;
}

int job_store::expire_leases(const std::string& node, const std::vector<job_run>& runs) {
  if (runs.empty())
    return 0;
  return static_cast<int>(
    exec_once(conn_, expire_leases_sql, node, ids_of(runs), attempts_of(runs)).affected_rows());
}

std::vector<std::int64_t> job_store::expired_running() {
  std::vector<std::int64_t> ids;
  for (auto row : exec_once(conn_, expired_running_sql))
    ids.push_back(row[0].as<std::int64_t>());
  return ids;
}

namespace {

std::vector<job_count> counts_of(const pqxx::result& rows) {
  std::vector<job_count> out;
  for (auto row : rows) {
    auto type = parse_job_type(row[0].as<std::string>());
    auto status = parse_job_status(row[1].as<std::string>());
    if (type && status)
      out.push_back(job_count{*type, *status, row[2].as<std::int64_t>()});
  }
  return out;
}

}  // namespace

job_store::census job_store::count_jobs() {
  auto rows = exec_once(conn_, count_jobs_sql);
  census out;
  out.totals = counts_of(rows);
  for (auto row : rows) {
    auto ids = row[3].as<std::string>();
    for (std::size_t at = 0; at < ids.size();) {
      auto end = std::min(ids.find(',', at), ids.size());
      sync_job j;
      j.id = std::stoll(ids.substr(at, end - at));
      j.type = parse_job_type(row[0].as<std::string>()).value_or(job_type::incremental_sync);
      j.status = parse_job_status(row[1].as<std::string>()).value_or(job_status::pending);
      out.active.push_back(std::move(j));
      at = end + 1;
    }
  }
  return out;
}

std::vector<job_count> job_store::prune_terminal(std::int64_t cutoff_epoch_s, int limit) {
  return counts_of(exec_once(conn_, prune_terminal_sql, cutoff_epoch_s, limit));
}

bool job_store::renew_lease(const job_fence& f, int lease_s) {
  return exec_once(conn_, renew_lease_sql, f.job_id, f.node, f.attempt, lease_s)
           .affected_rows() == 1;
}

std::vector<sync_job> job_store::take_over_expired(const std::string& node,
                                                   int lease_s, int max_attempts,
                                                   std::vector<sync_job>* failed,
                                                   int limit) {
  auto lost = all(exec_once(conn_, fail_expired_sql, max_attempts));
  if (failed)
    *failed = std::move(lost);
  if (limit <= 0)
    return {};
  return all(exec_once(conn_, take_over_expired_sql, node, lease_s, max_attempts, limit));
}

std::optional<sync_job> job_store::take_over(std::int64_t job_id,
                                             const std::string& node, int lease_s) {
  return first_job(exec_once(conn_, take_over_sql, job_id, node, lease_s));
}

}  // namespace matchsync::db
