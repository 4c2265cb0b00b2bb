#include "persistence/match_store.hpp"

#include <utility>

#include "persistence/database.hpp"

namespace matchsync::db {

namespace {

// One statement per page: the items are unpacked inside PostgreSQL.
// `changed_by_job` lets a resumed job count an update only once. A listed
// parse `version` (not null) other than the one the match's shared details
// were fetched with makes them `stale` for this account: fetched again,
// shown meanwhile. Only a
// changed summary is written, so an unchanged page costs no write.
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
  details_state = CASE
    WHEN m.details_state = 'fetched'
     AND nullif(EXCLUDED.summary->'version', 'null') IS NOT NULL
     AND nullif(EXCLUDED.summary->'version', 'null') IS DISTINCT FROM
         (SELECT nullif(d.version, 'null') FROM match_details d
          WHERE d.match_id = m.match_id)
    THEN 'stale' ELSE m.details_state END,
  updated_at = now()
WHERE m.summary IS DISTINCT FROM EXCLUDED.summary
RETURNING (xmax = 0) AS inserted
)sql";

// A step's batch of detail outcomes in one statement: ids, outcomes and
// fingerprints as arrays, and each fetched detail as a parameter of its own
// in a VALUES list (the statement is prepared once per number of fetched
// details), so that PostgreSQL plans once per batch and parses each detail
// once, as its `json` cast checks it; one JSON array of the batch had to
// be parsed twice (the cast, then json_array_elements to split it), and
// that second parse was the backend's largest cost above a COPY.
// Details are written into match_details once per match for every account
// (SPEC §3). Counts the matches whose details changed for an account that
// had them, and that this job had not yet changed: told by the fingerprint
// of what OpenDota does not compute per request (sync/detail_fingerprint.hpp),
// so old details are never read back; only details stored before migration
// 006, or given without a fingerprint, compare the details themselves.
constexpr const char* store_details_head = R"sql(
WITH input AS (
  SELECT u.match_id, u.outcome, u.fp
  FROM unnest($3::bigint[], $4::text[], $5::bigint[]) AS u(match_id, outcome, fp)
), fetched(match_id, details, fp) AS (
)sql";
constexpr const char* store_details_tail = R"sql(
), old AS (
  SELECT m.match_id, i.outcome, m.changed_by_job,
         CASE WHEN i.outcome = 'fetched' AND d.match_id IS NOT NULL
                   AND m.details_state IN ('fetched', 'stale')
              THEN CASE WHEN d.fingerprint IS NULL OR i.fp IS NULL
                        THEN d.details::jsonb IS DISTINCT FROM
                             (SELECT f.details::jsonb FROM fetched f
                              WHERE f.match_id = m.match_id)
                        ELSE d.fingerprint IS DISTINCT FROM i.fp END
              ELSE false END AS differs
  FROM matches m JOIN input i ON m.match_id = i.match_id
  LEFT JOIN match_details d ON d.match_id = m.match_id
  WHERE m.account_id = $1 AND m.match_id = ANY($3::bigint[])
), put AS (
  INSERT INTO match_details AS d (match_id, details, fingerprint, version)
  SELECT f.match_id, f.details, f.fp,
         (SELECT m.summary->'version' FROM matches m
          WHERE m.account_id = $1 AND m.match_id = f.match_id)
  FROM fetched f
  WHERE EXISTS (SELECT 1 FROM matches m WHERE m.account_id = $1 AND m.match_id = f.match_id)
  ON CONFLICT (match_id) DO UPDATE SET
    details = EXCLUDED.details, fingerprint = EXCLUDED.fingerprint,
    version = EXCLUDED.version, fetched_at = now()
  RETURNING d.match_id
), upd AS (
  UPDATE matches m SET
    -- Details once fetched are kept: a failure leaves them as they were
    -- (a stale one is asked again later), a 404 leaves them as they are.
    details_state = CASE
      WHEN o.outcome = 'failed' AND m.details_state IN ('fetched', 'stale') THEN m.details_state
      WHEN o.outcome = 'none' AND m.details_state IN ('fetched', 'stale') THEN 'fetched'
      ELSE o.outcome END,
    details_job = CASE WHEN o.outcome = 'fetched' THEN NULL ELSE m.details_job END,
    changed_by_job = CASE WHEN o.differs THEN $2 ELSE m.changed_by_job END,
    updated_at = now()
  FROM old o
  WHERE m.account_id = $1 AND m.match_id = o.match_id
  RETURNING m.match_id
)
SELECT count(*) FROM old
WHERE differs AND changed_by_job IS DISTINCT FROM $2
)sql";

