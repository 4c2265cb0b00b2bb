// Job changes fanned out to live listeners (the /sync/events streams). The
// coordinator publishes; each HTTP stream thread waits on its own queue. Free
// of CAF so a blocking stream thread can wait on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "core/sync_job.hpp"

namespace matchsync {

class event_bus;

/// One listener: the changes of one user's jobs, in order.
class job_listener {
public:
  /// The next change, or nullopt when `timeout` passed or the bus closed.
  std::optional<sync_job> next(std::chrono::milliseconds timeout);
  bool closed() const;

private:
  friend class event_bus;
  explicit job_listener(std::int64_t user_id) : user_id_(user_id) {}
  void push(const sync_job& job);
  void close();

  std::int64_t user_id_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<sync_job> queue_;
  bool closed_ = false;
};

class event_bus {
public:
  /// A listener for `user_id`'s jobs; unsubscribe it when done.
  std::shared_ptr<job_listener> subscribe(std::int64_t user_id);
  void unsubscribe(const std::shared_ptr<job_listener>& l);
  /// Delivers a change to the listeners of the job's user (never blocks on
  /// a slow listener: a listener that falls 256 changes behind is closed).
  void publish(const sync_job& job);
  /// Wakes and closes every listener (shutdown).
  void close_all();
  std::size_t listeners() const;

private:
  mutable std::mutex mutex_;
  std::set<std::shared_ptr<job_listener>> listeners_;
};

}  // namespace matchsync
