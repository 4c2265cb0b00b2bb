#include "upstream/demo_data.hpp"

#include <algorithm>
#include <array>

namespace matchsync::upstream::demo {

namespace {

// The newest match of the base history starts about here (2025-06-01 UTC),
// so that the data stays the same from one run to the next.
constexpr std::int64_t anchor_time = 1748736000;
constexpr std::int64_t average_gap_s = 14 * 3600;
constexpr std::int64_t anonymous_account = 4294967295;

// splitmix64: a cheap, well-mixed hash; every field is a pure function of
// (account, index, field).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t roll(std::int64_t account_id, int index, int field) {
  return mix(mix(account_key(account_id)) ^
             (static_cast<std::uint64_t>(index) << 8) ^
             static_cast<std::uint64_t>(field));
}

int pick(std::uint64_t r, int lo, int hi) {
  return lo + static_cast<int>(r % static_cast<std::uint64_t>(hi - lo + 1));
}

int hero_from(std::uint64_t r) {
  // Ids 24, 108 and 115..118 name no hero.
  int hero = pick(r, 1, 123);
  if (hero == 24 || hero == 108 || (hero >= 115 && hero <= 118))
    hero += 7;
  return hero;
}

int slot_from(int position) {
  return position < 5 ? position : 128 + (position - 5);
}

constexpr std::array<int, 6> game_modes{22, 22, 22, 23, 2, 4};

struct match_facts {
  std::int64_t start_time;
  int duration;
  bool radiant_win;
  int game_mode;
  int lobby_type;
  int position;  // 0..9 of the account's player
};

match_facts facts(std::int64_t account_id, int index) {
  match_facts f;
  auto base = base_history_size(account_id);
  f.start_time = anchor_time +
                 static_cast<std::int64_t>(index - base + 1) * average_gap_s +
                 static_cast<std::int64_t>(roll(account_id, index, 1) % 3600);
  f.duration = pick(roll(account_id, index, 2), 900, 3900);
  f.radiant_win = roll(account_id, index, 3) % 100 < 52;
  f.game_mode = game_modes[roll(account_id, index, 4) % game_modes.size()];
  f.lobby_type = roll(account_id, index, 5) % 3 == 0 ? 0 : 7;
  f.position = static_cast<int>(roll(account_id, index, 6) % 10);
  return f;
}

// One player's line; `position` 0..9, field numbers offset per position.
nlohmann::json player(std::int64_t account_id, int index, int position,
                      const match_facts& f) {
  auto r = [&](int field) { return roll(account_id, index, 100 + position * 40 + field); };
  bool radiant = position < 5;
  bool won = radiant == f.radiant_win;
  double minutes = f.duration / 60.0;
  int gpm = pick(r(1), 250, 750);
  int xpm = pick(r(2), 300, 850);
  nlohmann::json p = {
    {"account_id", position == f.position
                     ? static_cast<std::int64_t>(account_key(account_id))
                     : (r(3) % 3 == 0 ? anonymous_account
                                      : static_cast<std::int64_t>(r(4) % 400000000))},
    {"player_slot", slot_from(position)},
    {"hero_id", hero_from(r(5))},
    {"kills", pick(r(6), 0, 18)},
    {"deaths", pick(r(7), 0, 14)},
    {"assists", pick(r(8), 0, 28)},
    {"last_hits", static_cast<int>(pick(r(9), 20, 120) * minutes / 10)},
    {"denies", pick(r(10), 0, 25)},
    {"gold_per_min", gpm},
    {"xp_per_min", xpm},
    {"net_worth", static_cast<int>(gpm * minutes)},
    {"level", std::min(30, 6 + static_cast<int>(xpm * minutes / 1500))},
    {"hero_damage", pick(r(11), 3000, 45000)},
    {"tower_damage", pick(r(12), 0, 9000)},
    {"hero_healing", r(13) % 4 == 0 ? pick(r(14), 100, 9000) : 0},
    {"isRadiant", radiant},
    {"win", won ? 1 : 0},
    {"lose", won ? 0 : 1},
    {"leaver_status", 0},
  };
  for (int item = 0; item < 6; ++item)
    p["item_" + std::to_string(item)] = pick(r(20 + item), 0, 300);
  for (int item = 0; item < 3; ++item)
    p["backpack_" + std::to_string(item)] = pick(r(26 + item), 0, 300);
  p["item_neutral"] = pick(r(29), 0, 400);
  return p;
}

}  // namespace

