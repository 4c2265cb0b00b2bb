// Threads for blocking work (libpqxx, upstream HTTP), so it never runs on
// CAF's cooperative scheduler threads. Each thread keeps its own long-lived
// database session. Free of CAF: results go back to actors by message.
#pragma once

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

  /// Starts `threads` threads; each opens its database session lazily.
  blocking_pool(std::string name, int threads, std::string db_url);
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues a task (FIFO). Tasks must not throw; anything they throw is
  /// logged and dropped.
  void submit(task t);

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

}  // namespace matchsync
