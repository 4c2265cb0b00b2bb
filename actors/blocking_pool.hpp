// Threads for blocking work (libpqxx, upstream HTTP), so it never runs on
// CAF's cooperative scheduler threads. Given a database URL, each thread
// keeps its own long-lived session (the control pool); without one, the
// threads hold no connection and their work borrows one where it needs it
// (the step pool). Free of CAF: results go back to actors by message.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "persistence/database.hpp"

namespace matchsync {

class blocking_pool {
public:
  using task = std::function<void(db::session&)>;

  /// Starts `threads` threads; with a `db_url` each opens its database
  /// session (named `name` in pg_stat_activity) at start, so that a first
  /// task does not pay for the connect.
  blocking_pool(std::string name, int threads, std::string db_url = {});
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues a task (FIFO). Tasks must not throw; anything they throw is
  /// logged and dropped. Only a pool with a database URL runs these.
  void submit(task t);
  /// Queues work that needs no session of the pool's own.
  void submit(std::function<void()> work);

  /// Finishes queued tasks and joins the threads.
  void stop();

  int size() const { return static_cast<int>(threads_.size()); }

private:
  void run(int index);

  std::string name_;
  std::string db_url_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// Threads of the step pool for `slots` jobs: one per slot up to a cap. A
/// step's thread waits for the upstream and its rate budget holding no
/// connection; beyond a few hundred, threads add memory rather than
/// throughput (the budget or the database's commits bound it first), and
/// the steps of further slots queue for a thread.
inline int step_threads(int slots) { return std::max(1, std::min(slots, 256)); }

}  // namespace matchsync
