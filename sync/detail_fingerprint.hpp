// What of a match detail counts when a full sync asks "did this match
// change?" (SPEC §3): everything but the fields OpenDota computes at
// request time, which differ on every answer for the same match. Pure and
// tree-free: one pass over the text, as json_check does.
//
// Fields ignored, read in odota/core (svc/util/buildMatch.ts, buildMatch()
// and the helpers it awaits, at 8d0a715a0, 2026-08-21):
//   top level  `od_data` (getMatchBlob: which stores answered), `league`,
//              `radiant_team`, `dire_team` (getProMatchInfo: rows of the
//              leagues and teams tables as they are now), `metadata`
//              (getMeta, only with ?meta)
//   players[]  `benchmarks` (getPlayerBenchmarks: percentiles against the
//              current benchmark epoch in redis), `personaname`, `name`,
//              `last_login`, `rank_tier`, `computed_mmr`, `is_subscriber`
//              (getPlayerDetails: the players, notable_players, rank_tier,
//              player_computed_mmr and subscriber tables now),
//              `is_contributor` (extendPlayerData: the CONTRIBUTORS list of
//              the running build), `cosmetics` (getCosmetics: rows of the
//              cosmetics table)
#pragma once

#include <cstdint>
#include <string_view>

namespace matchsync::sync {

/// A 64-bit FNV-1a hash of the detail's JSON text without the members
/// above, whitespace outside strings and the order of separators: equal
/// for two answers about the same match that differ only in request-time
/// fields, different (but for a 2^-64 chance) when any other member,
/// value or key order differs. Text that is not a JSON object is hashed
/// whole.
std::uint64_t detail_fingerprint(std::string_view detail_json);

}  // namespace matchsync::sync
