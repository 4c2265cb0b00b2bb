// The text/event-stream framing of /sync/events (WHATWG HTML §9.2): one
// `job` event per change, a comment line as heartbeat.
#pragma once

#include <string>

#include "core/sync_job.hpp"

namespace matchsync::http {

/// "event: job\ndata: <SyncJob JSON>\n\n" (the JSON holds no raw newline).
std::string job_event(const sync_job& job);

/// The heartbeat: a comment the client ignores, written so that a client
/// that left is noticed by the failed write.
inline const char* heartbeat_comment() { return ": keepalive\n\n"; }

}  // namespace matchsync::http
