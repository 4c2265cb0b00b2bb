// The upstream request budget of SPEC §2: every upstream request first takes
// a slot from it. This node-local implementation spreads requests evenly; a
// cluster-wide one implements the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

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
};

/// A budget of `per_minute` requests spread evenly over time: starts are at
/// least 60 s / per_minute apart, so in any window of T seconds at most
/// `per_minute * T / 60 + 1` requests start. 0 means unlimited.
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

  /// Reserves the next free slot without waiting and returns its start time
  /// (now when unlimited). The cluster budget hands such slots to workers.
  clock::time_point reserve();

  int per_minute() const { return per_minute_; }

  /// The spacing between two starts (zero when unlimited).
  clock::duration interval() const { return interval_; }

private:
  const int per_minute_;
  const clock::duration interval_;
  time_source& time_;
  std::mutex mutex_;
  // The earliest time the next reservation may start at; min() = never used.
  clock::time_point next_free_ = clock::time_point::min();
};

}  // namespace matchsync::upstream
