// The fake OpenDota's data: every account's match history and match details,
// deterministic from the account id plus what the control routes changed.
// Not thread-safe: the server guards it with its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::fake {

/// Matches per account stay below this, which keeps match ids unique.
inline constexpr std::int64_t max_history = 1'000'000;

/// `account_id * 1'000'000 + index + 1`, index 0 = the account's oldest
/// match: unique across accounts, growing with the index, never 0.
std::int64_t match_id_of(std::int64_t account_id, std::int64_t index);

/// How OpenDota sees an account (svc/util/buildPlayer.ts, svc/api/).
enum class account_kind {
  normal,   ///< its history lists; /api/players/{id} has a profile
  hidden,   ///< the player hides match data: lists `[]`, profile.fh_unavailable
  unknown,  ///< OpenDota never saw it: lists `[]`, /api/players/{id} is 404
};

/// The histories and details the fake serves.
class fake_world {
public:
  explicit fake_world(int detail_bytes = 20000) : detail_bytes_(detail_bytes) {}

  /// Matches the account has: set by set_size/append, else account_id % 1000
  /// (0 for negative ids).
  std::int64_t size(std::int64_t account_id) const;
  void set_size(std::int64_t account_id, std::int64_t size);
  /// Adds `count` newest matches; returns their ids, newest first.
  std::vector<std::int64_t> append(std::int64_t account_id, std::int64_t count);

  /// Accounts are normal unless set otherwise.
  void set_kind(std::int64_t account_id, account_kind kind);
  account_kind kind(std::int64_t account_id) const;
  /// The /api/players/{id} object, or nullopt (404) for an unknown account.
  std::optional<nlohmann::json> player(std::int64_t account_id) const;
  /// {"win", "lose"} over the listed history.
  nlohmann::json win_loss(std::int64_t account_id) const;

  /// Bumps the match's version: its summary and detail change (the version
  /// field, and kills grow by the version). Returns the new version.
  int change(std::int64_t match_id);

  /// An account whose matches are not parsed yet, as most of a real
  /// history is at first: they list `version: null` and their details are
  /// the short unparsed kind, until `parse` (or, with false, as before).
  void set_unparsed(std::int64_t account_id, bool unparsed);
  /// The match's replay is parsed now: it lists `version` 21 (plus its
  /// changes), and its details grow about fivefold with what a parse adds
  /// (per player `purchase_log`, `lane_pos`, `damage`). Returns the version.
  int parse(std::int64_t match_id);
  /// A match the history does not list (yet): revealed later, it is a
  /// backfill, an older match OpenDota adds below the newest ones
  /// (odota/core svc/fullhistory.ts). /wl counts only what is listed.
  void set_hidden(std::int64_t match_id, bool hidden);
  /// Account `player` played `count` of `owner`'s matches too (every other
  /// one of the owner's newest): they list in both histories, each with its
  /// own per-player fields (slot, hero, kills...), and have one detail, as
  /// a real match has for its ten players. Returns their ids, newest first.
  std::vector<std::int64_t> share(std::int64_t player, std::int64_t owner,
                                  std::int64_t count);
  /// A match whose detail answers 404 (or answers normally again).
  void set_no_details(std::int64_t match_id, bool no_details);
  /// A match whose detail text holds the escapes PostgreSQL's jsonb refuses,
  /// as Node's JSON.stringify writes them: its player's `personaname` a
  /// Steam name cut inside an emoji (`"ab\ud83d"`, a lone surrogate), a
  /// chat line with `\u0000`; beside them a valid pair and an escaped
  /// backslash (`"\\ud83d"`, no escape at all) that must stay as they are.
  void set_bad_escapes(std::int64_t match_id, bool bad);
  /// Details carry the fields OpenDota computes when it answers (odota/core
  /// svc/util/buildMatch.ts: players' benchmarks, rank_tier, personaname,
  /// last_login, is_subscriber...; od_data, league and teams), with values
  /// drawn from the answer's serial number: they differ on every answer.
  void set_request_time_fields(bool on) { request_time_fields_ = on; }

  /// Approximate size of a detail's JSON text.
  void set_detail_bytes(int bytes) { detail_bytes_ = bytes; }
  /// OpenDota's own shapes (FACTS.md), in place of the configured size:
  /// list rows with `version` null until a match is parsed (45 % are) and
  /// `average_rank`, `hero_variant`; details of about 14 KB unparsed and
  /// 248 KB parsed (per-player `purchase_log`, `lane_pos`, `damage`),
  /// `radiant_logo`/`dire_logo` up to ~2.3e18, CJK names, anonymous players
  /// with `account_id: null`, request-time fields (`benchmarks`,
  /// `rank_tier`, `personaname`, `last_login`).
  /// `parsed_percent` of the matches are parsed (OpenDota's sample: 45; a
  /// typical history: about 30).
  void set_real_shapes(bool on, int parsed_percent = 45) {
    real_shapes_ = on;
    parsed_percent_ = parsed_percent;
  }

  /// The page of the history, newest first; `limit` < 0 = to the end.
  nlohmann::json page(std::int64_t account_id, std::int64_t limit,
                      std::int64_t offset) const;
  /// The detail object, or nullopt when the upstream "has none" (unknown
  /// match, or marked with set_no_details).
  std::optional<nlohmann::json> detail(std::int64_t match_id) const;
  /// The same as JSON text, as the fake serves it (cheaper than dumping);
  /// `answer` (a serial number per answer) draws the request-time fields.
  std::optional<std::string> detail_text(std::int64_t match_id,
                                         std::uint64_t answer = 0) const;

private:
  nlohmann::json summary(std::int64_t account_id, std::int64_t index) const;
  int version(std::int64_t match_id) const;
  /// The listed `version`: null while the match waits for its parse.
  nlohmann::json listed_version(std::int64_t match_id) const;
  bool unparsed(std::int64_t match_id) const;

  /// Under real shapes: whether OpenDota has parsed the match.
  bool parsed(std::int64_t match_id) const;
  static nlohmann::json detail_head(std::int64_t match_id, const nlohmann::json& summary);
  nlohmann::json real_detail(std::int64_t match_id, std::int64_t account_id, int position,
                             const nlohmann::json& summary) const;

  int detail_bytes_;
  bool real_shapes_ = false;
  int parsed_percent_ = 45;
  bool request_time_fields_ = false;
  std::map<std::int64_t, std::int64_t> sizes_;
  std::map<std::int64_t, int> versions_;
  std::map<std::int64_t, account_kind> kinds_;
  std::set<std::int64_t> no_details_;
  std::set<std::int64_t> bad_escapes_;
  std::set<std::int64_t> unparsed_accounts_;
  std::set<std::int64_t> parsed_;
  std::set<std::int64_t> hidden_;
  /// player -> matches of other accounts the player played too.
  std::map<std::int64_t, std::set<std::int64_t>> shared_;
};

}  // namespace matchsync::fake
