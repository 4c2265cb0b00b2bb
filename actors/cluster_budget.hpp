// The upstream budget of a worker node: slots of the one cluster budget,
// leased a few at a time from the coordinator, so all nodes together never
// exceed MATCHSYNC_UPSTREAM_RATE_PER_MINUTE. A node that dies loses only the
// slots it leased and did not use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <caf/all.hpp>

#include "upstream/rate_budget.hpp"

namespace matchsync {

class leased_rate_budget final : public upstream::rate_budget {
public:
  /// `lease_size` slots are asked for at a time.
  leased_rate_budget(caf::actor_system& sys, caf::actor coordinator, int lease_size = 2);

  /// Takes the next leased slot (leasing more when none is left) and waits
  /// for its time. One caller asks the coordinator at a time; the others
  /// wait for its answer. While the coordinator cannot be reached, waits
  /// and asks again. False once the token is cancelled: every wait here,
  /// the coordinator's answer included, hears the cancel within 20 ms.
  bool acquire(upstream::cancel_token& token) override;

  /// Drops the leased slots of this clock minute and starts nothing on this
  /// node before the next one. (The coordinator's other nodes keep their
  /// slots: a minute later the hold is over anyway.)
  void hold_until_next_minute() override;

private:
  /// Asks the coordinator for more slots (the mutex not held); false once
  /// the token is cancelled.
  bool lease(upstream::cancel_token& token);
  using clock = std::chrono::steady_clock;
  caf::actor_system& sys_;
  caf::actor coordinator_;
  int lease_size_;
  std::mutex mutex_;
  std::condition_variable leased_;  // a lease request ended
  bool leasing_ = false;            // a caller is asking the coordinator
  std::deque<clock::time_point> slots_;
  clock::time_point unlimited_until_{};
  clock::time_point held_until_{};
  clock::duration grace_{};
};

}  // namespace matchsync
