#include "persistence/schedule_store.hpp"

namespace matchsync::db {

namespace {
constexpr const char* columns =
  "user_id, enabled, interval_minutes, "
  "floor(extract(epoch FROM next_run_at))::bigint, last_run_job_id";
const std::string find_schedule_sql =
  std::string("SELECT ") + columns + " FROM sync_schedules WHERE user_id = $1";
const std::string put_sql =
  std::string("INSERT INTO sync_schedules AS s (user_id, enabled, interval_minutes, next_run_at) "
              "VALUES ($1, $2, $3, to_timestamp($4)) "
              "ON CONFLICT (user_id) DO UPDATE SET enabled = $2, interval_minutes = $3, "
              "next_run_at = to_timestamp($4), updated_at = now() RETURNING ") +
  columns;
// SKIP LOCKED: a row another transaction runs now is its, not ours.
constexpr const char* lock_due_sql =
  "SELECT s.user_id, u.account_id, s.interval_minutes, "
  "  floor(extract(epoch FROM s.next_run_at))::bigint, "
  "  EXISTS (SELECT 1 FROM sync_jobs j WHERE j.user_id = s.user_id "
  "          AND j.status IN ('pending', 'running')) "
  "FROM sync_schedules s JOIN users u ON u.id = s.user_id "
  "WHERE s.enabled AND s.next_run_at <= to_timestamp($1) "
  "ORDER BY s.next_run_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED";
constexpr const char* advance_sql =
  "UPDATE sync_schedules SET next_run_at = to_timestamp($2), "
  "last_run_job_id = coalesce($3, last_run_job_id), updated_at = now() WHERE user_id = $1";

schedule_row from_row(const pqxx::row& r) {
  schedule_row s;
  s.user_id = r[0].as<std::int64_t>();
  s.enabled = r[1].as<bool>();
  s.interval_minutes = r[2].as<int>();
  s.next_run_at = r[3].get<std::int64_t>();
  s.last_run_job_id = r[4].get<std::int64_t>();
  return s;
}
}  // namespace

std::optional<schedule_row> schedule_store::find(pqxx::transaction_base& tx,
                                                 std::int64_t user_id) {
  auto r = tx.exec_params(find_schedule_sql, user_id);
  if (r.empty())
    return std::nullopt;
  return from_row(r[0]);
}

schedule_row schedule_store::put(pqxx::transaction_base& tx, std::int64_t user_id,
                                 bool enabled, int interval_minutes,
                                 std::optional<std::int64_t> next_run_at) {
  return from_row(tx.exec_params1(put_sql, user_id, enabled, interval_minutes,
                                  next_run_at ? std::optional<double>(*next_run_at)
                                              : std::optional<double>()));
}

std::vector<due_schedule> schedule_store::lock_due(pqxx::transaction_base& tx,
                                                   std::int64_t now, int limit) {
  std::vector<due_schedule> out;
  for (auto r : tx.exec_params(lock_due_sql, static_cast<double>(now), limit))
    out.push_back(due_schedule{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(),
                               r[2].as<int>(), r[3].as<std::int64_t>(), r[4].as<bool>()});
  return out;
}

void schedule_store::advance(pqxx::transaction_base& tx, std::int64_t user_id,
                             std::int64_t next_run_at, std::optional<std::int64_t> job_id) {
  tx.exec_params(advance_sql, user_id, static_cast<double>(next_run_at), job_id);
}

}  // namespace matchsync::db
