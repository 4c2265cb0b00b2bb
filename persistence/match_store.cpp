#include "persistence/match_store.hpp"

#include "persistence/database.hpp"

namespace matchsync::db {

namespace {

// One statement per page: the items are unpacked inside PostgreSQL.
// `changed_by_job` lets a resumed job count an update only once.
constexpr const char* upsert_summaries_sql = R"sql(
INSERT INTO matches AS m (account_id, match_id, player_slot, radiant_win,
  duration, game_mode, lobby_type, hero_id, start_time, kills, deaths, assists,
  summary, changed_by_job)
SELECT $1, (e->>'match_id')::bigint, (e->>'player_slot')::int,
  (e->>'radiant_win')::boolean, (e->>'duration')::int, (e->>'game_mode')::int,
  (e->>'lobby_type')::int, (e->>'hero_id')::int, (e->>'start_time')::bigint,
  (e->>'kills')::int, (e->>'deaths')::int, (e->>'assists')::int, e, $2
FROM jsonb_array_elements($3::jsonb) AS e
WHERE e ? 'match_id'
ON CONFLICT (account_id, match_id) DO UPDATE SET
  player_slot = EXCLUDED.player_slot, radiant_win = EXCLUDED.radiant_win,
  duration = EXCLUDED.duration, game_mode = EXCLUDED.game_mode,
  lobby_type = EXCLUDED.lobby_type, hero_id = EXCLUDED.hero_id,
  start_time = EXCLUDED.start_time, kills = EXCLUDED.kills,
  deaths = EXCLUDED.deaths, assists = EXCLUDED.assists,
  summary = EXCLUDED.summary, changed_by_job = EXCLUDED.changed_by_job,
  updated_at = now()
WHERE m.summary IS DISTINCT FROM EXCLUDED.summary
RETURNING (xmax = 0) AS inserted
)sql";

// Returns whether the stored details changed and this job had not yet
// changed the row: the old values are read in the same statement.
constexpr const char* store_detail_sql = R"sql(
WITH old AS (
  SELECT details, changed_by_job FROM matches
  WHERE account_id = $1 AND match_id = $2 FOR UPDATE
), upd AS (
  UPDATE matches m SET
    details = CASE WHEN $4 = 'fetched' THEN $5::jsonb ELSE m.details END,
    details_state = CASE WHEN $4 = 'failed' AND m.details_state = 'fetched'
                         THEN m.details_state ELSE $4 END,
    changed_by_job = CASE WHEN $4 = 'fetched' AND m.details IS NOT NULL
                          AND m.details IS DISTINCT FROM $5::jsonb
                          THEN $3 ELSE m.changed_by_job END,
    updated_at = now()
  WHERE m.account_id = $1 AND m.match_id = $2
  RETURNING 1
)
SELECT $4 = 'fetched' AND old.details IS NOT NULL
       AND old.details IS DISTINCT FROM $5::jsonb
       AND old.changed_by_job IS DISTINCT FROM $3
FROM old, upd
)sql";

constexpr const char* ids_below_all_sql =
  "SELECT match_id FROM matches WHERE account_id = $1 "
  "AND ($2::bigint IS NULL OR match_id < $2) ORDER BY match_id DESC LIMIT $3";
constexpr const char* ids_below_lacking_sql =
  "SELECT match_id FROM matches WHERE account_id = $1 "
  "AND details_state IN ('missing', 'failed') "
  "AND ($2::bigint IS NULL OR match_id < $2) ORDER BY match_id DESC LIMIT $3";
constexpr const char* count_below_all_sql =
  "SELECT count(*) FROM matches WHERE account_id = $1 "
  "AND ($2::bigint IS NULL OR match_id < $2)";
constexpr const char* count_below_lacking_sql =
  "SELECT count(*) FROM matches WHERE account_id = $1 "
  "AND details_state IN ('missing', 'failed') "
  "AND ($2::bigint IS NULL OR match_id < $2)";

#define MS_MATCH_COLUMNS                                                     \
  "match_id, start_time, duration, hero_id, player_slot, radiant_win, "      \
  "kills, deaths, assists, game_mode, lobby_type, details_state "

constexpr const char* list_sql =
  "SELECT " MS_MATCH_COLUMNS ", NULL::text FROM matches WHERE account_id = $1 "
  "ORDER BY match_id DESC LIMIT $2 OFFSET $3";
constexpr const char* get_sql =
  "SELECT " MS_MATCH_COLUMNS ", details::text FROM matches "
  "WHERE account_id = $1 AND match_id = $2";
