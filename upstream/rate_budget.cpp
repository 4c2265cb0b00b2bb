#include "upstream/rate_budget.hpp"

#include <algorithm>
#include <stdexcept>

#include "upstream/cancel_token.hpp"

namespace matchsync::upstream {

namespace {

local_rate_budget::clock::duration interval_for(int per_minute) {
  if (per_minute < 0)
    throw std::invalid_argument("rate budget per minute must be >= 0");
  if (per_minute == 0)
    return local_rate_budget::clock::duration::zero();
  // Rounded up: a slightly longer spacing never breaks the budget, a shorter
  // one could.
  using duration = local_rate_budget::clock::duration;
  auto minute = std::chrono::duration_cast<duration>(std::chrono::minutes(1));
  return duration((minute.count() + per_minute - 1) / per_minute);
}

}  // namespace

local_rate_budget::local_rate_budget(int per_minute, time_source& time)
  : per_minute_(per_minute), interval_(interval_for(per_minute)), time_(time) {}

local_rate_budget::local_rate_budget(int per_minute, clock::duration extra_spacing,
                                     time_source& time)
  : per_minute_(per_minute),
    interval_(per_minute == 0 ? clock::duration::zero()
                              : interval_for(per_minute) + extra_spacing),
    time_(time) {}

bool local_rate_budget::acquire(cancel_token& token) {
  if (token.cancelled())
    return false;
  if (per_minute_ == 0)
    return true;
  auto slot = reserve();
  if (time_.sleep_until(slot, token))
    return true;
  std::lock_guard<std::mutex> lock(mutex_);
  // Hand the slot back if nobody queued behind it.
  if (next_free_ == slot + interval_)
    next_free_ = slot;
  return false;
}

local_rate_budget::clock::time_point local_rate_budget::reserve() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  if (per_minute_ == 0)
    return now;
  auto slot = std::max(now, next_free_);
  next_free_ = slot + interval_;
  return slot;
}

}  // namespace matchsync::upstream
