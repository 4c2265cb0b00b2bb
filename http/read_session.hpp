// Plain reads from HTTP threads. Job lists, matches, stats and token lookups
// carry no business rule, so they go straight to the stores instead of
// through the coordinator, on a few long-lived connections shared by the
// server's threads (a connection costs ~37 ms to open; the pool threads
// grow with the clients' connections, the database's connections must not).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "persistence/database.hpp"

namespace matchsync::http {

/// At most `size` sessions to `url`, each opened on first use, reconnecting
/// after an outage; a caller waits for a free one at most `wait`.
class read_sessions {
public:
  read_sessions(std::string url, int size,
                std::chrono::milliseconds wait = std::chrono::seconds(5));

  /// Runs `fn(connection)` on a free session (see db::session::run).
  /// Throws domain_error(storage_unavailable) when none frees up in time.
  template <class F>
  auto run(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
    lease l(*this);
    return l.session->run(std::forward<F>(fn));
  }

  /// Sessions created so far (never more than `size`).
  int opened() const;

private:
  struct lease {
    explicit lease(read_sessions& owner);
    ~lease();
    read_sessions& owner;
    std::unique_ptr<db::session> session;
  };

  std::string url_;
  int size_;
  std::chrono::milliseconds wait_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<db::session>> idle_;
  int created_ = 0;
};

}  // namespace matchsync::http
