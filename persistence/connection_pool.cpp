#include "persistence/connection_pool.hpp"

#include <algorithm>

namespace matchsync::db {

connection_pool::connection_pool(pool_options options) : options_(std::move(options)) {
  options_.max_size = std::max(1, options_.max_size);
  options_.max_connecting = std::max(1, options_.max_connecting);
}

connection_pool::lease connection_pool::acquire() {
  return acquire(options_.acquire_timeout);
}

connection_pool::lease connection_pool::acquire(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  waiter me;
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(&me);
  for (;;) {
    if (queue_.front() == &me) {
      if (!idle_.empty()) {
        // The most recently returned: the warmest, and idle ones stay idle.
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        queue_.pop_front();
        wake_first();
        ++lent_;
        return lease(this, std::move(conn), false);
      }
      if (open_ + connecting_ < options_.max_size &&
          connecting_ < options_.max_connecting) {
        ++connecting_;
        queue_.pop_front();
        wake_first();
        lock.unlock();
        std::unique_ptr<pqxx::connection> conn;
        try {
          conn = connect(options_.url, options_.application_name);
        } catch (...) {
          lock.lock();
          --connecting_;
          wake_first();
          throw;
        }
        lock.lock();
        --connecting_;
        ++open_;
        ++opened_;
        ++lent_;
        wake_first();
        return lease(this, std::move(conn), true);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), &me));
      wake_first();
      throw domain_error(errc::storage_unavailable,
                         "database unavailable: no connection free within " +
                           std::to_string(timeout.count()) + " ms (all " +
                           std::to_string(options_.max_size) + " of the pool in use)");
    }
    me.turn.wait_until(lock, deadline);
  }
}

void connection_pool::with_connection(const std::function<void(pqxx::connection&)>& fn) {
  auto conn = acquire();
  try {
    translate_errors([&] { fn(*conn); });
  } catch (const domain_error& e) {
    if (e.code() == errc::storage_unavailable)
      conn.mark_broken();
    throw;
  }
}

connection_pool::counts connection_pool::snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  counts c;
  c.open = open_;
  c.idle = static_cast<int>(idle_.size());
  c.connecting = connecting_;
  c.waiting = static_cast<int>(queue_.size());
  c.opened = opened_;
  c.lent = lent_;
  return c;
}

void connection_pool::give_back(std::unique_ptr<pqxx::connection> conn, bool broken) {
  bool keep = !broken && conn->is_open();
  std::vector<std::unique_ptr<pqxx::connection>> condemned;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (keep) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
      // A connection lost to a restart of the server means the idle ones
      // were lost too; libpq only finds out at their next use, which would
      // fail the next callers one by one.
      if (broken) {
        open_ -= static_cast<int>(idle_.size());
        condemned.swap(idle_);
      }
    }
    wake_first();
  }
  // Dropped connections close here, outside the lock.
}

void connection_pool::wake_first() {
  if (!queue_.empty())
    queue_.front()->turn.notify_one();
}

connection_pool::lease::lease(lease&& other) noexcept
  : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_),
    fresh_(other.fresh_) {
  other.pool_ = nullptr;
}

connection_pool::lease& connection_pool::lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
    fresh_ = other.fresh_;
    other.pool_ = nullptr;
  }
  return *this;
}

connection_pool::lease::~lease() { release(); }

void connection_pool::lease::release() {
  if (pool_ && conn_)
    pool_->give_back(std::move(conn_), broken_);
  pool_ = nullptr;
}

}  // namespace matchsync::db
