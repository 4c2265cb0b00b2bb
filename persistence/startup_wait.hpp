// The rules of waiting for the database at start (app/wait_for_database):
// how long between attempts, and which failures no wait can mend.
#pragma once

#include <chrono>
#include <string>

namespace matchsync::db {

/// The wait before attempt `failures` + 1: 0.5 s, doubling, at most 5 s.
std::chrono::milliseconds startup_retry_delay(int failures);

/// Whether a failed first connection is the configuration's fault, not the
/// server's state: a refused password, a role, database or pg_hba entry
/// that does not exist. Waiting cannot mend those, so the process says so
/// at once (libpq's messages; libpqxx throws the same broken_connection
/// for these as for a server that is down).
bool startup_failure_is_permanent(const std::string& message);

}  // namespace matchsync::db
