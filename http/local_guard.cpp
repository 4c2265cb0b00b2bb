#include "http/local_guard.hpp"

#include <algorithm>
#include <cctype>

#include "http/ascii_lower.hpp"

namespace matchsync::http {

namespace {

// The host without its port: "[::1]:8080" -> "::1", "a.b:80" -> "a.b".
std::string host_name(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    auto close = host.find(']');
    if (close == std::string::npos)
      return "";
    auto rest = host.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1))
      return "";
    return host.substr(1, close - 1);
  }
  auto colon = host.find(':');
  if (colon != std::string::npos) {
    auto port = host.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit))
      return "";
    return host.substr(0, colon);
  }
  return host;
}

bool is_loopback(const std::string& name) {
  if (name == "localhost" || name == "::1")
    return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (name.rfind("127.", 0) != 0)
    return false;
  int dots = 0;
  for (char c : name) {
    if (c == '.')
      ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return dots == 3;
}

}  // namespace

bool is_json_content_type(const std::string& content_type) {
  auto type = ascii_lower(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), ::isspace), type.end());
  return type == "application/json";
}

bool is_own_host(const std::string& host, const std::vector<std::string>& own) {
  auto name = ascii_lower(host_name(host));
  if (name.empty())
    return false;
  if (is_loopback(name))
    return true;
  for (auto& o : own)
    if (!o.empty() && ascii_lower(o) == name && o != "0.0.0.0" && o != "::")
      return true;
  return false;
}

bool is_own_origin(const std::string& origin, const std::vector<std::string>& own) {
  auto o = ascii_lower(origin);
  std::string rest;
  if (o.rfind("http://", 0) == 0)
    rest = origin.substr(7);
  else if (o.rfind("https://", 0) == 0)
    rest = origin.substr(8);
  else
    return false;  // "null", file:, anything else
  if (rest.find('/') != std::string::npos)
    return false;
  return is_own_host(rest, own);
}

}  // namespace matchsync::http
