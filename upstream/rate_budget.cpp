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

wall_duration margin_for(int per_minute, local_rate_budget::clock::duration interval) {
  // Unlimited: a hold still keeps a second off the boundary.
  if (per_minute == 0)
    return std::chrono::seconds(1);
  return edge_margin(std::chrono::duration_cast<wall_duration>(interval));
}

local_rate_budget::local_rate_budget(int per_minute, time_source& time)
  : local_rate_budget(per_minute, clock::duration::zero(), time) {}

local_rate_budget::local_rate_budget(int per_minute, clock::duration extra_spacing,
                                     time_source& time)
  : per_minute_(per_minute),
    interval_(per_minute == 0 ? clock::duration::zero()
                              : interval_for(per_minute) + extra_spacing),
    time_(time), margin_(margin_for(per_minute, interval_)) {}

bool local_rate_budget::acquire(cancel_token& token) {
  if (token.cancelled())
    return false;
  auto slot = reserve();
  if (time_.sleep_until(slot, token))
    return true;
  std::lock_guard<std::mutex> lock(mutex_);
  // Hand the slot back if nobody queued behind it.
  if (per_minute_ != 0 && next_free_ == slot + interval_) {
    next_free_ = slot;
    tally_ = tally_before_;
  }
  return false;
}

void local_rate_budget::hold_until_next_minute() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  auto wall = time_.wall_at(now);
  auto next = next_clock_minute(wall, margin_);
  held_until_ = std::max(held_until_, now + std::chrono::duration_cast<clock::duration>(next - wall));
}

local_rate_budget::clock::time_point local_rate_budget::reserve() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  auto slot = std::max({now, next_free_, held_until_});
  if (per_minute_ == 0)
    return slot;
  auto wall = time_.wall_at(slot);
  auto placed = place_in_clock_minute(wall, per_minute_, margin_, tally_);
  slot += std::chrono::duration_cast<clock::duration>(placed - wall);
  tally_before_ = tally_;
  tally_ = count_start(tally_, placed);
  next_free_ = slot + interval_;
  return slot;
}

}  // namespace matchsync::upstream
