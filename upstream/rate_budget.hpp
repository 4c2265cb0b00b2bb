// The upstream request budget of SPEC §2: every upstream request first takes
// a slot from it. This node-local implementation spreads requests evenly; a
// cluster-wide one implements the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "upstream/daily_quota.hpp"
#include "upstream/fair_share.hpp"
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

  /// As acquire, for the job `who` names (its id, and whether it declares
  /// itself small): a budget that shares its slots fairly between jobs
  /// (local_rate_budget, leased_budget) tells them apart by it; the others
  /// ignore it.
  virtual bool acquire_as(job_claim who, cancel_token& token) {
    (void)who;
    return acquire(token);
  }

  /// The upstream said this clock minute's requests are spent
  /// (`X-Rate-Limit-Remaining-Minute: 0`, or a 429 without `Retry-After`):
  /// no request starts before the next clock minute. (Budgets of tests
  /// that count calls ignore it.)
  virtual void hold_until_next_minute() {}

  /// The job key plain acquire claims as for `token` in a budget fair
  /// between jobs (a job's lanes share one token): top bit set, so never a
  /// job id.
  static std::uint64_t token_key(const cancel_token& token) {
    return reinterpret_cast<std::uintptr_t>(&token) | (std::uint64_t{1} << 63);
  }

  /// The daily quota every request also takes from once its slot came
  /// (SPEC §2); nullptr = none. Set before the first request.
  void set_daily(std::shared_ptr<daily_quota> quota) { daily_ = std::move(quota); }
  /// Virtual: a job's view of a budget (job_budget) counts on the budget's own.
  virtual daily_quota* daily() const { return daily_.get(); }

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
  bool acquire_as(job_claim who, cancel_token& token) override {
    return slots_->acquire_as(who, token);
  }
  void hold_until_next_minute() override { slots_->hold_until_next_minute(); }

private:
  std::shared_ptr<rate_budget> slots_;
};

/// One job's view of a budget: its requests take slots as that job, so a
/// fair budget tells its lanes from other jobs' (the clients call plain
/// acquire). Slots, holds and the daily quota are the budget's own.
class job_budget final : public rate_budget {
public:
  job_budget(std::shared_ptr<rate_budget> budget, job_claim who)
    : budget_(std::move(budget)), who_(who) {}
  bool acquire(cancel_token& token) override { return budget_->acquire_as(who_, token); }
  bool acquire_as(job_claim who, cancel_token& token) override {
    return budget_->acquire_as(who, token);
  }
  void hold_until_next_minute() override { budget_->hold_until_next_minute(); }
  daily_quota* daily() const override { return budget_->daily(); }

private:
  std::shared_ptr<rate_budget> budget_;
  const job_claim who_;
};

/// A budget of `per_minute` requests spread evenly over time: starts are at
/// least 60 s / per_minute apart, so in any window of T seconds at most
/// `per_minute * T / 60 + 1` requests start; and by the clock-minute rule
/// (minute_rule.hpp) at most `per_minute` start in one clock minute, none
/// near a minute's edges. 0 means unlimited (but a hold still holds).
///
/// Fair between jobs: no slot is promised on arrival. When the next slot's
/// time comes, it goes to the waiting job the rule of fair_share.hpp picks
/// (a small job's first requests ahead, three slots in four at most while
/// others wait; among the others the fewest grants in the last five
/// minutes, ties: waiting longest), and within a job to its oldest request. So a small job's few requests pass a
/// full sync's queue, and none starves. Plain acquire is a job of its own
/// per cancel token. A caller cancelled while waiting leaves at once; a slot
/// it had just been given stays unused, which errs on the safe side.
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
  bool acquire_as(job_claim who, cancel_token& token) override;
  void hold_until_next_minute() override;

  /// The job key reserve() claims as by default: the other nodes.
  static constexpr std::uint64_t lender = ~std::uint64_t{0};

  /// Takes a slot for `who` without waiting and returns its start time (now
  /// when unlimited and not held). The cluster budget hands such slots to
  /// workers, for the job a worker names (or as `lender`). Fair to this
  /// node's waiting jobs too: slots the rule ranks them first for go to
  /// them (promised now, started at their time), and the slot returned is
  /// the first one `who` wins, standing for `weight` jobs.
  clock::time_point reserve(job_claim who = job_claim(lender), int weight = 1);

  /// Slots for another node, as the cluster budget's lender hands them:
  /// delays from now (clocks of different machines do not compare; a delay
  /// does) and how late a slot may still be used (a slot used later would
  /// crowd the next one, which may belong to another node). Each slot is
  /// reserve()d as `who`, standing for `weight` jobs; `count` is capped at
  /// 16. Unlimited and not held: no delays (ask again later). Unlimited but
  /// held (a spent minute, SPEC §2): the slots start when the hold ends.
  struct lent_slots {
    std::vector<std::int64_t> delays_ms;
    std::int64_t grace_ms = 0;
  };
  lent_slots lend(std::int32_t count, job_claim who = job_claim(lender), int weight = 1);

  /// When the next slot could start (now at the earliest, the end of a
  /// hold at the latest of the two): the cluster's lease queue decides whom
  /// a slot goes to a little before this.
  clock::time_point next_start();

  /// One other node's lease request as the rule sees it: the job it names
  /// (or `lender`) and how many jobs it stands for.
  struct remote_claim {
    job_claim who;
    int weight = 1;
  };
  /// Of `claims` (oldest first, not empty), the index the rule of
  /// fair_share.hpp ranks first now, by the grants counted here for each
  /// job. Nothing is granted (lend() does that, against this node's own
  /// waiting jobs too).
  std::size_t rank_first(const std::vector<remote_claim>& claims);

  int per_minute() const { return per_minute_; }

  /// The spacing between two starts (zero when unlimited).
  clock::duration interval() const { return interval_; }

private:
  // One request waiting in acquire_as.
  struct waiter {
    job_claim who;
    clock::time_point since;                // arrived
    std::optional<clock::time_point> slot;  // given, to start then
  };

  // The next slot's start, placed by the clock-minute rule (its wall time
  // in `placed`): at or after `now`, or with `late_ok` its due time when a
  // request waited for it and it is at most the edge margin past. Under the
  // lock.
  clock::time_point next_slot(clock::time_point now, wall_duration& placed, bool late_ok);
  // Gives the slot at `slot` (wall `placed`) to `job`. Under the lock.
  void grant(std::uint64_t job, clock::time_point slot, wall_duration placed);
  // The waiting request whose job the rule ranks first among those without
  // a slot, or end(); `rival` (if given) competes as one more job, arriving
  // last. Under the lock.
  std::map<std::uint64_t, waiter>::iterator fairest_waiter(clock::time_point now,
                                                          const claimant* rival,
                                                          bool& rival_wins);

  const int per_minute_;
  const clock::duration interval_;
  time_source& time_;
  std::mutex mutex_;
  const wall_duration margin_;
  // The earliest time the next reservation may start at; min() = never used.
  clock::time_point next_free_ = clock::time_point::min();
  // No start before this (the upstream's word); min() = no hold.
  clock::time_point held_until_ = clock::time_point::min();
  // Starts granted in the clock minute of the last one.
  minute_tally tally_;
  // Waiting requests by arrival number (smaller waited longer).
  std::map<std::uint64_t, waiter> waiters_;
  std::uint64_t arrivals_ = 0;
  grant_log grants_;
  fair_rule rule_;
};

}  // namespace matchsync::upstream
