#include "persistence/connection_string.hpp"

#include <vector>

namespace matchsync::db {

namespace {

bool is_url(const std::string& s) {
  return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

// Whether a key=value string or a URL's query sets `key` (at a word start,
// so "connect_timeout" is not found inside "xconnect_timeout").
bool sets(const std::string& s, const std::string& key) {
  for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + 1)) {
    char before = pos == 0 ? ' ' : s[pos - 1];
    if (before != ' ' && before != '\t' && before != '?' && before != '&')
      continue;
    auto after = s.find_first_not_of(" \t", pos + key.size());
    if (after != std::string::npos && s[after] == '=')
      return true;
  }
  return false;
}

}  // namespace

std::string bounded_connection_string(const std::string& url, const connection_bounds& b) {
  std::vector<std::pair<std::string, std::string>> add;
  auto want = [&](const char* key, int value) {
    if (!sets(url, key))
      add.emplace_back(key, std::to_string(value));
  };
  want("connect_timeout", b.connect_timeout_s);
  want("keepalives", 1);
  want("keepalives_idle", b.keepalives_idle_s);
  want("keepalives_interval", b.keepalives_interval_s);
  want("keepalives_count", b.keepalives_count);
  want("tcp_user_timeout", b.tcp_user_timeout_ms);
  // An `options` of the user's own is theirs: libpq takes one value only.
  std::vector<std::pair<std::string, int>> session;
  if (!sets(url, "options")) {
    if (b.statement_timeout_ms > 0 && url.find("statement_timeout") == std::string::npos)
      session.emplace_back("statement_timeout", b.statement_timeout_ms);
    if (b.idle_in_transaction_ms > 0 &&
        url.find("idle_in_transaction_session_timeout") == std::string::npos)
      session.emplace_back("idle_in_transaction_session_timeout", b.idle_in_transaction_ms);
  }
  std::string out = url;
  if (is_url(url)) {
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    for (auto& [k, v] : add) {
      out += sep + k + "=" + v;
      sep = '&';
    }
    for (std::size_t i = 0; i < session.size(); ++i) {
      out += (i == 0 ? sep + std::string("options=") : std::string("%20")) + "-c%20" +
             session[i].first + "%3D" + std::to_string(session[i].second);
    }
  } else {
    for (auto& [k, v] : add)
      out += " " + k + "=" + v;
    for (std::size_t i = 0; i < session.size(); ++i)
      out += (i == 0 ? std::string(" options='") : std::string(" ")) + "-c " +
             session[i].first + "=" + std::to_string(session[i].second);
    if (!session.empty())
      out += "'";
  }
  return out;
}

}  // namespace matchsync::db
