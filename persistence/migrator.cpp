#include "persistence/migrator.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <map>

#include "core/errors.hpp"
#include "persistence/database.hpp"

namespace matchsync::db {

namespace {

// The bookkeeping table must exist before any migration can be recorded, so
// it is the one piece of DDL that lives outside migrations/.
constexpr const char* create_bookkeeping_sql =
  "CREATE TABLE IF NOT EXISTS schema_migrations ("
  " name text PRIMARY KEY,"
  " checksum text NOT NULL,"
  " applied_at timestamptz NOT NULL DEFAULT now())";
constexpr const char* select_applied_sql =
  "SELECT name, checksum FROM schema_migrations ORDER BY name";
constexpr const char* bookkeeping_exists_sql =
  "SELECT to_regclass('schema_migrations') IS NOT NULL";
constexpr const char* record_sql =
  "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)";
// Any constant shared by every node: "matchsync" in ASCII.
constexpr const char* lock_sql = "SELECT pg_advisory_lock(7883953113958277987)";
constexpr const char* unlock_sql = "SELECT pg_advisory_unlock(7883953113958277987)";

std::map<std::string, std::string> read_applied(pqxx::connection& conn) {
  std::map<std::string, std::string> out;
  pqxx::nontransaction tx(conn);
  if (!tx.exec1(bookkeeping_exists_sql)[0].as<bool>())
    return out;
  for (auto row : tx.exec(select_applied_sql))
    out[row[0].as<std::string>()] = row[1].as<std::string>();
  return out;
}

}  // namespace

std::string checksum(const std::string& sql) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(sql.data(), sql.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

migration_status migrator::status(pqxx::connection& conn) {
  return translate_errors([&] {
    auto applied = read_applied(conn);
    migration_status st;
    for (auto& m : migrations_) {
      auto it = applied.find(m.name);
      if (it == applied.end()) {
        st.pending.push_back(m.name);
        continue;
      }
      if (it->second != checksum(m.sql))
        throw domain_error(errc::schema_outdated,
                           "migration " + m.name +
                             " was edited after it was applied "
                             "(checksum differs); restore the file");
      st.applied.push_back(m.name);
    }
    return st;
  });
}

constexpr const char* no_statement_timeout_sql = "SET statement_timeout = 0";

std::vector<std::string> migrator::apply(pqxx::connection& conn,
                                         std::optional<std::size_t> limit) {
  return translate_errors([&] {
    std::vector<std::string> done;
    {
      pqxx::nontransaction tx(conn);
      // A migration (and the wait for another node's) may take longer
      // than the statement_timeout every connection gets.
      tx.exec(no_statement_timeout_sql);
      tx.exec(lock_sql);
    }
    try {
      {
        pqxx::nontransaction tx(conn);
        tx.exec(create_bookkeeping_sql);
      }
      auto st = status(conn);
      std::size_t allowed = limit ? *limit : migrations_.size();
      for (auto& m : migrations_) {
        if (allowed == 0)
          break;
        --allowed;
        bool pending = false;
        for (auto& p : st.pending)
          pending = pending || p == m.name;
        if (!pending)
          continue;
        pqxx::work tx(conn);
        try {
          tx.exec(m.sql);
        } catch (const pqxx::sql_error& e) {
          throw domain_error(errc::internal, "migration " + m.name +
                                               " failed: " + e.what());
        }
        tx.exec_params(record_sql, m.name, checksum(m.sql));
        tx.commit();
        done.push_back(m.name);
      }
    } catch (...) {
      if (conn.is_open()) {
        pqxx::nontransaction tx(conn);
        tx.exec(unlock_sql);
      }
      throw;
    }
    pqxx::nontransaction tx(conn);
    tx.exec(unlock_sql);
    return done;
  });
}

void migrator::require_current(pqxx::connection& conn) {
  auto st = status(conn);
  if (!st.pending.empty())
    throw domain_error(errc::schema_outdated,
                       "the database schema is not current (" +
                         std::to_string(st.pending.size()) +
                         " migration(s) pending, first " + st.pending.front() +
                         "): run `matchsync migrate` or start with --migrate");
}

}  // namespace matchsync::db
