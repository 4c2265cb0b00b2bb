// Threads for the HTTP server that grow with the open connections. httplib
// serves a connection on one pool thread for as long as it stays open
// (keep-alive, event streams), so a fixed pool smaller than the clients'
// connections leaves the rest queued until they time out. This pool keeps
// `min` threads, starts another whenever a task would wait (up to `max`),
// and lets a thread beyond `min` end after `idle_timeout` without work.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace matchsync::http {

class elastic_pool {
public:
  elastic_pool(std::size_t min, std::size_t max, std::chrono::milliseconds idle_timeout);
  /// Calls shutdown().
  ~elastic_pool();
  elastic_pool(const elastic_pool&) = delete;
  elastic_pool& operator=(const elastic_pool&) = delete;

  /// Runs `task` on a pool thread; never blocks. At `max` threads, busy,
  /// the task waits for the first thread that frees up.
  void submit(std::function<void()> task);
  /// Runs `task` on a pool thread unless every one of `max` threads is
  /// busy (or the pool is stopping): then false, and the task is dropped,
  /// so that the caller can answer at once rather than queue.
  bool try_submit(std::function<void()>& task);
  /// Runs the tasks already queued, then waits until every thread ended.
  void shutdown();

  struct counts {
    std::size_t threads = 0;  ///< alive now
    std::size_t idle = 0;     ///< alive and not running a task
    std::size_t queued = 0;   ///< tasks no thread has taken yet
    std::size_t peak = 0;     ///< most threads alive at once
  };
  counts snapshot() const;

private:
  void work();
  /// Starts one thread, counted free until it takes a task (lock held).
  void start_thread();

  const std::size_t min_;
  const std::size_t max_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_ended_;
  std::deque<std::function<void()>> tasks_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
  std::size_t peak_ = 0;
  bool stopping_ = false;
};

}  // namespace matchsync::http
