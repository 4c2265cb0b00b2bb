// The connections of the HTTP server before cpp-httplib serves them. httplib
// 0.11.4 gives each connection a pool thread from accept() to close, so a
// client that trickles its head (slowloris) or idles on keep-alive holds a
// thread, and a few hundred of them hold them all. Here one thread watches
// every waiting connection (epoll): it reads the request as it arrives,
// checks it with request_reader against SPEC §4's limits and its deadline,
// answers refusals itself, and hands a pool thread only a whole, checked
// request; after the answer the connection comes back to wait. When every
// pool thread is busy a new request gets a 503 at once instead of a queue.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/elastic_pool.hpp"
#include "http/request_reader.hpp"

namespace httplib {
class Server;
}

namespace matchsync::http {

struct front_options {
  request_limits limits;
  /// A request must arrive whole within this (from its first byte, or from
  /// the connection's accept for the first request).
  std::chrono::milliseconds request_deadline{10000};
  /// A kept-alive connection without a new request is closed after this.
  std::chrono::milliseconds keep_alive_idle{2000};
  /// Requests served on one connection before it is closed.
  std::size_t keep_alive_requests = 1000;
  /// Connections open at once (waiting or served); beyond, 503 and close.
  std::size_t max_connections = 4000;
  /// How long a write may wait for the client to take bytes.
  std::chrono::milliseconds write_timeout{5000};
  /// Headers every answer of the front's own carries.
  std::string extra_headers;
};

class front_door {
public:
  /// Serves one checked request (httplib's own parsing and routing) on a
  /// pool thread and writes the answer to `fd`; true to keep the connection.
  using serve_fn = std::function<bool(int fd, const std::string& request, bool last)>;

  front_door(front_options options, elastic_pool& pool);
  /// Calls shutdown().
  ~front_door();
  front_door(const front_door&) = delete;
  front_door& operator=(const front_door&) = delete;

  void set_server(serve_fn serve);
  /// Takes over an accepted connection (thread-safe, never blocks).
  void adopt(int fd);
  /// Closes every waiting connection and ends the watching thread; a
  /// connection being served is closed when its answer is out.
  void shutdown();

  struct counts {
    std::size_t open = 0;          ///< connections held now
    std::size_t refused_busy = 0;  ///< 503s because every thread was busy
    std::size_t refused_limits = 0;///< 4xx for a request over a limit
    std::size_t timed_out = 0;     ///< requests that missed their deadline
  };
  counts snapshot() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// An httplib::Server whose accepted connections go to `door`; `door`
/// serves their requests with this server's routes. The server's task
/// queue must run tasks inline (make_inline_queue).
std::unique_ptr<httplib::Server> make_guarded_server(front_door& door,
                                                     std::chrono::milliseconds write_timeout);

}  // namespace matchsync::http
