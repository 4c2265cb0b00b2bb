#include "persistence/sync_state_store.hpp"

namespace matchsync::db {

namespace {
constexpr const char* select_sql =
  "SELECT complete_through FROM account_sync_state WHERE account_id = $1";
constexpr const char* raise_sql =
  "INSERT INTO account_sync_state (account_id, complete_through) VALUES ($1, $2) "
  "ON CONFLICT (account_id) DO UPDATE SET "
  "complete_through = GREATEST(account_sync_state.complete_through, "
  "EXCLUDED.complete_through), updated_at = now()";
}  // namespace

std::optional<std::int64_t> sync_state_store::complete_through(
  pqxx::transaction_base& tx, std::int64_t account_id) {
  auto r = tx.exec_params(select_sql, account_id);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

void sync_state_store::raise_complete_through(pqxx::transaction_base& tx,
                                              std::int64_t account_id,
                                              std::int64_t match_id) {
  tx.exec_params(raise_sql, account_id, match_id);
}

}  // namespace matchsync::db
