// Applies the SQL files of migrations/ (embedded in the binary at build time)
// in order, each in its own transaction, recorded with a SHA-256 checksum,
// under an advisory lock so that two nodes migrating at once is safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace matchsync::db {

struct migration {
  std::string name;  ///< file name, e.g. "001_initial_schema.sql"
  std::string sql;
};

/// The migrations built into this binary, in order.
const std::vector<migration>& embedded_migrations();

struct migration_status {
  std::vector<std::string> applied;
  std::vector<std::string> pending;
};

/// Hex SHA-256 of a migration's text.
std::string checksum(const std::string& sql);

class migrator {
public:
  explicit migrator(std::vector<migration> migrations = embedded_migrations())
    : migrations_(std::move(migrations)) {}

  /// Applies pending migrations (the first `limit` of all, when given) and
  /// returns the names applied now. Throws domain_error(schema_outdated) when
  /// an applied file was edited, naming the file.
  std::vector<std::string> apply(pqxx::connection& conn,
                                 std::optional<std::size_t> limit = std::nullopt);

  /// What is applied and what is pending; verifies checksums as apply does.
  migration_status status(pqxx::connection& conn);

  /// Throws domain_error(schema_outdated) with a message naming
  /// `matchsync migrate` when anything is pending or edited.
  void require_current(pqxx::connection& conn);

private:
  std::vector<migration> migrations_;
};

}  // namespace matchsync::db