// A win: the player's side (slot < 128 is Radiant) won.
constexpr const char* stats_sql =
  "SELECT count(*), "
  "count(*) FILTER (WHERE radiant_win = (player_slot < 128)), "
  "count(*) FILTER (WHERE radiant_win IS NOT NULL AND player_slot IS NOT NULL "
  "  AND radiant_win <> (player_slot < 128)), "
  "coalesce(avg(kills), 0)::float8, coalesce(avg(deaths), 0)::float8, "
  "coalesce(avg(assists), 0)::float8 FROM matches WHERE account_id = $1";

match_row to_match(const pqxx::row& r) {
  match_row m;
  m.match_id = r[0].as<std::int64_t>();
  m.start_time = r[1].get<std::int64_t>();
  m.duration = r[2].get<std::int32_t>();
  m.hero_id = r[3].get<std::int32_t>();
  m.player_slot = r[4].get<std::int32_t>();
  m.radiant_win = r[5].get<bool>();
  m.kills = r[6].get<std::int32_t>();
  m.deaths = r[7].get<std::int32_t>();
  m.assists = r[8].get<std::int32_t>();
  m.game_mode = r[9].get<std::int32_t>();
  m.lobby_type = r[10].get<std::int32_t>();
  m.has_details = r[11].as<std::string>() == "fetched";
  m.details_json = r[12].get<std::string>();
  return m;
}

const char* outcome_name(detail_outcome o) {
  switch (o) {
    case detail_outcome::fetched: return "fetched";
    case detail_outcome::none: return "none";
    case detail_outcome::failed: return "failed";
  }
  return "failed";
}

}  // namespace

upsert_counts match_store::upsert_summaries(pqxx::transaction_base& tx,
                                            std::int64_t account_id,
                                            std::int64_t job_id,
                                            const std::string& items_json) {
  upsert_counts counts;
  for (auto row : tx.exec_params(upsert_summaries_sql, account_id, job_id, items_json)) {
    if (row[0].as<bool>())
      ++counts.inserted;
    else
      ++counts.updated;
  }
  return counts;
}

bool match_store::store_detail(pqxx::transaction_base& tx, std::int64_t account_id,
                               std::int64_t match_id, std::int64_t job_id,
                               detail_outcome outcome,
                               const std::string& detail_json) {
  std::optional<std::string> detail;
  if (outcome == detail_outcome::fetched)
    detail = detail_json;
  auto r = tx.exec_params(store_detail_sql, account_id, match_id, job_id,
                          outcome_name(outcome), detail);
  return !r.empty() && r[0][0].as<bool>(false);
}

std::vector<std::int64_t> match_store::ids_below(pqxx::transaction_base& tx,
                                                 std::int64_t account_id,
                                                 std::optional<std::int64_t> below,
                                                 bool only_lacking, int limit) {
  std::vector<std::int64_t> out;
  auto sql = only_lacking ? ids_below_lacking_sql : ids_below_all_sql;
  for (auto row : tx.exec_params(sql, account_id, below, limit))
    out.push_back(row[0].as<std::int64_t>());
  return out;
}

std::int64_t match_store::count_below(pqxx::transaction_base& tx,
                                      std::int64_t account_id,
                                      std::optional<std::int64_t> below,
                                      bool only_lacking) {
  auto sql = only_lacking ? count_below_lacking_sql : count_below_all_sql;
  return tx.exec_params1(sql, account_id, below)[0].as<std::int64_t>();
}

std::vector<match_row> match_store::list(std::int64_t account_id, int limit,
                                         int offset) {
  return translate_errors([&] {
    pqxx::nontransaction tx(conn_);
    std::vector<match_row> out;
    for (auto row : tx.exec_params(list_sql, account_id, limit, offset))
      out.push_back(to_match(row));
    return out;
  });
}

std::optional<match_row> match_store::get(std::int64_t account_id,
                                          std::int64_t match_id) {
  return translate_errors([&]() -> std::optional<match_row> {
    pqxx::nontransaction tx(conn_);
    auto r = tx.exec_params(get_sql, account_id, match_id);
    if (r.empty())
      return std::nullopt;
    return to_match(r[0]);
  });
}

match_stats match_store::stats(std::int64_t account_id) {
  return translate_errors([&] {
    pqxx::nontransaction tx(conn_);
    auto r = tx.exec_params1(stats_sql, account_id);
    match_stats s;
    s.total_matches = r[0].as<std::int64_t>();
    s.wins = r[1].as<std::int64_t>();
    s.losses = r[2].as<std::int64_t>();
    s.avg_kills = r[3].as<double>();
    s.avg_deaths = r[4].as<double>();
    s.avg_assists = r[5].as<double>();
    return s;
  });
}

}  // namespace matchsync::db
