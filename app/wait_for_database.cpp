#include "app/wait_for_database.hpp"

#include <signal.h>

#include <thread>

#include "core/errors.hpp"
#include "core/log.hpp"
#include "persistence/database.hpp"
#include "persistence/startup_wait.hpp"

namespace matchsync::app {

namespace {

// A stop signal waiting to be delivered: serve blocks SIGTERM and SIGINT
// before it connects, and its signal thread starts only afterwards.
bool stop_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0)
    return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

}  // namespace

std::unique_ptr<pqxx::connection> connect_waiting(const std::string& url,
                                                  std::chrono::seconds patience) {
  using clock = std::chrono::steady_clock;
  auto give_up_at = clock::now() + patience;
  for (int failures = 1;; ++failures) {
    try {
      auto conn = db::connect(url);
      if (failures > 1)
        log::info("database reachable", {{"attempts", std::to_string(failures)}});
      return conn;
    } catch (const domain_error& e) {
      if (e.code() != errc::storage_unavailable || clock::now() >= give_up_at ||
          db::startup_failure_is_permanent(e.what()))
        throw;
      auto delay = db::startup_retry_delay(failures);
      // libpq's message names the host or socket, never the password.
      log::warn("waiting for the database",
                {{"error", e.what()}, {"retry_in_ms", std::to_string(delay.count())}});
      for (auto end = clock::now() + delay; clock::now() < end;) {
        if (stop_pending())
          return nullptr;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (stop_pending())
        return nullptr;
    }
  }
}

}  // namespace matchsync::app
