// An in-process matchsync node for the HTTP suites: a fresh database, the
// fake OpenDota, a real runtime (coordinator, job actors) and the real
// api_server on an ephemeral port; plus clients that speak to it the way a
// browser, curl or a hostile peer would.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/runtime.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "metrics/metrics.hpp"
#include "test/fake_opendota/fake_server.hpp"

namespace matchsync::test {

/// One HTTP answer. `status` 0: no answer at all (connection failed).
struct reply {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
  /// The body parsed as JSON (discarded when it is not JSON).
  nlohmann::json json() const;
  std::string header(const std::string& name) const;
  bool is_json() const;
};

/// An api_server on its own thread, stopped and joined on destruction.
class running_server {
public:
  running_server(const config& cfg, http::services svc);
  ~running_server();
  /// Stops the server and waits for run() to return; returns how long it took.
  std::chrono::milliseconds stop();
  int port() const { return port_; }
  http::api_server& server() { return *server_; }

private:
  std::unique_ptr<http::api_server> server_;
  std::thread thread_;
  int port_ = 0;
  bool stopped_ = false;
};

struct test_user {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string token;
};

class api_harness {
public:
  struct options {
    std::string database = "http_test";
    int sse_max_streams = 4;
    std::chrono::milliseconds heartbeat{10000};
    int upstream_latency_ms = 25;
    /// Runs on the fresh database (its URL) before the runtime starts:
    /// rows a previous life of the service left.
    std::function<void(const std::string&)> before_start;
  };

  explicit api_harness(options opts);
  ~api_harness();

  const config& cfg() const { return cfg_; }
  runtime& jobs() { return *runtime_; }
  metrics& stats() { return *stats_; }
  fake_opendota& upstream() { return *fake_; }
  running_server& node() { return *server_; }
  int port() const { return server_->port(); }

  /// A new user with a fresh API token (as `matchsync user add` makes).
  test_user add_user(std::int64_t account_id);
  /// A config like this node's (for extra servers on the same runtime).
  config node_config() const { return cfg_; }
  http::services node_services(std::chrono::milliseconds heartbeat) const;

  /// Waits until the user's job reaches a terminal state; its final JSON.
  /// Fails the test (BOOST_REQUIRE) when the deadline passes first.
  nlohmann::json wait_terminal(const test_user& u, std::int64_t job_id,
                               std::chrono::milliseconds deadline);
  /// Cancels whatever job the user has active (test cleanup).
  void cancel_active(const test_user& u);

private:
  config cfg_;
  std::unique_ptr<fake_opendota> fake_;
  std::shared_ptr<metrics> stats_;
  std::unique_ptr<runtime> runtime_;
  std::unique_ptr<running_server> server_;
  std::chrono::milliseconds heartbeat_;
};

/// A small client for one port (a new connection per request).
class client {
public:
  explicit client(int port, std::string token = "") : port_(port), token_(std::move(token)) {}
  reply get(const std::string& path) const;
  reply post(const std::string& path, const std::string& body = "",
             const std::string& content_type = "application/json") const;
  /// Any method, extra headers, a body (empty: none).
  reply send(const std::string& method, const std::string& path,
             const std::multimap<std::string, std::string>& headers,
             const std::string& body = "", const std::string& content_type = "") const;

private:
  int port_;
  std::string token_;
};

/// One HTTP/1.1 connection kept open across requests (as wrk or a browser
/// keeps it), for tests of keep-alive.
class keep_alive_client {
public:
  keep_alive_client(int port, std::string token);
  ~keep_alive_client();
  keep_alive_client(const keep_alive_client&) = delete;
  keep_alive_client& operator=(const keep_alive_client&) = delete;

  /// Sends a GET without waiting for the answer; false when the connection
  /// is gone.
  bool send_get(const std::string& path);
  /// The next answer on this connection; status 0 when the server closed
  /// the connection or `deadline` passed first.
  reply read(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  /// send_get + read.
  reply get(const std::string& path);

private:
  int fd_ = -1;
  std::string token_;
  std::string pending_;  // bytes read past the last answer
};

/// Sends `bytes` as they are on a new connection and reads the answer until
/// the server closes it or `deadline` passes. For requests no client library
/// would send.
reply raw_exchange(int port, const std::string& bytes,
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));

/// A live /sync/events reader on its own thread.
class event_client {
public:
  /// `offer_compression`: send Accept-Encoding as browsers do (an event
  /// stream must come uncompressed anyway; error bodies may be gzipped).
  event_client(int port, std::string token, bool offer_compression = true);
  ~event_client();

  struct event {
    std::string type;
    nlohmann::json data;
  };

  /// Waits until the stream's events satisfy `pred`; false at the deadline.
  bool wait_for(const std::function<bool(const std::vector<event>&)>& pred,
                std::chrono::milliseconds deadline);
  /// Waits until the raw text contains `needle`.
  bool wait_for_text(const std::string& needle, std::chrono::milliseconds deadline);
  std::vector<event> events() const;
  std::string text() const;
  /// The answer's status once headers came (0 before), and whether the
  /// stream has ended.
  int status() const;
  /// The answer's Content-Encoding ("" when none).
  std::string content_encoding() const;
  bool ended() const;
  /// Leaves: closes the connection.
  void close();

private:
  void parse_locked();
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  std::size_t parsed_ = 0;
  std::vector<event> events_;
  int status_ = 0;
  std::string content_encoding_;
  bool ended_ = false;
  bool closing_ = false;
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace matchsync::test
