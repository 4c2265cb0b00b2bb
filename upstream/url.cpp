#include "upstream/url.hpp"

#include <algorithm>
#include <cctype>

namespace matchsync::upstream {

namespace {

std::optional<upstream_url> refuse(std::string* why, std::string reason) {
  if (why != nullptr)
    *why = std::move(reason);
  return std::nullopt;
}

bool valid_host_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string upstream_url::origin() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::optional<upstream_url> parse_upstream_url(const std::string& text,
                                               std::string* why) {
  upstream_url url;
  auto sep = text.find("://");
  if (sep == std::string::npos)
    return refuse(why, "expected http://host[:port] or https://host[:port]");
  url.scheme = text.substr(0, sep);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme != "http" && url.scheme != "https")
    return refuse(why, "scheme must be http or https, not '" + url.scheme + "'");
  auto rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string::npos)
    return refuse(why, "no query or fragment allowed");
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  url.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!url.base_path.empty() && url.base_path.back() == '/')
    url.base_path.pop_back();
  if (authority.find('@') != std::string::npos)
    return refuse(why, "no user info allowed");

  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return refuse(why, "unclosed '[' in host");
    url.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return refuse(why, "unexpected text after ']'");
      port_text = after.substr(1);
      if (port_text.empty())
        return refuse(why, "empty port");
    }
    if (url.host.empty() ||
        !std::all_of(url.host.begin(), url.host.end(), [](unsigned char c) {
          return std::isxdigit(c) || c == ':' || c == '.';
        }))
      return refuse(why, "invalid IPv6 host");
  } else {
    auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty())
        return refuse(why, "empty port");
    }
    if (url.host.empty())
      return refuse(why, "missing host");
    if (!std::all_of(url.host.begin(), url.host.end(), valid_host_char))
      return refuse(why, "invalid character in host '" + url.host + "'");
  }

  if (port_text.empty()) {
    url.port = url.scheme == "https" ? 443 : 80;
  } else {
    if (port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(),
                     [](unsigned char c) { return std::isdigit(c); }))
      return refuse(why, "invalid port '" + port_text + "'");
    url.port = std::stoi(port_text);
    if (url.port < 1 || url.port > 65535)
      return refuse(why, "port out of range: " + port_text);
  }
  return url;
}

bool valid_upstream_url(const std::string& text) {
  return text == demo_upstream || parse_upstream_url(text).has_value();
}

}  // namespace matchsync::upstream
