// The users table: one user per Dota account id, reached by a hashed token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace matchsync::db {

struct user {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::optional<std::string> name;
};

class user_store {
public:
  explicit user_store(pqxx::connection& conn) : conn_(conn) {}

  /// Creates a user with the given token hash. A second user for the same
  /// account id is domain_error(conflict).
  user create(std::int64_t account_id, const std::optional<std::string>& name,
              const std::string& token_hash);

  /// The user for the account, created without a token if missing (auth none).
  user ensure(std::int64_t account_id);

  std::optional<user> find_by_token_hash(const std::string& token_hash);

  /// Gives the account's user a new token hash; the old token stops
  /// matching at once. invalid_input when there is no such user.
  user replace_token(std::int64_t account_id, const std::string& token_hash);

  /// What remove() deleted.
  struct removed {
    std::int64_t jobs = 0;
    std::int64_t matches = 0;
  };
  /// Deletes the account's user with everything that hangs off it (its
  /// jobs, matches and sync state) in one transaction. invalid_input when
  /// there is no such user; conflict while one of its jobs is active (the
  /// job's owner would write into rows that are gone).
  removed remove(std::int64_t account_id);
  std::optional<user> find_by_account(std::int64_t account_id);

private:
  pqxx::connection& conn_;
};

}  // namespace matchsync::db
