// With MATCHSYNC_AUTH=none anyone who can reach the port acts as the user,
// and "anyone" includes every web page the user's browser opens: a page can
// POST to http://127.0.0.1:8080 (a no-cors form post, text/plain), and a
// DNS-rebinding page (evil.example resolving to 127.0.0.1) can read the
// answers. A JSON content type cannot be sent cross-origin without a CORS
// preflight (which we never grant), and a rebinding page's requests carry
// its own name in Host. Pure functions; server.cpp applies them.
#pragma once

#include <string>
#include <vector>

namespace matchsync::http {

/// Whether a Content-Type header names application/json (parameters such
/// as charset aside, case-insensitive).
bool is_json_content_type(const std::string& content_type);

/// Whether a Host header value (name or address, optional :port) is
/// loopback (localhost, 127.0.0.0/8, [::1]) or one of `own` (the service's
/// configured and local addresses).
bool is_own_host(const std::string& host, const std::vector<std::string>& own);

/// Whether an Origin header value (scheme://host[:port]) is one of ours by
/// the same rule; "null" and anything malformed is not.
bool is_own_origin(const std::string& origin, const std::vector<std::string>& own);

}  // namespace matchsync::http
