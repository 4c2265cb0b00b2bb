#include "persistence/user_store.hpp"

#include "persistence/database.hpp"

namespace matchsync::db {

namespace {
constexpr const char* insert_sql =
  "INSERT INTO users (account_id, name, token_hash) VALUES ($1, $2, $3) "
  "RETURNING id, account_id, name";
constexpr const char* ensure_sql =
  "INSERT INTO users (account_id) VALUES ($1) ON CONFLICT (account_id) "
  "DO UPDATE SET account_id = EXCLUDED.account_id RETURNING id, account_id, name";
constexpr const char* by_token_sql =
  "SELECT id, account_id, name FROM users WHERE token_hash = $1";
constexpr const char* by_account_sql =
  "SELECT id, account_id, name FROM users WHERE account_id = $1";

user to_user(const pqxx::row& r) {
  return user{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(),
              r[2].get<std::string>()};
}

std::optional<user> first(const pqxx::result& r) {
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
      auto r = tx.exec_params1(insert_sql, account_id, name, token_hash);
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
    return first(tx.exec_params(by_token_sql, token_hash));
  });
}

std::optional<user> user_store::find_by_account(std::int64_t account_id) {
  return translate_errors([&] {
    pqxx::nontransaction tx(conn_);
    return first(tx.exec_params(by_account_sql, account_id));
  });
}

}  // namespace matchsync::db
