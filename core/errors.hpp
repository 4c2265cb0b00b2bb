// The one error vocabulary of the domain, shared by every layer: stores
// translate database errors into it, actors carry it, HTTP maps it to a status.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>

namespace matchsync {

enum class errc : std::uint8_t {
  none = 0,
  job_not_found,        ///< no such job for this user
  illegal_transition,   ///< the job rules refuse the event in this state
  conflict,             ///< the user already has an active job
  storage_unavailable,  ///< the database cannot be reached
  schema_outdated,      ///< migrations are pending
  invalid_input,        ///< a caller sent something malformed
  upstream_failed,      ///< the upstream failed for good
  fenced,               ///< a write from a stale owner or attempt was refused
  timeout,              ///< an actor did not answer in time
  internal,             ///< a bug
  try_later,            ///< not this time: ask again (a lease without a slot)
};

/// Stable lower-case name of an error code (for logs and messages).
const char* to_string(errc code);
inline std::ostream& operator<<(std::ostream& os, errc c) { return os << to_string(c); }

/// An error of the domain thrown across the persistence boundary.
class domain_error : public std::runtime_error {
public:
  domain_error(errc code, const std::string& what)
    : std::runtime_error(what), code_(code) {}
  errc code() const noexcept { return code_; }

private:
  errc code_;
};

}  // namespace matchsync