// The statement for `fetched` details: their VALUES rows take parameters
// $6 on, three each (id, details, fingerprint; '' for none).
std::string store_details_sql(std::size_t fetched) {
  std::string sql = store_details_head;
  if (fetched == 0)
    sql += "  SELECT NULL::bigint, NULL::json, NULL::bigint WHERE false";
  for (std::size_t k = 0; k < fetched; ++k) {
    auto at = 6 + 3 * k;
    sql += k == 0 ? "  VALUES " : ", ";
    sql += "($" + std::to_string(at) + "::bigint, $" + std::to_string(at + 1) +
           "::json, nullif($" + std::to_string(at + 2) + "::text, '')::bigint)";
  }
  sql += store_details_tail;
  return sql;
}

// Matches of this account that lack details which another account's sync
// already fetched (with the parse version this account's listing shows, or
// any when it shows none yet) take them, and spend no request (SPEC §3).
// `details_job` marks them, so that a full sync does not fetch them again.
constexpr const char* adopt_shared_sql = R"sql(
UPDATE matches m SET details_state = 'fetched', details_job = $2, updated_at = now()
FROM match_details d
WHERE m.account_id = $1 AND m.details_state IN ('missing', 'failed', 'stale')
  AND ($3::bigint[] IS NULL OR m.match_id = ANY($3::bigint[]))
  AND d.match_id = m.match_id
  AND (nullif(m.summary->'version', 'null') IS NULL OR m.summary->'version' = d.version)
RETURNING m.match_id
)sql";

// A full sync fetches every match again, but for those it took from another
// account's fetch ($4: the job; NULL counts every stored match).
constexpr const char* ids_below_all_sql =
  "SELECT match_id FROM matches WHERE account_id = $1 "
  "AND ($2::bigint IS NULL OR match_id < $2) "
  "AND ($4::bigint IS NULL OR details_job IS DISTINCT FROM $4) "
  "ORDER BY match_id DESC LIMIT $3";
constexpr const char* ids_below_lacking_sql =
  "SELECT match_id FROM matches WHERE account_id = $1 "
  "AND details_state IN ('missing', 'failed', 'stale') "
  "AND ($2::bigint IS NULL OR match_id < $2) "
  "ORDER BY match_id DESC LIMIT $3";
constexpr const char* count_below_all_sql =
  "SELECT count(*) FROM matches WHERE account_id = $1 "
  "AND ($2::bigint IS NULL OR match_id < $2) "
  "AND ($3::bigint IS NULL OR details_job IS DISTINCT FROM $3)";
constexpr const char* count_below_lacking_sql =
  "SELECT count(*) FROM matches WHERE account_id = $1 "
  "AND details_state IN ('missing', 'failed', 'stale') "
  "AND ($2::bigint IS NULL OR match_id < $2)";

#define MS_MATCH_COLUMNS                                                     \
  "m.match_id, start_time, duration, hero_id, player_slot, radiant_win, "    \
  "kills, deaths, assists, game_mode, lobby_type, details_state "

constexpr const char* list_sql =
  "SELECT " MS_MATCH_COLUMNS ", NULL::text FROM matches m WHERE account_id = $1 "
  "ORDER BY match_id DESC LIMIT $2 OFFSET $3";
// An account shows the match's shared details once its row has them.
constexpr const char* get_sql =
  "SELECT " MS_MATCH_COLUMNS ", d.details::text FROM matches m "
  "LEFT JOIN match_details d ON d.match_id = m.match_id "
  "  AND m.details_state IN ('fetched', 'stale') "
  "WHERE m.account_id = $1 AND m.match_id = $2";
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
  auto state = r[11].as<std::string>();
  m.has_details = state == "fetched" || state == "stale";
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

