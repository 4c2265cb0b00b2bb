// The account_sync_state table: where an account's history is known complete.
#pragma once

#include <cstdint>
#include <optional>

#include <pqxx/pqxx>

namespace matchsync::db {

class sync_state_store {
public:
  /// Every upstream match of the account with match_id <= the answer is
  /// stored; nullopt when no listing has ever completed.
  static std::optional<std::int64_t> complete_through(pqxx::transaction_base& tx,
                                                      std::int64_t account_id);
  /// Raises the mark (never lowers it), inside the caller's transaction.
  static void raise_complete_through(pqxx::transaction_base& tx,
                                     std::int64_t account_id,
                                     std::int64_t match_id);
};

}  // namespace matchsync::db
