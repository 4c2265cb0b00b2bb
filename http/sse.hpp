// The text/event-stream framing of /sync/events (WHATWG HTML §9.2): one
// `job` event per change, a `wait` event when a rate limit holds a job back,
// a comment line as heartbeat.
#pragma once

#include <string>

#include "core/job_wait.hpp"
#include "core/sync_job.hpp"

namespace matchsync::http {

/// "event: job\ndata: <SyncJob JSON>\n\n" (the JSON holds no raw newline).
std::string job_event(const sync_job& job);

/// "event: wait\ndata: {"job_id", "reason", "seconds", "waits"}\n\n".
std::string wait_event(const job_wait& wait);

/// The heartbeat: a comment the client ignores, written so that a client
/// that left is noticed by the failed write.
inline const char* heartbeat_comment() { return ": keepalive\n\n"; }

}  // namespace matchsync::http
