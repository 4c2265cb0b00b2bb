#include "actors/event_bus.hpp"

namespace matchsync {

namespace {
constexpr std::size_t max_backlog = 256;
}

std::optional<sync_job> job_listener::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty())
    return std::nullopt;
  auto job = std::move(queue_.front());
  queue_.pop_front();
  return job;
}

bool job_listener::closed() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return closed_;
}

void job_listener::push(const sync_job& job) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (closed_)
      return;
    if (queue_.size() >= max_backlog) {
      closed_ = true;
      queue_.clear();
    } else {
      queue_.push_back(job);
    }
  }
  changed_.notify_all();
}

void job_listener::close() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

std::shared_ptr<job_listener> event_bus::subscribe(std::int64_t user_id) {
  std::shared_ptr<job_listener> l(new job_listener(user_id));
  std::lock_guard<std::mutex> guard(mutex_);
  listeners_.insert(l);
  return l;
}

void event_bus::unsubscribe(const std::shared_ptr<job_listener>& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  listeners_.erase(l);
}

void event_bus::publish(const sync_job& job) {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& l : listeners_)
    if (l->user_id_ == job.user_id)
      l->push(job);
}

void event_bus::close_all() {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& l : listeners_)
    l->close();
}

std::size_t event_bus::listeners() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return listeners_.size();
}

}  // namespace matchsync
