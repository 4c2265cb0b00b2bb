#include "app/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include "core/log.hpp"

namespace matchsync::app {

namespace {
void notify(const char* state) {
  // < 0: the manager's socket is gone or refused the message. The service
  // runs on; systemd then times the start out, which says more than we could.
  if (sd_notify(0, state) < 0)
    log::warn("could not notify the service manager", {{"state", state}});
}
}  // namespace

void notify_ready() { notify("READY=1"); }
void notify_stopping() { notify("STOPPING=1"); }

}  // namespace matchsync::app
