// Plain reads from HTTP threads. Status, job lists, matches and stats carry
// no business rule, so they go straight to the stores instead of through the
// coordinator: each HTTP pool thread keeps its own long-lived connection
// (a connection costs ~37 ms to open), reconnecting after an outage.
#pragma once

#include <string>

#include "persistence/database.hpp"

namespace matchsync::http {

/// The calling thread's session for `url` (opened on first use).
db::session& read_session(const std::string& url);

}  // namespace matchsync::http
