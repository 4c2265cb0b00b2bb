#include "persistence/user_store.hpp"

#include "persistence/database.hpp"

namespace matchsync::db {

namespace {
constexpr const char* insert_user_sql =
  "INSERT INTO users (account_id, name, token_hash) VALUES ($1, $2, $3) "
  "RETURNING id, account_id, name";
constexpr const char* ensure_sql =
  "INSERT INTO users (account_id) VALUES ($1) ON CONFLICT (account_id) "
  "DO UPDATE SET account_id = EXCLUDED.account_id RETURNING id, account_id, name";
constexpr const char* by_token_sql =
  "SELECT id, account_id, name FROM users WHERE token_hash = $1";
constexpr const char* by_account_sql =
  "SELECT id, account_id, name FROM users WHERE account_id = $1";

constexpr const char* replace_token_sql =
  "UPDATE users SET token_hash = $2 WHERE account_id = $1 RETURNING id, account_id, name";
// The user's rows in every table, in one transaction. The schema has no
// ON DELETE CASCADE (matches and the sync state are keyed by account id,
// not by user), so the one place that removes a user removes them all.
constexpr const char* lock_user_sql =
  "SELECT id FROM users WHERE account_id = $1 FOR UPDATE";
constexpr const char* active_job_sql =
  "SELECT id FROM sync_jobs WHERE user_id = $1 AND status IN ('pending', 'running') LIMIT 1";
constexpr const char* delete_jobs_sql = "DELETE FROM sync_jobs WHERE user_id = $1";
constexpr const char* delete_matches_sql = "DELETE FROM matches WHERE account_id = $1";
constexpr const char* delete_state_sql = "DELETE FROM account_sync_state WHERE account_id = $1";
constexpr const char* delete_user_sql = "DELETE FROM users WHERE id = $1";

user to_user(const pqxx::row& r) {
  return user{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(),
              r[2].get<std::string>()};
}

std::optional<user> first_user(const pqxx::result& r) {
  if (r.empty())
    return std::nullopt;
  return to_user(r[0]);
}
}  // namespace

user user_store::create(std::int64_t account_id,
                        const std::optional<std::string>& name,
                        const std::string& token_hash) {
  return translate_errors([&] {
    try {
      pqxx::work tx(conn_);
      auto r = tx.exec_params1(insert_user_sql, account_id, name, token_hash);
      tx.commit();
      return to_user(r);
    } catch (const pqxx::unique_violation&) {
      throw domain_error(errc::conflict, "a user for account id " +
                                           std::to_string(account_id) +
                                           " already exists");
    }
  });
}

user user_store::ensure(std::int64_t account_id) {
  return translate_errors([&] {
    pqxx::work tx(conn_);
    auto r = tx.exec_params1(ensure_sql, account_id);
    tx.commit();
    return to_user(r);
  });
}

std::optional<user> user_store::find_by_token_hash(const std::string& token_hash) {
  return translate_errors([&] {
    pqxx::nontransaction tx(conn_);
    return first_user(tx.exec_params(by_token_sql, token_hash));
  });
}

user user_store::replace_token(std::int64_t account_id, const std::string& token_hash) {
  return translate_errors([&] {
    pqxx::work tx(conn_);
    auto r = tx.exec_params(replace_token_sql, account_id, token_hash);
    if (r.empty())
      throw domain_error(errc::invalid_input,
                         "no user for account id " + std::to_string(account_id));
    tx.commit();
    return to_user(r[0]);
  });
}

user_store::removed user_store::remove(std::int64_t account_id) {
  return translate_errors([&] {
    pqxx::work tx(conn_);
    auto u = tx.exec_params(lock_user_sql, account_id);
    if (u.empty())
      throw domain_error(errc::invalid_input,
                         "no user for account id " + std::to_string(account_id));
    auto id = u[0][0].as<std::int64_t>();
    auto active = tx.exec_params(active_job_sql, id);
    if (!active.empty())
      throw domain_error(errc::conflict, "account id " + std::to_string(account_id) +
                                           " has an active job (" +
                                           active[0][0].as<std::string>() +
                                           "); cancel it first");
    removed out;
    out.jobs = tx.exec_params(delete_jobs_sql, id).affected_rows();
    out.matches = tx.exec_params(delete_matches_sql, account_id).affected_rows();
    tx.exec_params(delete_state_sql, account_id);
    tx.exec_params(delete_user_sql, id);
    tx.commit();
    return out;
  });
}

std::optional<user> user_store::find_by_account(std::int64_t account_id) {
  return translate_errors([&] {
    pqxx::nontransaction tx(conn_);
    return first_user(tx.exec_params(by_account_sql, account_id));
  });
}

}  // namespace matchsync::db