std::uint32_t account_key(std::int64_t account_id) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(account_id) &
                                    0xffffffffULL);
}

int base_history_size(std::int64_t account_id) {
  return 300 + static_cast<int>(account_key(account_id) % 100);
}

int history_size(std::int64_t account_id, std::chrono::milliseconds elapsed,
                 std::chrono::milliseconds new_match_every) {
  auto size = base_history_size(account_id);
  if (new_match_every.count() > 0 && elapsed.count() > 0)
    size += static_cast<int>(elapsed / new_match_every);
  return size;
}

std::int64_t match_id(std::int64_t account_id, int index) {
  return (static_cast<std::int64_t>(index) + 1) * (std::int64_t{1} << 32) +
         account_key(account_id);
}

std::optional<match_owner> owner_of(std::int64_t id) {
  if (id < (std::int64_t{1} << 32))
    return std::nullopt;
  auto high = id >> 32;
  if (high - 1 > 1'000'000'000)
    return std::nullopt;
  return match_owner{id & 0xffffffffLL, static_cast<int>(high - 1)};
}

nlohmann::json summary(std::int64_t account_id, int index) {
  auto f = facts(account_id, index);
  auto me = player(account_id, index, f.position, f);
  return {
    {"match_id", match_id(account_id, index)},
    {"player_slot", me["player_slot"]},
    {"radiant_win", f.radiant_win},
    {"duration", f.duration},
    {"game_mode", f.game_mode},
    {"lobby_type", f.lobby_type},
    {"hero_id", me["hero_id"]},
    {"start_time", f.start_time},
    {"version", 21},
    {"kills", me["kills"]},
    {"deaths", me["deaths"]},
    {"assists", me["assists"]},
    {"average_rank", 11 + static_cast<int>(roll(account_id, index, 7) % 70)},
    {"leaver_status", 0},
    {"party_size", 1 + static_cast<int>(roll(account_id, index, 8) % 5)},
  };
}

nlohmann::json detail(std::int64_t account_id, int index) {
  auto f = facts(account_id, index);
  nlohmann::json players = nlohmann::json::array();
  int radiant_score = 0;
  int dire_score = 0;
  for (int position = 0; position < 10; ++position) {
    auto p = player(account_id, index, position, f);
    (position < 5 ? radiant_score : dire_score) += p["kills"].get<int>();
    players.push_back(std::move(p));
  }
  return {
    {"match_id", match_id(account_id, index)},
    {"start_time", f.start_time},
    {"duration", f.duration},
    {"radiant_win", f.radiant_win},
    {"game_mode", f.game_mode},
    {"lobby_type", f.lobby_type},
    {"radiant_score", radiant_score},
    {"dire_score", dire_score},
    {"first_blood_time", pick(roll(account_id, index, 9), 20, 400)},
    {"human_players", 10},
    {"leagueid", 0},
    {"cluster", pick(roll(account_id, index, 10), 111, 274)},
    {"region", pick(roll(account_id, index, 11), 1, 25)},
    {"patch", 56},
    {"version", 21},
    {"tower_status_radiant", f.radiant_win ? 1974 : 0},
    {"tower_status_dire", f.radiant_win ? 0 : 1974},
    {"barracks_status_radiant", f.radiant_win ? 63 : 0},
    {"barracks_status_dire", f.radiant_win ? 0 : 63},
    {"players", std::move(players)},
  };
}

nlohmann::json page(std::int64_t account_id, int size, int limit,
                    int offset) {
  auto out = nlohmann::json::array();
  offset = std::max(offset, 0);
  for (int i = 0; i < limit && offset + i < size; ++i)
    out.push_back(summary(account_id, size - 1 - offset - i));
  return out;
}

}  // namespace matchsync::upstream::demo
