// The demo upstream's data: a deterministic, realistic-looking match history
// for any account, as pure functions of (account, index, elapsed time).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace matchsync::upstream::demo {

/// Only the low 32 bits of an account id matter (Dota account ids are
/// 32-bit); an account is identified by them.
std::uint32_t account_key(std::int64_t account_id);

/// Matches the account has before any new ones: 300 + key % 100 (300..399).
int base_history_size(std::int64_t account_id);

/// Matches listed after `elapsed` since the demo started: the base history
/// plus one new match per `new_match_every` (0 = none ever).
int history_size(std::int64_t account_id, std::chrono::milliseconds elapsed,
                 std::chrono::milliseconds new_match_every);

/// The id of the account's match number `index` (0 = oldest):
/// `(index + 1) * 2^32 + key`. Unique across accounts, and growing with the
/// index, so the history is in match_id order like OpenDota's.
std::int64_t match_id(std::int64_t account_id, int index);

/// The (account key, index) a demo match id was made from, or nullopt.
struct match_owner {
  std::int64_t account_id;
  int index;
};
std::optional<match_owner> owner_of(std::int64_t match_id);

/// The list item for match `index`, as OpenDota's
/// /players/{id}/matches returns it.
nlohmann::json summary(std::int64_t account_id, int index);

/// The match object for match `index` (a few KB, ten players), consistent
/// with its summary.
nlohmann::json detail(std::int64_t account_id, int index);

/// One page of a history of `size` matches, newest first.
nlohmann::json page(std::int64_t account_id, int size, int limit, int offset);

}  // namespace matchsync::upstream::demo
