// A bounded set of PostgreSQL connections shared by many threads: at most
// `max_size` open, opened on demand and only a few at a time (a thousand
// callers arriving together never storm the server), reused, and dropped when
// found broken so that the next caller reconnects. Free of CAF.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "persistence/database.hpp"

namespace matchsync::db {

struct pool_options {
  std::string url;
  int max_size = 16;
  /// Connects in progress at once: starting backends is what the server
  /// does slowly, so a crowd of connects is what breaks it.
  int max_connecting = 2;
  /// How long acquire() waits for a connection before it gives up: long
  /// enough for a queue of short commits, short enough to notice a pool
  /// held by something stuck.
  std::chrono::milliseconds acquire_timeout{30000};
  /// Names the pool's sessions in pg_stat_activity.
  std::string application_name;
};

class connection_pool : public connection_source {
public:
  class lease;

  /// Opens nothing yet: connections are opened when first needed.
  explicit connection_pool(pool_options options);
  /// Every lease must have been returned.
  ~connection_pool() override = default;
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// A connection for the caller alone until the lease ends, waiting in
  /// turn (first come, first served) at most `timeout`. Throws
  /// domain_error(storage_unavailable) when the wait runs out or the
  /// connection cannot be opened.
  lease acquire(std::chrono::milliseconds timeout);
  lease acquire();

  /// Runs `fn` on a leased connection with error translation; a connection
  /// that turned out broken is dropped rather than lent again.
  void with_connection(const std::function<void(pqxx::connection&)>& fn) override;

  /// Runs the read `fn(connection)` and returns its result. A connection
  /// that died under it (the server restarted while it sat idle) is
  /// dropped, with every idle one, and the read runs once more on a new
  /// connection: a read is idempotent, and a caller should not see an
  /// outage that is already over.
  template <class F>
  auto read(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  struct counts {
    int open = 0;      ///< connections that exist, leased or idle
    int idle = 0;
    int connecting = 0;
    int waiting = 0;   ///< callers waiting in acquire()
    long opened = 0;   ///< connections ever opened
    long lent = 0;     ///< leases handed out (one per database use)
  };
  counts snapshot() const;

  const pool_options& options() const { return options_; }

private:
  struct waiter {
    std::condition_variable turn;
  };

  void give_back(std::unique_ptr<pqxx::connection> conn, bool broken);
  void wake_first();

  pool_options options_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::deque<waiter*> queue_;  // FIFO; only the first may take a connection
  int open_ = 0;
  int connecting_ = 0;
  long opened_ = 0;
  long lent_ = 0;
};

/// One connection on loan; returned to its pool when the lease ends.
class connection_pool::lease {
public:
  lease(lease&& other) noexcept;
  lease& operator=(lease&& other) noexcept;
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease();

  pqxx::connection& operator*() const { return *conn_; }
  pqxx::connection* operator->() const { return conn_.get(); }

  /// The connection is closed on return instead of being lent again, and
  /// so are the idle ones (they went through the same outage).
  void mark_broken() { broken_ = true; }
  /// Opened for this lease (not reused).
  bool fresh() const { return fresh_; }

private:
  friend class connection_pool;
  lease(connection_pool* pool, std::unique_ptr<pqxx::connection> conn, bool fresh)
    : pool_(pool), conn_(std::move(conn)), fresh_(fresh) {}
  void release();

  connection_pool* pool_ = nullptr;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
  bool fresh_ = false;
};

template <class F>
auto connection_pool::read(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = acquire();
    try {
      return translate_errors([&] { return fn(*conn); });
    } catch (const domain_error& e) {
      if (e.code() != errc::storage_unavailable)
        throw;
      conn.mark_broken();
      if (attempt > 0 || conn.fresh())
        throw;  // a new connection failed too: the outage is real
    }
  }
}

}  // namespace matchsync::db
