// The matches table: one row per (account, match) with the player's summary
// and whether the account has the match's details; match_details: the
// details, once per match for every account. Writes are batched upserts,
// idempotent on re-runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

namespace matchsync::db {

/// A stored match as the API shows it (details as JSON text, if any).
struct match_row {
  std::int64_t match_id = 0;
  std::optional<std::int64_t> start_time;
  std::optional<std::int32_t> duration;
  std::optional<std::int32_t> hero_id;
  std::optional<std::int32_t> player_slot;
  std::optional<bool> radiant_win;
  std::optional<std::int32_t> kills;
  std::optional<std::int32_t> deaths;
  std::optional<std::int32_t> assists;
  std::optional<std::int32_t> game_mode;
  std::optional<std::int32_t> lobby_type;
  bool has_details = false;
  std::optional<std::string> details_json;
};

struct match_stats {
  std::int64_t total_matches = 0;
  std::int64_t wins = 0;
  std::int64_t losses = 0;
  double avg_kills = 0;
  double avg_deaths = 0;
  double avg_assists = 0;
};

struct upsert_counts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
};

/// What the sync engine stores after asking for one match's details.
enum class detail_outcome { fetched, none, failed };

/// One match's details outcome, as a batch of them is stored.
struct detail_write {
  detail_write() = default;
  detail_write(std::int64_t id, detail_outcome o, std::string text = {},
               std::optional<std::int64_t> fp = std::nullopt)
    : match_id(id), outcome(o), json(std::move(text)), fingerprint(fp) {}

  std::int64_t match_id = 0;
  detail_outcome outcome = detail_outcome::failed;
  /// fetched only: the detail object as JSON text (checked by the client).
  std::string json;
  /// fetched only: what of it does not vary per request
  /// (sync::detail_fingerprint); equal fingerprints = an unchanged match.
  /// Without one, the details themselves are compared.
  std::optional<std::int64_t> fingerprint;
};

class match_store {
public:
  explicit match_store(pqxx::connection& conn) : conn_(conn) {}

  /// Upserts a page of upstream list items (a JSON array as text) inside the
  /// caller's transaction. A row whose summary did not change is not touched;
  /// `updated` counts rows changed by this job for the first time.
  static upsert_counts upsert_summaries(pqxx::transaction_base& tx,
                                        std::int64_t account_id,
                                        std::int64_t job_id,
                                        const std::string& items_json);

  /// Stores a batch of details outcomes (distinct match ids) in one
  /// statement; returns how many matches' stored details changed for the
  /// first time in this job (updates): a fingerprint that differs from the
  /// stored one (where either is missing: details that differ). `none` (a 404) and `failed` leave
  /// stored details as they are, and a match that has them stays
  /// `fetched`: an upstream that lost or failed a detail loses us nothing.
  static std::int64_t store_details(pqxx::transaction_base& tx,
                                    std::int64_t account_id, std::int64_t job_id,
                                    const std::vector<detail_write>& batch);

  /// Match ids below `below` (all when nullopt), newest first: every one when
  /// `only_lacking` is false (but those job `job_id` took from another
  /// account's fetch), else those without details (missing or failed) or
  /// whose details are stale (parsed since they were fetched).
  static std::vector<std::int64_t> ids_below(pqxx::transaction_base& tx,
                                             std::int64_t account_id,
                                             std::optional<std::int64_t> below,
                                             bool only_lacking, int limit,
                                             std::optional<std::int64_t> job_id = std::nullopt);
  /// How many such ids there are.
  static std::int64_t count_below(pqxx::transaction_base& tx,
                                  std::int64_t account_id,
                                  std::optional<std::int64_t> below,
                                  bool only_lacking,
                                  std::optional<std::int64_t> job_id = std::nullopt);

  /// A match's details are stored once for every account (match_details):
  /// this account's matches that lack details another account's sync
  /// fetched (with the parse version this account lists, or any while it
  /// lists none) take them now, marked as taken by `job_id`: all of them,
  /// or only those `among` (a step's window: a step must not scan every row
  /// still lacking details, which made a sync quadratic). Returns their ids.
  static std::vector<std::int64_t> adopt_shared_details(
    pqxx::transaction_base& tx, std::int64_t account_id, std::int64_t job_id,
    const std::vector<std::int64_t>* among = nullptr);

  std::vector<match_row> list(std::int64_t account_id, int limit, int offset);
  std::optional<match_row> get(std::int64_t account_id, std::int64_t match_id);
  match_stats stats(std::int64_t account_id);

private:
  pqxx::connection& conn_;
};

}  // namespace matchsync::db
