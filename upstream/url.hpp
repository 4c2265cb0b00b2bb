// The upstream base URL setting, parsed and checked without any HTTP library
// so that config validation can use it too.
#pragma once

#include <optional>
#include <string>

namespace matchsync::upstream {

/// The value of MATCHSYNC_UPSTREAM_URL that selects the built-in demo.
inline constexpr const char* demo_upstream = "demo";

/// An http(s) base URL split into its parts.
struct upstream_url {
  std::string scheme;     ///< "http" or "https"
  std::string host;       ///< a name, an IPv4 address, or an IPv6 address
                          ///< without brackets
  int port = 0;           ///< explicit, or 80/443 from the scheme
  std::string base_path;  ///< "" or "/prefix" (no trailing slash); API paths
                          ///< are appended to it

  /// "scheme://host:port" (IPv6 hosts in brackets), as httplib::Client wants.
  std::string origin() const;
};

/// Parses `scheme://host[:port][/path]` with scheme http or https (case
/// insensitive), a non-empty host and a port in 1..65535. Query strings,
/// fragments and user info are refused. Returns nullopt when invalid;
/// `why` (if given) then receives a one-line reason.
std::optional<upstream_url> parse_upstream_url(const std::string& text,
                                               std::string* why = nullptr);

/// True for `demo` or a URL that `parse_upstream_url` accepts: every value
/// MATCHSYNC_UPSTREAM_URL may take.
bool valid_upstream_url(const std::string& text);

}  // namespace matchsync::upstream
