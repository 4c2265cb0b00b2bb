// The upstream request budget of SPEC §2: every upstream request first takes
// a slot from it. This node-local implementation spreads requests evenly; a
// cluster-wide one implements the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "upstream/daily_quota.hpp"
#include "upstream/minute_rule.hpp"
#include "upstream/time_source.hpp"

namespace matchsync::upstream {

class cancel_token;

/// Grants permission to start one upstream request.
class rate_budget {
public:
  virtual ~rate_budget() = default;

  /// Blocks until the caller may start one request and returns true; returns
  /// false as soon as `token` is cancelled (also when it already is), in
  /// which case no request may be made.
  virtual bool acquire(cancel_token& token) = 0;

  /// The upstream said this clock minute's requests are spent
  /// (`X-Rate-Limit-Remaining-Minute: 0`, or a 429 without `Retry-After`):
  /// no request starts before the next clock minute. (Budgets of tests
  /// that count calls ignore it.)
  virtual void hold_until_next_minute() {}

  /// The daily quota every request also takes from once its slot came
  /// (SPEC §2); nullptr = none. Set before the first request.
  void set_daily(std::shared_ptr<daily_quota> quota) { daily_ = std::move(quota); }
  daily_quota* daily() const { return daily_.get(); }

private:
  std::shared_ptr<daily_quota> daily_;
};

/// Another budget's slots under a daily quota of its own: scheduled syncs
/// take their requests from the node's budget like every job, but count them
/// against the smaller share of the day that scheduled runs may use.
class shared_slots_budget final : public rate_budget {
public:
  explicit shared_slots_budget(std::shared_ptr<rate_budget> slots) : slots_(std::move(slots)) {}
  bool acquire(cancel_token& token) override { return slots_->acquire(token); }
  void hold_until_next_minute() override { slots_->hold_until_next_minute(); }

private:
  std::shared_ptr<rate_budget> slots_;
};

/// A budget of `per_minute` requests spread evenly over time: starts are at
/// least 60 s / per_minute apart, so in any window of T seconds at most
/// `per_minute * T / 60 + 1` requests start; and by the clock-minute rule
/// (minute_rule.hpp) at most `per_minute` start in one clock minute, none
/// near a minute's edges. 0 means unlimited (but a hold still holds).
///
/// Fair: each caller reserves the next free slot under a lock on arrival and
/// then waits for it, so callers start in arrival order (FIFO) and none
/// starves. A caller cancelled while waiting hands its slot back when no one
/// reserved after it; otherwise the slot stays unused, which errs on the safe
/// side of the budget.
class local_rate_budget final : public rate_budget {
public:
  using clock = time_source::clock;

  /// `time` defaults to the steady clock; tests pass a manual one. It must
  /// outlive the budget.
  explicit local_rate_budget(int per_minute,
                             time_source& time = steady_time_source());
  /// As above, with `extra_spacing` added between starts: the cluster budget
  /// hands slots to other nodes, whose network and timer jitter it absorbs.
  local_rate_budget(int per_minute, clock::duration extra_spacing,
                    time_source& time = steady_time_source());

  bool acquire(cancel_token& token) override;
  void hold_until_next_minute() override;

  /// Reserves the next free slot without waiting and returns its start time
  /// (now when unlimited and not held). The cluster budget hands such slots
  /// to workers.
  clock::time_point reserve();

  int per_minute() const { return per_minute_; }

  /// The spacing between two starts (zero when unlimited).
  clock::duration interval() const { return interval_; }

private:
  const int per_minute_;
  const clock::duration interval_;
  time_source& time_;
  std::mutex mutex_;
  const wall_duration margin_;
  // The earliest time the next reservation may start at; min() = never used.
  clock::time_point next_free_ = clock::time_point::min();
  // No start before this (the upstream's word); min() = no hold.
  clock::time_point held_until_ = clock::time_point::min();
  // Starts granted in the clock minute of the last one, and that count
  // before the last grant (restored when its slot is handed back).
  minute_tally tally_, tally_before_;
};

}  // namespace matchsync::upstream