std::int64_t match_store::store_details(pqxx::transaction_base& tx,
                                        std::int64_t account_id, std::int64_t job_id,
                                        const std::vector<detail_write>& batch) {
  if (batch.empty())
    return 0;
  // Array literals need no escaping: ids are numbers, outcomes fixed words.
  std::string ids = "{", outcomes = "{", fingerprints = "{";
  // Each fetched detail's id, text and fingerprint as parameters of their
  // own, handed to libpqxx as C strings: it copies each once into its
  // parameter list (a container of std::string would be copied twice more).
  // A detail's text never holds a NUL (the client checked it is JSON).
  std::vector<std::string> numbers;  // ids and fingerprints, kept alive
  numbers.reserve(2 * batch.size());
  std::vector<const char*> values;
  for (std::size_t k = 0; k < batch.size(); ++k) {
    auto& w = batch[k];
    const char* sep = k == 0 ? "" : ",";
    bool fetched = w.outcome == detail_outcome::fetched;
    auto fp = fetched && w.fingerprint ? std::to_string(*w.fingerprint) : std::string();
    ids += sep + std::to_string(w.match_id);
    outcomes += sep;
    outcomes += outcome_name(w.outcome);
    fingerprints += sep;
    fingerprints += fp.empty() ? "NULL" : fp;
    if (fetched) {
      numbers.push_back(std::to_string(w.match_id));
      values.push_back(numbers.back().c_str());
      values.push_back(w.json.c_str());
      numbers.push_back(fp);
      values.push_back(numbers.back().c_str());
    }
  }
  ids += "}";
  outcomes += "}";
  fingerprints += "}";
  // A fingerprint given as an empty string is NULL in the statement.
  auto fetched = values.size() / 3;
  auto name = std::string("match_store_details_") + std::to_string(fetched);
  // Prepared once per connection and size (a repeated definition is a no-op).
  tx.conn().prepare(name, store_details_sql(fetched));
  return tx.exec_prepared1(name, account_id, job_id, std::move(ids), std::move(outcomes),
                           std::move(fingerprints),
                           pqxx::prepare::make_dynamic_params(values))[0]
    .as<std::int64_t>();
}

std::vector<std::int64_t> match_store::ids_below(pqxx::transaction_base& tx,
                                                 std::int64_t account_id,
                                                 std::optional<std::int64_t> below,
                                                 bool only_lacking, int limit,
                                                 std::optional<std::int64_t> job_id) {
  std::vector<std::int64_t> out;
  auto rows = only_lacking
                ? tx.exec_params(ids_below_lacking_sql, account_id, below, limit)
                : tx.exec_params(ids_below_all_sql, account_id, below, limit, job_id);
  for (auto row : rows)
    out.push_back(row[0].as<std::int64_t>());
  return out;
}

std::int64_t match_store::count_below(pqxx::transaction_base& tx,
                                      std::int64_t account_id,
                                      std::optional<std::int64_t> below,
                                      bool only_lacking,
                                      std::optional<std::int64_t> job_id) {
  auto r = only_lacking ? tx.exec_params1(count_below_lacking_sql, account_id, below)
                        : tx.exec_params1(count_below_all_sql, account_id, below, job_id);
  return r[0].as<std::int64_t>();
}

std::vector<std::int64_t> match_store::adopt_shared_details(pqxx::transaction_base& tx,
                                                            std::int64_t account_id,
                                                            std::int64_t job_id,
                                                            const std::vector<std::int64_t>* among) {
  std::optional<std::string> ids;
  if (among) {
    ids = "{";
    for (std::size_t k = 0; k < among->size(); ++k)
      *ids += (k == 0 ? "" : ",") + std::to_string((*among)[k]);
    *ids += "}";
  }
  std::vector<std::int64_t> out;
  for (auto row : tx.exec_params(adopt_shared_sql, account_id, job_id, ids))
    out.push_back(row[0].as<std::int64_t>());
  return out;
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
