#include "sync/detail_fingerprint.hpp"

#include <algorithm>
#include <array>

namespace matchsync::sync {

namespace {

constexpr std::array<std::string_view, 5> top_request_time{
  "od_data", "league", "radiant_team", "dire_team", "metadata"};
constexpr std::array<std::string_view, 9> player_request_time{
  "benchmarks", "personaname", "name", "last_login", "rank_tier",
  "computed_mmr", "is_subscriber", "is_contributor", "cosmetics"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Where a value sits, as far as the ignored members care.
enum class place { top, players, player, other };

class hasher {
public:
  explicit hasher(std::string_view s) : s_(s) {}

  std::uint64_t run() {
    skip_ws();
    if (at_end() || s_[i_] != '{' || !value(place::top, 0)) {
      h_ = basis;
      feed(s_);
      return h_;
    }
    return h_;
  }

private:
  static constexpr std::uint64_t basis = 14695981039346656037ULL;
  static constexpr std::uint64_t prime = 1099511628211ULL;
  // JSON checked by the client nests at most 256 deep; anything deeper is
  // hashed whole rather than recursed into.
  static constexpr int max_depth = 300;

  bool at_end() const { return i_ >= s_.size(); }
  void skip_ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  void feed(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= prime;
    }
  }
  void feed(char c) { feed(std::string_view(&c, 1)); }

  // A string token, quotes included; nullopt-like empty view when unclosed.
  bool string_token(std::string_view& out) {
    auto start = i_++;
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '\\') {
        ++i_;
      } else if (c == '"') {
        out = s_.substr(start, i_ - start);
        return i_ <= s_.size();
      }
    }
    return false;
  }

  // One value at `where`; hashes what counts of it.
  bool value(place where, int depth) {
    if (depth > max_depth)
      return false;
    skip_ws();
    if (at_end())
      return false;
    char c = s_[i_];
    if (c == '{')
      return object(where, depth);
    if (c == '[')
      return array(where, depth);
    if (c == '"') {
      std::string_view token;
      if (!string_token(token))
        return false;
      feed(token);
      return true;
    }
    // A number or a literal: up to the next separator.
    auto start = i_;
    while (!at_end() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
           s_[i_] != '\t' && s_[i_] != '\n' && s_[i_] != '\r')
      ++i_;
    if (i_ == start)
      return false;
    feed(s_.substr(start, i_ - start));
    return true;
  }

  bool object(place where, int depth) {
    ++i_;
    feed('{');
    for (bool first = true;; first = false) {
      skip_ws();
      if (at_end())
        return false;
      if (s_[i_] == '}') {
        ++i_;
        feed('}');
        return true;
      }
      if (!first) {
        if (s_[i_] != ',')
          return false;
        ++i_;
        skip_ws();
      }
      std::string_view name;
      if (at_end() || s_[i_] != '"' || !string_token(name))
        return false;
      skip_ws();
      if (at_end() || s_[i_] != ':')
        return false;
      ++i_;
      auto bare = name.substr(1, name.size() - 2);
      bool ignored = (where == place::top && listed(top_request_time, bare)) ||
                     (where == place::player && listed(player_request_time, bare));
      if (ignored) {
        // Skipped whole: walked without hashing.
        auto saved = h_;
        if (!value(place::other, depth + 1))
          return false;
        h_ = saved;
        continue;
      }
      feed(name);
      feed(':');
      auto inner = where == place::top && bare == "players" ? place::players : place::other;
      if (!value(inner, depth + 1))
        return false;
      feed(';');  // each kept member ends so, whatever was skipped around it
    }
  }

  bool array(place where, int depth) {
    ++i_;
    feed('[');
    auto inner = where == place::players ? place::player : place::other;
    for (bool first = true;; first = false) {
      skip_ws();
      if (at_end())
        return false;
      if (s_[i_] == ']') {
        ++i_;
        feed(']');
        return true;
      }
      if (!first) {
        if (s_[i_] != ',')
          return false;
        ++i_;
      }
      if (!value(inner, depth + 1))
        return false;
      feed(',');
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::uint64_t h_ = basis;
};

}  // namespace

std::uint64_t detail_fingerprint(std::string_view detail_json) {
  return hasher(detail_json).run();
}

}  // namespace matchsync::sync
