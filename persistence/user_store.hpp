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
  std::optional<user> find_by_account(std::int64_t account_id);

private:
  pqxx::connection& conn_;
};

}  // namespace matchsync::db
