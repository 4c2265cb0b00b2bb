// Tells a service manager (systemd, Type=notify) where the process is: ready
// to serve, stopping. Does nothing when the process was not started by one
// (no NOTIFY_SOCKET), so the commands call it unconditionally.
#pragma once

namespace matchsync::app {

/// READY=1: startup is over (serve: HTTP bound; worker: schema checked).
void notify_ready();
/// STOPPING=1: a stop signal arrived; the graceful stop has begun.
void notify_stopping();

}  // namespace matchsync::app
