// The HTTP front end: a thin cpp-httplib server. Routes parse and validate,
// ask the actors (or a store for plain reads) and map answers to JSON.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace httplib {
class Server;
}

namespace matchsync {
class runtime;
class metrics;
}

namespace matchsync::http {

/// What the routes need from the rest of the process.
struct services {
  /// Why the service is not ready (database down, schema pending), or nullopt.
  std::function<std::optional<std::string>()> readiness;
  /// The actor core: trigger, cancel, running jobs, the event bus.
  runtime* jobs = nullptr;
  std::shared_ptr<metrics> stats;
  /// When this process started serving (ISO-8601 UTC), for /workers.
  std::string started_at;
};

class api_server {
public:
  api_server(const config& cfg, services svc);
  ~api_server();

  /// Binds the configured host and port (0 = any free port); returns the port.
  /// Throws std::runtime_error when the address cannot be bound.
  int bind();
  /// Serves until stop(); call after bind().
  void run();
  /// Stops accepting and ends run() (thread-safe).
  void stop();

private:
  void install_routes();
  config cfg_;
  services svc_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace matchsync::http
