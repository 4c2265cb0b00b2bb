#include "actors/blocking_pool.hpp"

#include "core/log.hpp"

namespace matchsync {

blocking_pool::blocking_pool(std::string name, int threads, std::string db_url)
  : name_(std::move(name)), db_url_(std::move(db_url)) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this, i] { run(i); });
}

blocking_pool::~blocking_pool() { stop(); }

void blocking_pool::submit(task t) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    queue_.push_back(std::move(t));
  }
  ready_.notify_one();
}

void blocking_pool::submit(std::function<void()> work) {
  submit([work = std::move(work)](db::session&) { work(); });
}

void blocking_pool::stop() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopping_ && threads_.empty())
      return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void blocking_pool::run(int) {
  db::session session(db_url_, "matchsync-" + name_);
  // Connect now: a first task (a cancel, say) should not pay for it.
  try {
    if (!db_url_.empty())
      session.conn();
  } catch (const std::exception&) {
    // The database is away; the first task reconnects.
  }
  for (;;) {
    task t;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      t = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      t(session);
    } catch (const std::exception& e) {
      log::error("blocking task threw", {{"pool", name_}, {"error", e.what()}});
    }
  }
}

}  // namespace matchsync
