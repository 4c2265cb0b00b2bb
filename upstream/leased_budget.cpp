#include "upstream/leased_budget.hpp"

#include "upstream/cancel_token.hpp"

#include <algorithm>

namespace matchsync::upstream {

leased_budget::leased_budget(ask_fn ask, int lease_size, clock::duration ask_timeout)
  : ask_(std::move(ask)), lease_size_(lease_size), ask_timeout_(ask_timeout) {}

bool leased_budget::acquire(cancel_token& token) {
  // Our cancel wakes us wherever we wait below.
  auto wake = token.on_cancel([this] {
    std::lock_guard<std::mutex> guard(mutex_);
    changed_.notify_all();
  });
  clock::time_point slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (token.cancelled())
        return false;
      auto now = clock::now();
      if (now < held_until_) {
        // Slots before the hold's end would start in the spent minute; the
        // ones after it are still good (unlimited or not, a hold holds).
        while (!slots_.empty() && slots_.front() < held_until_)
          slots_.pop_front();
        if (slots_.empty()) {
          changed_.wait_until(lock, held_until_);
          continue;
        }
      }
      if (now < unlimited_until_)
        return true;
      if (!slots_.empty()) {
        slot = slots_.front();
        slots_.pop_front();
        // A slot used late would crowd the next one, maybe another node's.
        if (now <= slot + grace_)
          break;
        continue;
      }
      if (asking_ && now - asked_at_ > ask_timeout_)
        asking_ = false;  // that answer is lost: ask again
      if (!asking_ && now >= not_before_) {
        asking_ = true;
        asked_at_ = now;
        ++asks_;
        ask_(static_cast<std::int32_t>(lease_size_));  // hands it on, returns at once
      }
      auto until = asking_ ? asked_at_ + ask_timeout_ : not_before_;
      changed_.wait_until(lock, until);
    }
  }
  return token.wait_until(slot);
}

void leased_budget::grant(const std::vector<std::int64_t>& delays_ms, std::int64_t grace_ms,
                          clock::time_point at) {
  std::lock_guard<std::mutex> guard(mutex_);
  asking_ = false;
  grace_ = std::chrono::milliseconds(grace_ms);
  if (delays_ms.empty())
    unlimited_until_ = at + std::chrono::seconds(5);  // no budget: ask now and then
  for (auto d : delays_ms)
    slots_.push_back(at + std::chrono::milliseconds(d));
  changed_.notify_all();
}

void leased_budget::hold_until(clock::time_point until) {
  std::lock_guard<std::mutex> guard(mutex_);
  held_until_ = std::max(held_until_, until);
  changed_.notify_all();
}

void leased_budget::refuse(clock::duration retry, clock::time_point at) {
  std::lock_guard<std::mutex> guard(mutex_);
  asking_ = false;
  not_before_ = at + retry;
  changed_.notify_all();
}

int leased_budget::asks() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return asks_;
}

}  // namespace matchsync::upstream
