// The first connection of `serve` and `worker`. A database that cannot be
// reached yet is waited for, not a reason to exit: after a power cut the
// service and its database start together, a restarting server refuses for
// a moment, and a loaded one can take longer than the 3 s connect timeout
// to accept (seen: three workers in one CI run exited "timeout expired").
// SPEC §3: a database outage is retried with backoff; the service stays up.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/pqxx>

namespace matchsync::app {

/// How long the first connection is waited for before the process exits
/// (systemd's Restart= then takes over). Under the units' 60 s
/// TimeoutStartSec with room for the last attempt (3 s connect timeout, at
/// most 5 s between attempts): the process says why itself, rather than
/// being stopped for a start timeout.
inline constexpr std::chrono::seconds database_patience{45};

/// Connects to `url`. While the server cannot be reached
/// (errc::storage_unavailable) it logs a warning and tries again after
/// db::startup_retry_delay(), for at most `patience`; then that error is
/// thrown, as is any other at once, and one waiting cannot mend
/// (db::startup_failure_is_permanent: a wrong password says so at once). Returns nullptr when SIGTERM or SIGINT
/// arrived meanwhile (the caller blocked them; an unblocked one ends the
/// process as usual).
std::unique_ptr<pqxx::connection> connect_waiting(const std::string& url,
                                                  std::chrono::seconds patience);

}  // namespace matchsync::app
