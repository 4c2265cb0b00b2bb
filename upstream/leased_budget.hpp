// A budget of slots leased from elsewhere (a worker's share of the cluster
// budget). Free of CAF: when it runs short it calls `ask`, which must only
// hand the request on and return at once; whoever asked answers later with
// grant() or refuse(). Callers wait on a condition that their own cancel
// wakes, so no caller ever holds a lock, or a scheduler thread, while the
// lender is silent.
//
// Fair between this node's jobs as local_rate_budget is between its own:
// a leased slot is not promised on arrival; when its time comes it goes to
// the waiting job the rule of fair_share.hpp picks (a small job's first
// requests ahead, then fewest grants here in five minutes), and within a
// job to its oldest request. Each ask names the job the rule ranks first
// then, so the lender can weigh it against the cluster's other jobs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "upstream/fair_share.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync::upstream {

class leased_budget final : public rate_budget {
public:
  using clock = std::chrono::steady_clock;
  /// Asks the lender for `count` slots for `who`, the waiting job this
  /// node ranks first; must not block.
  using ask_fn = std::function<void(std::int32_t count, job_claim who)>;

  /// `lease_size` slots are asked for at a time. An ask unanswered after
  /// `ask_timeout` is asked again (the answer was lost with its link).
  leased_budget(ask_fn ask, int lease_size,
                clock::duration ask_timeout = std::chrono::seconds(6));

  /// Takes the next leased slot (asking for more when fewer are leased than
  /// wait) and waits for its time; false as soon as the token is cancelled.
  /// Plain acquire is a job of its own per cancel token.
  bool acquire(cancel_token& token) override;
  bool acquire_as(job_claim who, cancel_token& token) override;

  /// The lender's answer: slot delays from `at` (empty: no budget, ask again
  /// in 5 s) and how late a slot may still be used.
  void grant(const std::vector<std::int64_t>& delays_ms, std::int64_t grace_ms,
             clock::time_point at = clock::now());
  /// The upstream said its minute is spent (rate_budget::hold_until_next_minute):
  /// leased slots before `until` go unused, and no caller starts before it.
  void hold_until(clock::time_point until);

  /// The lender could not be reached: ask again after `retry`.
  void refuse(clock::duration retry = std::chrono::seconds(1),
              clock::time_point at = clock::now());

  /// Asks made so far (for tests).
  int asks() const;
  /// Requests waiting now (for tests).
  std::size_t waiting() const;

private:
  struct waiter {
    job_claim who;
    bool given = false;  // a due slot was handed to it
  };
  // The waiting requests the rule sees (one claimant per job, its oldest
  // request without a slot), in `oldest` their entries. Under the lock.
  std::vector<claimant> claimants(clock::time_point now,
                                  std::vector<std::map<std::uint64_t, waiter>::iterator>& oldest);

  ask_fn ask_;
  const int lease_size_;
  const clock::duration ask_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // slots granted or given, refused, or a cancel
  std::deque<clock::time_point> slots_;
  clock::time_point unlimited_until_{};
  clock::time_point held_until_{};    // no start before this (the upstream's word)
  clock::time_point asked_at_{};      // the ask in flight, if asking_
  clock::time_point not_before_{};    // after a refusal, the next ask
  bool asking_ = false;
  clock::duration grace_{};
  int asks_ = 0;
  // Waiting requests by arrival number (smaller waited longer).
  std::map<std::uint64_t, waiter> waiters_;
  std::uint64_t arrivals_ = 0;
  grant_log grants_;
  fair_rule rule_;
};

}  // namespace matchsync::upstream
