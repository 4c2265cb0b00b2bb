// The HTTP front end: a thin cpp-httplib server. Routes parse and validate,
// ask the actors (or a store for plain reads) and map answers to JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace httplib {
class Server;
}

namespace matchsync {
class runtime;
class metrics;
}

namespace matchsync::http {

class elastic_pool;
class front_door;

/// What the routes need from the rest of the process.
struct services {
  /// Why the service is not ready (database down, schema pending), or nullopt.
  std::function<std::optional<std::string>()> readiness;
  /// The actor core: trigger, cancel, running jobs, the event bus.
  runtime* jobs = nullptr;
  std::shared_ptr<metrics> stats;
  /// When this process started serving (ISO-8601 UTC), for /workers;
  /// empty = when the server was constructed.
  std::string started_at;
  /// Silence after which an event stream writes a heartbeat comment
  /// (SPEC: at least every 15 s). Tests shorten it.
  std::chrono::milliseconds sse_heartbeat{10000};
};

/// One route of the API as registered and documented.
struct route_info {
  std::string method;        ///< "GET" or "POST"
  std::string pattern;       ///< httplib regex, e.g. "/sync/jobs/([^/]+)"
  std::string openapi_path;  ///< e.g. "/sync/jobs/{job_id}"; the metrics label
  bool needs_auth = true;    ///< false: public even with auth=token
};

struct api_context;

class api_server {
public:
  api_server(const config& cfg, services svc);
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Binds the configured host and port (0 = any free port); returns the port.
  /// Throws std::runtime_error when the address cannot be bound.
  int bind();
  /// Serves until stop(); call after bind(). Returns once in-flight requests
  /// have finished and open event streams have ended.
  void run();
  /// Stops accepting, ends open event streams and makes run() return
  /// (thread-safe).
  void stop();

  /// The route table (the dashboard's static files aside).
  std::vector<route_info> routes() const;
  /// Event streams open now.
  int open_streams() const;
  /// Database uses by the HTTP layer's reads so far (token lookups included).
  long database_reads() const;
  /// The threads the HTTP pool keeps (at least sse_max_streams + 4); it
  /// grows past them while more connections are open, each holding one.
  int pool_threads() const { return pool_threads_; }

private:
  void install_routes();
  void mount_static_files();
  std::unique_ptr<api_context> ctx_;
  std::unique_ptr<elastic_pool> pool_;
  std::unique_ptr<front_door> front_;
  std::unique_ptr<httplib::Server> server_;
  std::vector<route_info> routes_;
  int pool_threads_ = 0;
  std::atomic<bool> run_entered_{false};
  std::atomic<bool> run_returned_{false};
};

}  // namespace matchsync::http
