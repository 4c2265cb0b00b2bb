#include "test/fake_opendota/fake_world.hpp"

#include <algorithm>

namespace matchsync::fake {

namespace {

constexpr std::int64_t first_start_time = 1700000000;
constexpr const char* cut_name_placeholder = "@cut name@";

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int pick(std::int64_t match_id, int field, int lo, int hi) {
  auto r = mix(static_cast<std::uint64_t>(match_id) * 64 + field);
  return lo + static_cast<int>(r % static_cast<std::uint64_t>(hi - lo + 1));
}

int k_damage(std::int64_t match_id) { return pick(match_id, 90, 0, 5000); }

}  // namespace

std::int64_t match_id_of(std::int64_t account_id, std::int64_t index) {
  return account_id * max_history + index + 1;
}

std::int64_t fake_world::size(std::int64_t account_id) const {
  auto it = sizes_.find(account_id);
  if (it != sizes_.end())
    return it->second;
  return account_id < 0 ? 0 : account_id % 1000;
}

void fake_world::set_size(std::int64_t account_id, std::int64_t size) {
  sizes_[account_id] = std::clamp<std::int64_t>(size, 0, max_history);
}

std::vector<std::int64_t> fake_world::append(std::int64_t account_id,
                                             std::int64_t count) {
  auto before = size(account_id);
  set_size(account_id, before + count);
  std::vector<std::int64_t> ids;
  for (auto i = size(account_id) - 1; i >= before; --i)
    ids.push_back(match_id_of(account_id, i));
  return ids;
}

int fake_world::change(std::int64_t match_id) {
  return ++versions_[match_id];
}

void fake_world::set_no_details(std::int64_t match_id, bool no_details) {
  if (no_details)
    no_details_.insert(match_id);
  else
    no_details_.erase(match_id);
}

void fake_world::set_bad_escapes(std::int64_t match_id, bool bad) {
  if (bad)
    bad_escapes_.insert(match_id);
  else
    bad_escapes_.erase(match_id);
}

void fake_world::set_hidden(std::int64_t match_id, bool hidden) {
  if (hidden)
    hidden_.insert(match_id);
  else
    hidden_.erase(match_id);
}

void fake_world::set_unparsed(std::int64_t account_id, bool unparsed) {
  if (unparsed)
    unparsed_accounts_.insert(account_id);
  else
    unparsed_accounts_.erase(account_id);
}

int fake_world::parse(std::int64_t match_id) {
  parsed_.insert(match_id);
  return listed_version(match_id).get<int>();
}

bool fake_world::unparsed(std::int64_t match_id) const {
  return match_id >= 1 && parsed_.count(match_id) == 0 &&
         unparsed_accounts_.count((match_id - 1) / max_history) != 0;
}

nlohmann::json fake_world::listed_version(std::int64_t match_id) const {
  if (unparsed(match_id))
    return nullptr;
  // OpenDota's parser version (21 at the time of writing) once parsed.
  return (parsed_.count(match_id) != 0 ? 21 : 0) + version(match_id);
}

int fake_world::version(std::int64_t match_id) const {
  auto it = versions_.find(match_id);
  return it == versions_.end() ? 0 : it->second;
}

nlohmann::json fake_world::summary(std::int64_t account_id,
                                   std::int64_t index) const {
  auto id = match_id_of(account_id, index);
  auto v = version(id);
  int position = pick(id, 1, 0, 9);
  return {
    {"match_id", id},
    {"player_slot", position < 5 ? position : 128 + position - 5},
    {"radiant_win", pick(id, 2, 0, 1) == 1},
    {"duration", pick(id, 3, 900, 3900)},
    {"game_mode", pick(id, 4, 0, 1) == 0 ? 22 : 23},
    {"lobby_type", pick(id, 5, 0, 1) == 0 ? 0 : 7},
    {"hero_id", pick(id, 6, 1, 123)},
    {"start_time", first_start_time + index * 3600},
    {"version", listed_version(id)},
    {"kills", pick(id, 7, 0, 20) + v},
    {"deaths", pick(id, 8, 0, 15)},
    {"assists", pick(id, 9, 0, 30)},
    {"leaver_status", 0},
    {"party_size", pick(id, 10, 1, 5)},
  };
}

void fake_world::set_kind(std::int64_t account_id, account_kind kind) {
  kinds_[account_id] = kind;
}

account_kind fake_world::kind(std::int64_t account_id) const {
  auto it = kinds_.find(account_id);
  return it == kinds_.end() ? account_kind::normal : it->second;
}

std::optional<nlohmann::json> fake_world::player(std::int64_t account_id) const {
  auto k = kind(account_id);
  if (k == account_kind::unknown)
    return std::nullopt;
  // The fields a live answer has (odota/web's fixtures), trimmed.
  return nlohmann::json{
    {"profile",
     {{"account_id", account_id},
      {"personaname", "player " + std::to_string(account_id)},
      {"name", nullptr},
      {"plus", false},
      {"cheese", 0},
      {"steamid", std::to_string(76561197960265728LL + account_id)},
      {"avatar", "https://avatars.steamstatic.com/fake.jpg"},
      {"profileurl", "https://steamcommunity.com/profiles/" +
                       std::to_string(76561197960265728LL + account_id) + "/"},
      {"last_login", nullptr},
      {"loccountrycode", nullptr},
      {"is_contributor", false},
      {"is_subscriber", false},
      {"fh_unavailable", k == account_kind::hidden}}},
    {"rank_tier", nullptr},
    {"leaderboard_rank", nullptr}};
}

nlohmann::json fake_world::win_loss(std::int64_t account_id) const {
  std::int64_t win = 0, lose = 0;
  for (const auto& m : page(account_id, -1, 0)) {
    bool radiant = m["player_slot"].get<int>() < 128;
    (m["radiant_win"].get<bool>() == radiant ? win : lose) += 1;
  }
  return {{"win", win}, {"lose", lose}};
}

nlohmann::json fake_world::page(std::int64_t account_id, std::int64_t limit,
                                std::int64_t offset) const {
  auto out = nlohmann::json::array();
  // Private and unknown accounts list as empty, as OpenDota's do.
  if (kind(account_id) != account_kind::normal)
    return out;
  auto n = size(account_id);
  offset = std::max<std::int64_t>(offset, 0);
  // Hidden matches are skipped, as if OpenDota did not have them yet: the
  // offset counts listed matches only.
  std::int64_t skipped = 0;
  for (std::int64_t index = n - 1; index >= 0 && (limit < 0 || static_cast<std::int64_t>(out.size()) < limit); --index) {
    if (hidden_.count(match_id_of(account_id, index)) != 0)
      continue;
    if (skipped < offset) {
      ++skipped;
      continue;
    }
    out.push_back(summary(account_id, index));
  }
  return out;
}

std::optional<std::string> fake_world::detail_text(std::int64_t match_id,
                                                   std::uint64_t answer) const {
  if (match_id < 1 || no_details_.count(match_id) != 0)
    return std::nullopt;
  auto account_id = (match_id - 1) / max_history;
  auto index = (match_id - 1) % max_history;
  if (index >= size(account_id))
    return std::nullopt;
  auto s = summary(account_id, index);
  auto players = nlohmann::json::array();
  int position = s["player_slot"].get<int>();
  position = position < 128 ? position : position - 128 + 5;
  for (int p = 0; p < 10; ++p) {
    if (p == position) {
      players.push_back({{"account_id", account_id},
                         {"player_slot", s["player_slot"]},
                         {"hero_id", s["hero_id"]},
                         {"kills", s["kills"]},
                         {"deaths", s["deaths"]},
                         {"assists", s["assists"]},
                         {"gold_per_min", pick(match_id, 20, 250, 750)},
                         {"xp_per_min", pick(match_id, 21, 300, 850)}});
    } else {
      players.push_back({{"account_id", nullptr},
                         {"player_slot", p < 5 ? p : 128 + p - 5},
                         {"hero_id", pick(match_id, 30 + p, 1, 123)},
                         {"kills", pick(match_id, 40 + p, 0, 20)},
                         {"deaths", pick(match_id, 50 + p, 0, 15)},
                         {"assists", pick(match_id, 60 + p, 0, 30)},
                         {"gold_per_min", pick(match_id, 70 + p, 250, 750)},
                         {"xp_per_min", pick(match_id, 80 + p, 300, 850)}});
    }
  }
  if (request_time_fields_) {
    // As buildMatch.ts adds them: looked up (or computed against the
    // current benchmark epoch) when the request comes.
    auto a = static_cast<int>(answer % 1000);
    for (auto& p : players) {
      p["benchmarks"] = {{"gold_per_min", {{"raw", p["gold_per_min"]}, {"pct", a / 1000.0}}},
                         {"kills_per_min", {{"raw", 0.2}, {"pct", (a % 7) / 7.0}}}};
      p["personaname"] = "player name " + std::to_string(a);
      p["name"] = nullptr;
      p["last_login"] = "2026-12-03T10:" + std::to_string(10 + a % 50) + ":00.000Z";
      p["rank_tier"] = 11 + a % 70;
      p["computed_mmr"] = 2000 + a;
      p["is_subscriber"] = a % 2 == 1;
      p["is_contributor"] = false;
      p["cosmetics"] = nlohmann::json::array({{{"item_id", 4000 + a}}});
    }
  }
  bool parsed = parsed_.count(match_id) != 0;
  if (parsed) {
    // What a replay parse adds per player (odota/core's parsed match).
    for (auto& p : players) {
      auto purchases = nlohmann::json::array();
      for (int k = 0; k < 40; ++k)
        purchases.push_back({{"time", k * 60 - 90}, {"key", "item_" + std::to_string(k)}});
      p["purchase_log"] = std::move(purchases);
      p["lane_pos"] = {{"72", {{"80", 3}, {"81", 5}}}, {"74", {{"90", 1}}}};
      p["damage"] = {{"npc_dota_hero_axe", 1200 + k_damage(match_id)}, {"npc_dota_creep", 40000}};
    }
  }
  if (bad_escapes_.count(match_id) != 0)
    players[0]["personaname"] = cut_name_placeholder;
  nlohmann::json d = {
    {"match_id", match_id},
    {"version", s["version"]},
    {"start_time", s["start_time"]},
    {"duration", s["duration"]},
    {"radiant_win", s["radiant_win"]},
    {"game_mode", s["game_mode"]},
    {"lobby_type", s["lobby_type"]},
    {"players", std::move(players)},
  };
  if (request_time_fields_) {
    auto a = static_cast<int>(answer % 1000);
    d["od_data"] = {{"has_api", true}, {"has_gcdata", true}, {"has_parsed", false},
                    {"has_archive", a % 2 == 1}};
    d["league"] = {{"leagueid", 15000}, {"name", "League"}, {"tier", a % 2 ? "premium" : "professional"}};
    d["radiant_team"] = {{"team_id", 1}, {"name", "Radiant"}, {"rating", 1000 + a}};
    d["dire_team"] = {{"team_id", 2}, {"name", "Dire"}, {"wins", a}};
  }
  // Pad with chat lines up to the configured size: real details weigh tens
  // of KB, which matters for transfer times and storage. The lines are
  // written as text (what nlohmann would dump for them, keys sorted): this
  // is the fake's hottest path, and building then dumping hundreds of json
  // objects per detail cost it more CPU than the client it serves.
  auto text = d.dump();
  auto current = text.size();
  text.pop_back();  // the closing brace
  text += ",\"chat\":[";
  bool first = true;
  // A parsed detail is much bigger (real ones: 14 KB unparsed, 140-250 KB
  // parsed); here five times the configured size.
  auto target = static_cast<std::size_t>(detail_bytes_) * (parsed ? 5 : 1);
  for (int line = 0; current + 100 < target; ++line) {
    std::string entry = "{\"key\":\"gg wp line " + std::to_string(line) +
                        " of match " + std::to_string(match_id) +
                        "\",\"player_slot\":" + std::to_string(line % 10) +
                        ",\"time\":" + std::to_string(line * 7) +
                        ",\"type\":\"chat\"}";
    current += entry.size() + 1;
    if (!first)
      text += ',';
    first = false;
    text += entry;
  }
  text += "]}";
  if (bad_escapes_.count(match_id) != 0) {
    // Written as text: no JSON library emits a lone surrogate escape, Node
    // does. The cut name where a real one is, in a player's line.
    static const std::string placeholder = "\"" + std::string(cut_name_placeholder) + "\"";
    text.replace(text.find(placeholder), placeholder.size(), R"("ab\ud83d")");
    text.pop_back();
    text += R"(,"odd_text":{"chat":"gg\u0000wp","emoji":"\ud83d\ude00","escaped":"\\ud83d"}})";
  }
  return text;
}

std::optional<nlohmann::json> fake_world::detail(std::int64_t match_id) const {
  auto text = detail_text(match_id);
  if (!text)
    return std::nullopt;
  return nlohmann::json::parse(*text);
}

}  // namespace matchsync::fake
