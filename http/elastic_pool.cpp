#include "http/elastic_pool.hpp"

#include <algorithm>
#include <thread>

namespace matchsync::http {

elastic_pool::elastic_pool(std::size_t min, std::size_t max,
                           std::chrono::milliseconds idle_timeout)
  : min_(min), max_(std::max(min, max)), idle_timeout_(idle_timeout) {
  std::lock_guard<std::mutex> guard(mutex_);
  for (std::size_t i = 0; i < min_; ++i)
    start_thread();
  peak_ = threads_;
}

elastic_pool::~elastic_pool() { shutdown(); }

void elastic_pool::submit(std::function<void()> task) {
  std::lock_guard<std::mutex> guard(mutex_);
  tasks_.push_back(std::move(task));
  // Idle threads each take one queued task; beyond them, start one.
  if (tasks_.size() > idle_ && threads_ < max_ && !stopping_)
    start_thread();
  work_ready_.notify_one();
}

void elastic_pool::start_thread() {
  // Free from now on, not only once it waits: a thread that has not yet
  // reached its wait will still take a task, and counting it busy would
  // start a needless one (or refuse a task while one is about to be free).
  ++threads_;
  ++idle_;
  peak_ = std::max(peak_, threads_);
  std::thread([this] { work(); }).detach();
}

bool elastic_pool::try_submit(std::function<void()>& task) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stopping_ || (threads_ >= max_ && tasks_.size() >= idle_))
    return false;
  tasks_.push_back(std::move(task));
  if (tasks_.size() > idle_ && threads_ < max_)
    start_thread();
  work_ready_.notify_one();
  return true;
}

void elastic_pool::shutdown() {
  std::unique_lock<std::mutex> lock(mutex_);
  stopping_ = true;
  work_ready_.notify_all();
  all_ended_.wait(lock, [&] { return threads_ == 0; });
}

elastic_pool::counts elastic_pool::snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return counts{threads_, idle_, tasks_.size(), peak_};
}

void elastic_pool::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (tasks_.empty()) {
      if (stopping_)
        break;
      bool woken = work_ready_.wait_for(lock, idle_timeout_,
                                        [&] { return stopping_ || !tasks_.empty(); });
      if (!woken && threads_ > min_)
        break;  // not needed any more
      continue;
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    task();
    task = nullptr;  // whatever it holds goes before the pool may end
    lock.lock();
    ++idle_;
  }
  // Threads are detached: the last touch of the pool is under its lock, so
  // shutdown() returns only after every thread is done with it.
  --idle_;
  --threads_;
  if (threads_ == 0)
    all_ended_.notify_all();
}

}  // namespace matchsync::http
