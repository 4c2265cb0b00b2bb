#include "persistence/upstream_quota_store.hpp"

namespace matchsync::db {

namespace {
// The conflict branch's WHERE refuses without a row to return: the day is
// full or spent. A limit of 0 never refuses by count.
constexpr const char* take_sql =
  "INSERT INTO upstream_quota AS q (day, used) VALUES ($1::date, 1) "
  "ON CONFLICT (day) DO UPDATE SET used = q.used + 1, updated_at = now() "
  "WHERE q.spent_at IS NULL AND ($2 = 0 OR q.used < $2) "
  "RETURNING used";
constexpr const char* mark_spent_sql =
  "INSERT INTO upstream_quota AS q (day, used, spent_at) VALUES ($1::date, 0, now()) "
  "ON CONFLICT (day) DO UPDATE SET spent_at = coalesce(q.spent_at, now()), "
  "updated_at = now()";
constexpr const char* read_sql =
  "SELECT used, spent_at IS NOT NULL FROM upstream_quota WHERE day = $1::date";
}  // namespace

std::optional<std::int64_t> upstream_quota_store::take(pqxx::transaction_base& tx,
                                                       const std::string& day,
                                                       std::int64_t limit) {
  auto r = tx.exec_params(take_sql, day, limit);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

void upstream_quota_store::mark_spent(pqxx::transaction_base& tx, const std::string& day) {
  tx.exec_params(mark_spent_sql, day);
}

upstream_quota_store::day_state upstream_quota_store::read(pqxx::transaction_base& tx,
                                                           const std::string& day) {
  auto r = tx.exec_params(read_sql, day);
  if (r.empty())
    return {};
  return {r[0][0].as<std::int64_t>(), r[0][1].as<bool>()};
}

}  // namespace matchsync::db
