// Inside the HTTP layer: the route table's entry type and the state the
// routes share. Each routes_*.cpp contributes the routes of one area.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "http/auth.hpp"
#include "persistence/connection_pool.hpp"
#include "http/server.hpp"
#include "http/stream_quota.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace matchsync::http {

/// One request as a route sees it.
struct call {
  const httplib::Request& req;
  /// Who the request acts for (set on every route that needs a user).
  std::optional<principal> who;
  const principal& user() const { return *who; }
};

using route_handler = std::function<void(const call&, httplib::Response&)>;

/// One entry of the route table: the same data registers the route with
/// httplib, labels its metrics and is checked against openapi.json.
struct route {
  route_info info;
  route_handler handle;
};

/// State shared by the routes of one server.
struct api_context {
  config cfg;
  services svc;
  std::unique_ptr<authenticator> auth;
  std::atomic<bool> stopping{false};
  std::atomic<int> open_streams{0};
  /// Event streams per user and in all (SPEC §4: 4 per user).
  std::unique_ptr<stream_quota> streams;
  /// How long an event stream waits for a change before looking at the
  /// stop flag again (bounds how long stop() waits for streams).
  std::chrono::milliseconds stream_poll{200};

  /// Connections for plain reads, shared by the server's threads
  /// (connection_pool::read: a read on a connection that died is retried).
  std::unique_ptr<db::connection_pool> read_pool;
  db::connection_pool& reads() const { return *read_pool; }
};

/// A route whose handler is `f(ctx, call, response)`.
template <class F>
route make_route(const char* method, const char* pattern, const char* openapi_path,
                 bool needs_auth, api_context& ctx, F f) {
  return route{route_info{method, pattern, openapi_path, needs_auth},
               [&ctx, f](const call& c, httplib::Response& res) { f(ctx, c, res); }};
}

/// POST /sync/trigger, POST /sync/cancel/{job_id}, GET /sync/status,
/// /sync/jobs, /sync/jobs/{job_id}, /sync/events.
std::vector<route> sync_routes(api_context& ctx);
/// GET and PUT /sync/schedule.
std::vector<route> schedule_routes(api_context& ctx);
/// GET /matches, /matches/{match_id}, /stats/summary.
std::vector<route> match_routes(api_context& ctx);
/// GET /health, /ready, /metrics, /workers, /openapi.json.
std::vector<route> ops_routes(api_context& ctx);

}  // namespace matchsync::http
