#include "upstream/cancel_token.hpp"

#include <algorithm>
#include <utility>

namespace matchsync::upstream {

cancel_token::registration::registration(registration&& other) noexcept
  : token_(std::exchange(other.token_, nullptr)),
    id_(std::exchange(other.id_, 0)) {}

cancel_token::registration&
cancel_token::registration::operator=(registration&& other) noexcept {
  if (this != &other) {
    reset();
    token_ = std::exchange(other.token_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

cancel_token::registration::~registration() {
  reset();
}

void cancel_token::registration::reset() {
  if (token_ != nullptr)
    token_->unregister(id_);
  token_ = nullptr;
  id_ = 0;
}

void cancel_token::cancel() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (cancelled_)
    return;
  cancelled_ = true;
  changed_.notify_all();
  // Run callbacks one by one without holding the lock, so a callback may take
  // other locks (or register/unregister) without deadlocking against us.
  while (!callbacks_.empty()) {
    auto it = callbacks_.begin();
    auto id = it->first;
    auto callback = std::move(it->second);
    callbacks_.erase(it);
    running_id_ = id;
    running_thread_ = std::this_thread::get_id();
    lock.unlock();
    callback();
    lock.lock();
    running_id_ = 0;
    changed_.notify_all();
  }
}

bool cancel_token::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

bool cancel_token::wait_for(std::chrono::milliseconds duration) {
  // Clamped so that an "effectively forever" duration cannot overflow the
  // deadline.
  constexpr auto longest = std::chrono::hours(24 * 365);
  return wait_until(clock::now() + std::min<std::chrono::milliseconds>(
                                     duration, longest));
}

bool cancel_token::wait_until(clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !changed_.wait_until(lock, deadline, [this] { return cancelled_; });
}

cancel_token::registration
cancel_token::on_cancel(std::function<void()> callback) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (cancelled_) {
    lock.unlock();
    callback();
    return {};
  }
  auto id = next_id_++;
  callbacks_.emplace(id, std::move(callback));
  return registration{this, id};
}

void cancel_token::unregister(std::uint64_t id) {
  std::unique_lock<std::mutex> lock(mutex_);
  callbacks_.erase(id);
  // A callback may unregister itself (same thread): waiting would deadlock.
  if (running_thread_ != std::this_thread::get_id())
    changed_.wait(lock, [&] { return running_id_ != id; });
}

}  // namespace matchsync::upstream
